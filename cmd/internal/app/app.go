package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/zedge-io/zedge/bridge"
	"github.com/zedge-io/zedge/broker"
	"github.com/zedge-io/zedge/broker/httpapi"
	"github.com/zedge-io/zedge/broker/metrics"
	"github.com/zedge-io/zedge/broker/notify"
	"github.com/zedge-io/zedge/broker/relay"
	"github.com/zedge-io/zedge/broker/wsapi"
	"github.com/zedge-io/zedge/signing"
	"github.com/zedge-io/zedge/signing/revoke"
	"github.com/zedge-io/zedge/store"
	"github.com/zedge-io/zedge/store/badgerstore"
	"github.com/zedge-io/zedge/store/memstore"
	"github.com/zedge-io/zedge/store/redisstore"
)

// Options are the parts of a run that are not configuration.
type Options struct {
	// ReadyFile, when set, is written once every listener is bound and serving: a JSON object with the bound
	// addresses and the process id, e.g. {"http": "127.0.0.1:41234", "pid": 1234}. It is written atomically
	// (temporary file + rename) and removed when shutdown begins, so a waiting tool never reads half a file
	// and never mistakes a stopped zedge for a ready one.
	ReadyFile string
}

// App is a wired zedge: an open store, the broker service over it and a bound HTTP listener. Build it with New,
// serve with Run; Run closes everything when it returns.
type App struct {
	cfg     Config
	opts    Options
	log     *slog.Logger
	store   store.Store
	revoked *revoke.List
	guard   *httpapi.Guard
	http    *httpapi.Server
	httpLn  net.Listener
	mqtt    *bridge.Bridge
	ws      *wsapi.Server
	wsLn    net.Listener

	// revocations owns revoked and, with store kind redis, its Redis client.
	revocations *revocations

	notifier *notify.Notifier
	// relay and relayRedis carry wake-ups between the nodes sharing a Redis store (nil otherwise).
	relay      *relay.Relay
	relayRedis redis.UniversalClient
	metrics    *metrics.Metrics
	pprof      *http.Server
	pprofLn    net.Listener
}

// New opens the store, builds the service and the HTTP API and binds the HTTP listener, so that bind errors
// (port in use) and store errors (data directory locked by another zedge) surface here, before Run. On error
// everything already opened is closed again.
func New(cfg Config, log *slog.Logger, opts Options) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	// Each package adds its own component attribute to the logger it is given.
	a := &App{cfg: cfg, opts: opts, log: log.With("component", "app")}
	// Before the store loads its backlog, so the limit already paces the garbage collector then.
	if limit := applyMemoryLimit(cfg.MemoryLimit); limit != math.MaxInt64 {
		a.log.Info("memory limit", "bytes", limit)
	}
	st, err := openStore(cfg.Store, log)
	if err != nil {
		return nil, err
	}
	a.store = st

	svc, err := broker.New(st, broker.Config{Limits: cfg.Limits}, append(brokerOptions(), broker.WithLogger(log))...)
	if err != nil {
		return nil, a.abandon(fmt.Errorf("broker: %w", err))
	}
	a.revocations, err = openRevocations(cfg, log)
	if err != nil {
		return nil, a.abandon(fmt.Errorf("revocation list: %w", err))
	}
	a.revoked = a.revocations.list
	if cfg.Store.Kind == StoreRedis {
		if err := importRevocationFile(cfg, a.revoked, a.log); err != nil {
			return nil, a.abandon(fmt.Errorf("revocation list: %w", err))
		}
	}
	a.guard, err = httpapi.NewGuard(cfg.Auth, cfg.Signing, a.revoked, log)
	if err != nil {
		return nil, a.abandon(fmt.Errorf("auth: %w", err))
	}
	a.warnAuth()
	// The bridge is built before the notifier, which republishes mqtt: notifications through it; it starts
	// listening only after the HTTP listener is bound.
	if err := a.newMQTT(svc, log); err != nil {
		return nil, a.abandon(err)
	}
	if err := a.newNotifier(svc, log); err != nil {
		return nil, a.abandon(err)
	}
	if err := a.newWS(svc, log); err != nil {
		return nil, a.abandon(err)
	}
	if err := a.newRelay(svc, log); err != nil {
		return nil, a.abandon(err)
	}
	httpOpts := append(a.httpOptions(), a.newMetrics(svc)...)
	a.http, err = httpapi.New(svc, cfg.HTTP, log, append(httpOpts, httpapi.WithGuard(a.guard))...)
	if err != nil {
		return nil, a.abandon(fmt.Errorf("http api: %w", err))
	}
	a.httpLn, err = net.Listen("tcp", cfg.HTTP.Addr)
	if err != nil {
		return nil, a.abandon(fmt.Errorf("http listen: %w", err))
	}
	if err := a.listenPprof(); err != nil {
		return nil, a.abandon(err)
	}
	if err := a.mqtt.Start(); err != nil {
		return nil, a.abandon(fmt.Errorf("mqtt listen: %w", err))
	}
	return a, nil
}

// brokerOptions registers the subscriber schemes that zedge's own transports deliver: websocket sockets, and
// mqtt:<topic> republished through the MQTT bridge. They are accepted without appearing in Zaqar's
// "must be supported" error text.
func brokerOptions() []broker.Option {
	return []broker.Option{
		broker.WithTransportSubscriberScheme(wsapi.SubscriberScheme),
		broker.WithTransportSubscriberScheme(notify.MQTTScheme),
	}
}

// warnAuth logs the authentication settings that work but deserve an operator's second look.
func (a *App) warnAuth() {
	if ids := a.cfg.Signing.ShortURLKeys(); len(ids) > 0 {
		a.log.Warn("URL-signing secrets shorter than recommended: signed URLs verify, but a short secret is "+
			"easier to guess", "keys", ids, "recommended_bytes", signing.RecommendedURLKeyLength)
	}
	if a.cfg.Auth.Mode == httpapi.AuthNone {
		if host, _, err := net.SplitHostPort(a.cfg.HTTP.Addr); err == nil {
			if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
				a.log.Warn("auth.mode is none on a non-loopback address: whoever reaches it can act in any project; "+
					"set ZEDGE_AUTH=jwt", "addr", a.cfg.HTTP.Addr)
			}
		}
	}
}

// Guard is the HTTP API's authentication (its counters, for tests and a later metrics exporter).
func (a *App) Guard() *httpapi.Guard { return a.guard }

// abandon closes what New opened before failing with err.
func (a *App) abandon(err error) error {
	if a.mqtt != nil {
		_ = a.mqtt.Close()
	}
	if a.httpLn != nil {
		_ = a.httpLn.Close()
	}
	if a.pprofLn != nil {
		_ = a.pprofLn.Close()
	}
	if a.wsLn != nil {
		_ = a.wsLn.Close()
	}
	_ = a.stopNotifier(context.Background())
	_ = a.stopRelay(context.Background())
	_ = a.revocations.Close()
	if cerr := a.store.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("close store: %w", cerr))
	}
	return err
}

func openStore(c StoreConfig, log *slog.Logger) (store.Store, error) {
	switch c.Kind {
	case StoreMemory:
		return memstore.New(), nil
	case StoreBadger:
		st, err := badgerstore.Open(c.Badger, log)
		if err != nil {
			return nil, fmt.Errorf("open badger store in %s: %w", c.Badger.Dir, err)
		}
		return st, nil
	case StoreRedis:
		// Open pings (every master of a cluster); a Redis that does not answer fails the start with a message
		// that names its addresses.
		routeRedisLog(log)
		ctx, cancel := context.WithTimeout(context.Background(), 2*c.Redis.DialTimeout+time.Second)
		defer cancel()
		st, err := redisstore.Open(ctx, c.Redis, log)
		if err != nil {
			return nil, fmt.Errorf("open redis store: %w", err)
		}
		return st, nil
	default:
		return nil, fmt.Errorf("%w: store: unknown kind %q", ErrInvalidConfig, c.Kind)
	}
}

// HTTPAddr is the address the HTTP API listens on (with the real port when the configured one was 0).
func (a *App) HTTPAddr() string { return a.httpLn.Addr().String() }

// Store is the store the app serves from (tests use it to see that Run closed it).
func (a *App) Store() store.Store { return a.store }

// Run serves until ctx is done or a server fails, then shuts down in order: it stops accepting connections and
// lets in-flight requests finish (at most shutdown_timeout), then closes the store. It returns nil after a
// clean shutdown that ctx asked for. Run must be called once.
func (a *App) Run(ctx context.Context) error {
	var serveErr error
	serving := make(chan struct{})
	go func() {
		defer close(serving)
		serveErr = a.http.Serve(a.httpLn)
	}()
	wsServing := a.serveWS()
	a.servePprof()

	// Revocations written by another process (zedge revoke) take effect within a poll interval.
	a.revoked.Watch()
	var runErr error
	if err := a.announce(); err != nil {
		runErr = err
	} else {
		select {
		case <-ctx.Done():
			a.log.Info("zedge stopping", "reason", context.Cause(ctx), "drain_timeout", a.cfg.ShutdownTimeout)
		case <-serving:
			// Serve returns on its own only when the listener fails.
			if serveErr == nil {
				serveErr = errors.New("listener closed")
			}
			runErr = fmt.Errorf("http server stopped: %w", serveErr)
		case err := <-wsServing:
			runErr = fmt.Errorf("websocket server stopped: %w", err)
		}
	}
	err := errors.Join(runErr, a.shutdown(serving))
	if err != nil {
		a.log.Error("zedge stopped", "err", err)
	} else {
		a.log.Info("zedge stopped")
	}
	return err
}

// announce writes the ready file and logs the one start line.
func (a *App) announce() error {
	if a.opts.ReadyFile != "" {
		if err := writeReadyFile(a.opts.ReadyFile, map[string]string{"http": a.HTTPAddr(), "mqtt": a.MQTTAddr(), "ws": a.WSAddr()}); err != nil {
			return fmt.Errorf("ready file: %w", err)
		}
	}
	attrs := []any{"http", a.HTTPAddr(), "mqtt", a.MQTTAddr(), "ws", a.WSAddr(), "store", a.cfg.Store.Kind, "auth", a.cfg.Auth.Mode,
		"revocations", a.revoked.Where()}
	switch a.cfg.Store.Kind {
	case StoreBadger:
		attrs = append(attrs, "dir", a.cfg.Store.Badger.Dir, "durability", a.cfg.Store.Badger.Durability)
	case StoreRedis:
		attrs = append(attrs, "redis", strings.Join(a.cfg.Store.Redis.Addrs, ","), "cluster", a.cfg.Store.Redis.Cluster)
		if a.relay != nil {
			attrs = append(attrs, "node", a.relay.Node())
		}
	}
	a.log.Info("zedge ready", attrs...)
	return nil
}

// shutdown stops the HTTP server, waits until Serve has returned, stops MQTT, then closes the store. The store is closed
// even when the HTTP drain times out: requests still running then fail, but acknowledged data is flushed.
func (a *App) shutdown(serving <-chan struct{}) error {
	var errs []error
	if a.opts.ReadyFile != "" {
		if err := os.Remove(a.opts.ReadyFile); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove ready file: %w", err))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	if err := a.http.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("http shutdown: %w", err))
	}
	// A Shutdown that ran before Serve took the listener has nothing to close; closing the listener here
	// ends such a Serve too.
	if err := a.httpLn.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		errs = append(errs, fmt.Errorf("close http listener: %w", err))
	}
	<-serving
	a.stopPprof(ctx)
	// Sockets (of both listeners) are closed after the HTTP drain; their socket subscriptions are deleted from
	// the store, which is still open.
	if err := a.stopWS(ctx); err != nil {
		errs = append(errs, err)
	}
	// MQTT clients are served until the HTTP drain is over; the store stays open until MQTT has stopped.
	if err := a.stopMQTT(ctx); err != nil {
		errs = append(errs, err)
	}
	// Nothing posts any more: queued notifications go out (within the drain timeout) while the store is open.
	if err := a.stopNotifier(ctx); err != nil {
		errs = append(errs, err)
	}
	// Wake-ups of the last posts reach the other nodes before this node lets go of Redis.
	if err := a.stopRelay(ctx); err != nil {
		errs = append(errs, err)
	}
	if err := a.revocations.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close revocation list: %w", err))
	}
	if err := a.store.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close store: %w", err))
	}
	return errors.Join(errs...)
}

// writeReadyFile writes the ready file atomically: readers see either no file or the whole object, which holds
// the bound address of each listener by name and "pid".
func writeReadyFile(path string, addrs map[string]string) error {
	obj := make(map[string]any, len(addrs)+1)
	for k, v := range addrs {
		obj[k] = v
	}
	obj["pid"] = os.Getpid()
	data, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(append(data, '\n'))
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}
