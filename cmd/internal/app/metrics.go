package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/zedge-io/zedge/broker"
	"github.com/zedge-io/zedge/broker/httpapi"
	"github.com/zedge-io/zedge/broker/metrics"
	"github.com/zedge-io/zedge/store/badgerstore"
)

// DebugConfig holds the operator's diagnostics, off by default.
type DebugConfig struct {
	// PprofAddr is where net/http/pprof is served, on its own listener ("" = off). It exposes stack traces and
	// profiles of the process: bind it to loopback.
	PprofAddr string `yaml:"pprof_addr"`
}

// Validate checks the configuration.
func (c DebugConfig) Validate() error {
	if c.PprofAddr == "" {
		return nil
	}
	if _, _, err := net.SplitHostPort(c.PprofAddr); err != nil {
		return fmt.Errorf("debug.pprof_addr %q: %w", c.PprofAddr, err)
	}
	return nil
}

// commitStatser is the badger store's fsync-batching totals (memstore has none).
type commitStatser interface {
	CommitStats() (groups, records int64)
}

// expiryObservable is a store that reports expired messages (the engine-based stores: badger and memory).
type expiryObservable interface {
	SetExpiryObserver(fn func(project, queue string, n int))
}

// commitHistogrammer is the badger store's commit group sizes and write/fsync times.
type commitHistogrammer interface {
	CommitHistograms() (records, seconds badgerstore.Histogram)
}

// promHistogram adapts a store histogram to metrics.HistogramFunc.
func promHistogram(h badgerstore.Histogram) (uint64, float64, map[float64]uint64) {
	buckets := make(map[float64]uint64, len(h.UpperBounds))
	for i, b := range h.UpperBounds {
		buckets[b] = h.Buckets[i]
	}
	return h.Count, h.Sum, buckets
}

// newMetrics builds the Prometheus metrics when http.metrics is on: it registers the post observer on svc and
// exports the counters the guard, the bridge, the notifier, the websocket server and the store keep. It
// returns the HTTP options that observe requests and mount /metrics (none when metrics are off).
func (a *App) newMetrics(svc *broker.Service) []httpapi.Option {
	if !a.cfg.HTTP.Metrics {
		return nil
	}
	m := metrics.New()
	a.metrics = m
	svc.AddObserver(m)
	m.CounterMap("zedge_auth_refusals_total", "REST requests refused by the signature/token guard, by reason.",
		"reason", a.guard.Counters)
	if a.mqtt != nil {
		m.CounterMap("zedge_mqtt_events_total", "MQTT bridge events: connections accepted and refused by reason, "+
			"ACL denials, telemetry stored and refused, commands delivered and acknowledged.", "event", a.mqtt.Counters)
		b := a.mqtt
		m.GaugeFunc("zedge_mqtt_clients_connected", "MQTT clients connected now.",
			func() float64 { return float64(b.ClientsConnected()) })
	}
	if a.notifier != nil {
		n := a.notifier
		m.CounterMap("zedge_notifications_total", "Subscription notifications by outcome.", "outcome",
			func() map[string]uint64 {
				s := n.Stats()
				return map[string]uint64{"posts": s.Posts, "dropped": s.Dropped, "delivered": s.Delivered,
					"rejected": s.Rejected, "undeliverable": s.Undeliverable, "retries": s.Retries,
					"confirmations": s.Confirmations}
			})
	}
	if a.ws != nil {
		ws := a.ws
		m.GaugeFunc("zedge_websocket_sockets_open", "Websocket sockets open now.",
			func() float64 { return float64(ws.Stats().Open) })
		m.CounterMap("zedge_websocket_events_total", "Websocket frames and forced closes.", "event",
			func() map[string]uint64 {
				s := ws.Stats()
				return map[string]uint64{"frames_in": s.FramesIn, "frames_pushed": s.FramesPushed,
					"slow_closed": s.SlowClosed, "auth_expired": s.AuthExpired}
			})
	}
	if a.relay != nil {
		r := a.relay
		m.CounterMap("zedge_relay_events_total", "Cross-node relay (Redis store): frames published, received from "+
			"other nodes, and wake-ups lost or degraded by reason.", "event",
			func() map[string]uint64 {
				s := r.Stats()
				return map[string]uint64{"published": s.Published, "publish_dropped": s.PublishDropped,
					"publish_failed": s.PublishFailed, "received": s.Received, "decode_errors": s.DecodeErrors,
					"ids_only": s.IDsOnly, "wakes": s.Wakes, "fetch_failed": s.FetchFailed,
					"receive_errors": s.ReceiveErrors}
			})
	}
	if cs, ok := a.store.(commitStatser); ok {
		m.CounterFunc("zedge_store_commit_groups_total", "Store commit groups (one fsync each in sync durability).",
			func() float64 { g, _ := cs.CommitStats(); return float64(g) })
		m.CounterFunc("zedge_store_commit_records_total", "Records committed in those groups (records per fsync = "+
			"rate of this / rate of groups).", func() float64 { _, r := cs.CommitStats(); return float64(r) })
	}
	if eo, ok := a.store.(expiryObservable); ok {
		eo.SetExpiryObserver(m.MessagesExpired)
	}
	if ch, ok := a.store.(commitHistogrammer); ok {
		m.HistogramFunc("zedge_store_commit_records", "Records per committed store group (one fsync each in sync "+
			"durability; a group Badger split counts once).",
			func() (uint64, float64, map[float64]uint64) { r, _ := ch.CommitHistograms(); return promHistogram(r) })
		m.HistogramFunc("zedge_store_commit_duration_seconds", "Time to write one committed store group, its fsync "+
			"included in sync durability.",
			func() (uint64, float64, map[float64]uint64) { _, d := ch.CommitHistograms(); return promHistogram(d) })
	}
	return []httpapi.Option{httpapi.WithRequestObserver(m), httpapi.WithMetricsHandler(m.Handler())}
}

// listenPprof binds the pprof listener when debug.pprof_addr is set.
func (a *App) listenPprof() error {
	if a.cfg.Debug.PprofAddr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", a.cfg.Debug.PprofAddr)
	if err != nil {
		return fmt.Errorf("pprof listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	a.pprofLn = ln
	a.pprof = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	return nil
}

// servePprof serves the pprof listener, if any, until stopPprof.
func (a *App) servePprof() {
	if a.pprof == nil {
		return
	}
	a.log.Info("serving pprof", "addr", a.pprofLn.Addr().String())
	go func() {
		if err := a.pprof.Serve(a.pprofLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Warn("pprof server stopped", "err", err)
		}
	}()
}

// stopPprof closes the pprof server (profiles being taken are cut short: it is a debugging aid).
func (a *App) stopPprof(ctx context.Context) {
	if a.pprof != nil {
		_ = a.pprof.Shutdown(ctx)
		_ = a.pprof.Close()
	} else if a.pprofLn != nil {
		_ = a.pprofLn.Close()
	}
}

// PprofAddr is the pprof listener's address ("" when pprof is off).
func (a *App) PprofAddr() string {
	if a.pprofLn == nil {
		return ""
	}
	return a.pprofLn.Addr().String()
}

// Metrics is the app's metrics (nil when http.metrics is off).
func (a *App) Metrics() *metrics.Metrics { return a.metrics }
