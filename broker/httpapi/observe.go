package httpapi

import (
	"time"

	"github.com/valyala/fasthttp"
)

// RequestObserver is told about every request that went through the pipeline (not the websocket upgrade nor
// the /healthz and /readyz probes), and about the messages the REST API claimed or deleted. It is called on
// the request's goroutine, so it must be cheap and must not block: a metrics exporter increments atomics.
//
// route is the route's template ("/v2/queues/{queue_name}/messages"), or RouteUnmatched for a path that no
// route serves; method is one of the constant method names (MethodOther for an unusual one). Neither is ever
// taken from the raw request, so a label made from them has bounded cardinality.
type RequestObserver interface {
	ObserveRequest(route, method string, status int, elapsed time.Duration)
	// MessagesClaimed and MessagesDeleted report n messages claimed, or deleted (by ids, by pop or one by
	// one), in queue. The queue name is raw: the observer classifies it itself.
	MessagesClaimed(queue string, n int)
	MessagesDeleted(queue string, n int)
}

// WithRequestObserver installs a RequestObserver (default: none).
func WithRequestObserver(o RequestObserver) Option { return func(s *Server) { s.obs = o } }

// MetricsPath is where WithMetricsHandler mounts the metrics exposition.
const MetricsPath = "/metrics"

// WithMetricsHandler mounts h at GET /metrics, outside /v2 and outside the pipeline like /healthz: no Client-ID,
// no X-Project-ID and no token, in every auth mode (it shows counts, never message data; bind http.addr to
// loopback or filter the path at a proxy to keep it private). Requests to it are not observed.
func WithMetricsHandler(h fasthttp.RequestHandler) Option { return func(s *Server) { s.metrics = h } }

// RouteUnmatched is the route reported for paths that no route serves (answered 404 before any hook).
const RouteUnmatched = "unmatched"

// MethodOther is the method reported for a method outside the usual set.
const MethodOther = "OTHER"

// methodName maps the request's method to a constant string without allocating.
func methodName(m []byte) string {
	switch string(m) { // the compiler does not allocate for a switch on string(bytes)
	case fasthttp.MethodGet:
		return fasthttp.MethodGet
	case fasthttp.MethodHead:
		return fasthttp.MethodHead
	case fasthttp.MethodPost:
		return fasthttp.MethodPost
	case fasthttp.MethodPut:
		return fasthttp.MethodPut
	case fasthttp.MethodPatch:
		return fasthttp.MethodPatch
	case fasthttp.MethodDelete:
		return fasthttp.MethodDelete
	case fasthttp.MethodOptions:
		return fasthttp.MethodOptions
	}
	return MethodOther
}

// observe reports the finished request to the observer, if any.
func (s *Server) observe(r *request) {
	route := RouteUnmatched
	if r.rt != nil {
		route = r.rt.path
	}
	s.obs.ObserveRequest(route, methodName(r.ctx.Method()), r.ctx.Response.StatusCode(), time.Since(r.start))
}
