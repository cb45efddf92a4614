package redisstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
	"github.com/zedge-io/zedge/store"
)

// Store is the Redis-backed store.Store. It is safe for concurrent use; any number of zedge processes may share
// one Redis (or Redis Cluster) through it.
type Store struct {
	rdb     redis.UniversalClient
	cfg     Config
	prefix  string // cfg.KeyPrefix plus ':' when not empty
	log     *slog.Logger
	durable bool
	closed  atomic.Bool
}

var _ store.Store = (*Store)(nil)

// Open connects to Redis and checks that it answers (every master, for a cluster). An unreachable Redis gives
// an error wrapping store.ErrUnavailable that names the addresses.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "redisstore")
	tc, err := cfg.TLSConfig()
	if err != nil {
		return nil, err
	}
	var rdb redis.UniversalClient
	if cfg.Cluster {
		rdb = redis.NewClusterClient(&redis.ClusterOptions{
			Addrs: cfg.Addrs, Username: cfg.Username, Password: cfg.Password, TLSConfig: tc,
			PoolSize: cfg.PoolSize, DialTimeout: cfg.DialTimeout, ReadTimeout: cfg.ReadTimeout,
			WriteTimeout: cfg.WriteTimeout, MaxRetries: -1, DisableIdentity: true,
		})
	} else {
		rdb = redis.NewClient(&redis.Options{
			Addr: cfg.Addrs[0], Username: cfg.Username, Password: cfg.Password, TLSConfig: tc,
			PoolSize: cfg.PoolSize, DialTimeout: cfg.DialTimeout, ReadTimeout: cfg.ReadTimeout,
			WriteTimeout: cfg.WriteTimeout, MaxRetries: -1, DisableIdentity: true,
		})
	}
	s := &Store{rdb: rdb, cfg: cfg, log: log}
	if cfg.KeyPrefix != "" {
		s.prefix = cfg.KeyPrefix + ":"
	}
	where := strings.Join(cfg.Addrs, ",")
	if err := s.ping(ctx); err != nil {
		_ = rdb.Close()
		if strings.Contains(err.Error(), "cluster support disabled") {
			return nil, fmt.Errorf("redisstore: Redis at %s: the server is not in cluster mode: set cluster: false", where)
		}
		var refused redis.Error
		if errors.As(err, &refused) {
			// Redis answered, with an error (authentication, ACL, loading ...).
			return nil, fmt.Errorf("redisstore: Redis at %s refused the connection: %w: %w", where, store.ErrUnavailable, err)
		}
		return nil, fmt.Errorf("redisstore: Redis at %s is unreachable: %w: %w", where, store.ErrUnavailable, err)
	}
	if err := s.checkMode(ctx); err != nil {
		_ = rdb.Close()
		return nil, fmt.Errorf("redisstore: Redis at %s: %w", where, err)
	}
	s.durable = s.appendOnly(ctx)
	log.Info("store opened", "addrs", where, "cluster", cfg.Cluster, "aof", s.durable)
	return s, nil
}

// ping pings the server, or every master of a cluster.
func (s *Store) ping(ctx context.Context) error {
	if c, ok := s.rdb.(*redis.ClusterClient); ok {
		return c.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
			return n.Ping(ctx).Err()
		})
	}
	return s.rdb.Ping(ctx).Err()
}

// checkMode refuses a cluster node configured as a single server (every script would be redirected) and a
// single server configured as a cluster.
func (s *Store) checkMode(ctx context.Context) error {
	info, err := s.rdb.Info(ctx, "cluster").Result()
	if err != nil {
		return fmt.Errorf("%w: INFO cluster: %w", store.ErrUnavailable, err)
	}
	enabled := strings.Contains(info, "cluster_enabled:1")
	switch {
	case enabled && !s.cfg.Cluster:
		return errors.New("the server is a Redis Cluster node: set cluster: true")
	case !enabled && s.cfg.Cluster:
		return errors.New("the server is not in cluster mode: set cluster: false")
	}
	return nil
}

// appendOnly reports whether every master persists with an append-only file. CONFIG may be disabled (managed
// Redis); the store then reports itself as not durable, which is the safe claim.
func (s *Store) appendOnly(ctx context.Context) bool {
	check := func(ctx context.Context, c *redis.Client) error {
		v, err := c.ConfigGet(ctx, "appendonly").Result()
		if err != nil {
			return err
		}
		if v["appendonly"] != "yes" {
			return errors.New("appendonly is off")
		}
		return nil
	}
	var err error
	switch c := s.rdb.(type) {
	case *redis.ClusterClient:
		err = c.ForEachMaster(ctx, check)
	case *redis.Client:
		err = check(ctx, c)
	}
	if err != nil {
		s.log.Info("Redis does not persist every write to an append-only file: acknowledged writes can be lost on a Redis restart", "reason", err)
		return false
	}
	return true
}

// Capabilities implements store.Store. Durable is true when Redis persists with an append-only file
// (appendonly yes on every master when the store was opened).
func (s *Store) Capabilities() store.Capabilities {
	name := "redis"
	if s.cfg.Cluster {
		name = "redis-cluster"
	}
	return store.Capabilities{Name: name, Durable: s.durable}
}

// Health pings Redis (every master of a cluster).
func (s *Store) Health(ctx context.Context) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	return s.wrap(s.ping(ctx))
}

// Close closes the connections. Calls after Close fail with store.ErrClosed.
func (s *Store) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return store.ErrClosed
	}
	return s.rdb.Close()
}

// enter is the gate of every call.
func (s *Store) enter(ctx context.Context) error {
	if s.closed.Load() {
		return store.ErrClosed
	}
	return ctx.Err()
}

// wrap maps a Redis error to the store's sentinels.
func (s *Store) wrap(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, redis.ErrClosed) || s.closed.Load():
		return fmt.Errorf("%w: %w", store.ErrClosed, err)
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return err
	}
	return fmt.Errorf("%w: redis: %w", store.ErrUnavailable, err)
}

// run runs a script against the node holding keys[0] and returns its reply.
func (s *Store) run(ctx context.Context, sc *script, keys []string, args ...any) (any, error) {
	v, err := eval(ctx, s.rdb, sc, keys, args...).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	return v, s.wrap(err)
}
