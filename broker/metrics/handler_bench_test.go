package metrics

import (
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/zedge-io/zedge/broker"
	"github.com/zedge-io/zedge/broker/httpapi"
	"github.com/zedge-io/zedge/store/memstore"
)

// nopObserver stands for the post observers a running zedge always has (notifier, websocket push): with any
// observer the Service builds a PostEvent for each post, a cost that is not the metrics'.
type nopObserver struct{}

func (nopObserver) MessagesPosted(broker.PostEvent) {}

// BenchmarkPostHandler is the whole REST handler (router, hooks, Service, memstore, response) posting one
// message: bare (no post observer at all), observed (one no-op observer, as in the app, which always has
// the notifier's and the websocket server's) and with metrics on top (request counter, latency histogram,
// posted-per-class counter). metrics minus observed is what collection costs the POST path.
func BenchmarkPostHandler(b *testing.B) {
	post := []byte(`{"messages": [{"body": {"sensor": "t-101", "celsius": 21.5, "at": 1795400000}, "ttl": 300}]}`)
	for _, c := range []struct {
		name                  string
		observed, withMetrics bool
	}{{"bare", false, false}, {"observed", true, false}, {"metrics", true, true}} {
		withMetrics := c.withMetrics
		b.Run(c.name, func(b *testing.B) {
			st := memstore.New()
			b.Cleanup(func() { _ = st.Close() })
			svc, err := broker.New(st, broker.DefaultConfig())
			if err != nil {
				b.Fatal(err)
			}
			var opts []httpapi.Option
			if c.observed {
				svc.AddObserver(nopObserver{})
			}
			if withMetrics {
				m := New()
				svc.AddObserver(m)
				opts = append(opts, httpapi.WithRequestObserver(m), httpapi.WithMetricsHandler(m.Handler()))
			}
			srv, err := httpapi.New(svc, httpapi.DefaultConfig(), nil, opts...)
			if err != nil {
				b.Fatal(err)
			}
			h := srv.Handler()
			var req fasthttp.Request
			req.Header.SetMethod("POST")
			req.SetRequestURI("/v2/queues/bench-1/messages")
			req.Header.Set("Client-ID", "3381af92-2b9e-11e3-b191-71861300734c")
			req.Header.Set("X-Project-ID", "bench-project")
			req.Header.SetContentType("application/json")
			req.SetBody(post)
			ctx := new(fasthttp.RequestCtx)
			ctx.Init(&req, nil, nil)
			b.ReportAllocs()
			b.SetBytes(int64(len(post)))
			for b.Loop() {
				ctx.Response.Reset()
				ctx.ResetUserValues()
				h(ctx)
				if ctx.Response.StatusCode() != fasthttp.StatusCreated {
					b.Fatalf("status %d: %s", ctx.Response.StatusCode(), ctx.Response.Body())
				}
			}
		})
	}
}
