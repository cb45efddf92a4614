package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/zedge-io/zedge/broker"
	"github.com/zedge-io/zedge/broker/relay"
	"github.com/zedge-io/zedge/store/redisstore"
)

// newRelay connects this node to the other zedge nodes on the same Redis (store kind redis only): local posts
// and subscription changes are published on the deployment's channel, and other nodes' are handed to the
// MQTT bridge and the websocket transport. The notifier and the metrics observer are not given other nodes'
// posts: a webhook or email is sent, and a post counted, once, by the node that accepted it. An unreachable
// Redis fails New here as it fails the store.
func (a *App) newRelay(svc *broker.Service, log *slog.Logger) error {
	if a.cfg.Store.Kind != StoreRedis {
		return nil
	}
	rdb, err := newRedisClient(a.cfg.Store.Redis)
	if err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	rcfg := relay.DefaultConfig()
	rcfg.Channel = relayChannel(a.cfg.Store.Redis.KeyPrefix)
	rcfg.FetchBatch = a.cfg.Limits.MaxMessagesPerPage
	r, err := relay.New(rdb, rcfg, []broker.Observer{a.mqtt, a.ws}, svc, log)
	if err != nil {
		_ = rdb.Close()
		return fmt.Errorf("relay: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), a.cfg.Store.Redis.DialTimeout+rcfg.Timeout)
	defer cancel()
	if err := r.Start(ctx); err != nil {
		_ = rdb.Close()
		return err
	}
	svc.AddObserver(r)
	a.relay, a.relayRedis = r, rdb
	return nil
}

// relayChannel is the pub/sub channel of the deployment whose keys start with prefix.
func relayChannel(prefix string) string {
	if prefix == "" {
		return relay.DefaultChannel
	}
	return prefix + ":relay"
}

// newRedisClient opens a go-redis client for the relay with the store's settings (addresses, cluster,
// credentials, TLS, timeouts); the relay needs few connections, one of them its subscription.
func newRedisClient(c redisstore.Config) (redis.UniversalClient, error) {
	o := &redis.UniversalOptions{
		Addrs: c.Addrs, IsClusterMode: c.Cluster, Username: c.Username, Password: c.Password,
		DialTimeout: c.DialTimeout, ReadTimeout: c.ReadTimeout, WriteTimeout: c.WriteTimeout, PoolSize: 4,
		// Redis 7.0 has no CLIENT SETINFO; the store's client skips it too.
		DisableIdentity: true,
	}
	tc, err := c.TLSConfig()
	if err != nil {
		return nil, err
	}
	o.TLSConfig = tc
	return redis.NewUniversalClient(o), nil
}

// Relay is the cross-node relay (nil unless the store is Redis).
func (a *App) Relay() *relay.Relay { return a.relay }

// stopRelay publishes what the relay still holds (bounded by ctx) and closes its Redis connections.
func (a *App) stopRelay(ctx context.Context) error {
	if a.relay == nil {
		return nil
	}
	err := a.relay.Close(ctx)
	err = errors.Join(err, a.relayRedis.Close())
	a.relay = nil
	if err != nil {
		return fmt.Errorf("relay shutdown: %w", err)
	}
	return nil
}

// redisLog passes go-redis's own log lines (dial retries, pub/sub reconnects) to the app's logger at debug
// level: without it go-redis prints them on stderr itself, beside zedge's structured log, and what they say
// also reaches the operator as zedge's own errors (store unavailable, relay subscription lost).
type redisLog struct{ log *slog.Logger }

func (l redisLog) Printf(ctx context.Context, format string, v ...any) {
	l.log.Log(ctx, slog.LevelDebug, strings.TrimSpace(fmt.Sprintf(format, v...)))
}

// routeRedisLog installs redisLog. go-redis has one logger per process; the zedge binary runs one App.
func routeRedisLog(log *slog.Logger) {
	redis.SetLogger(redisLog{log.With("component", "go-redis")})
}
