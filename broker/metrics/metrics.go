package metrics

import (
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"

	"github.com/zedge-io/zedge/broker"
)

// MaxClasses bounds the queue classes counted separately; later classes are counted together as ClassOther.
const MaxClasses = 32

// Class labels that are not a queue-name prefix.
const (
	// ClassNone is the class of a queue whose name has no '-' (its whole name would be a per-queue label).
	ClassNone = "_none"
	// ClassOther collects the classes beyond MaxClasses.
	ClassOther = "_other"
)

// QueueClass is the class a queue is counted under: the prefix of its name before the first '-' ("sensor"
// for "sensor-a1"), or ClassNone when the name has no '-' or starts with one. It returns a substring of
// queue, so it does not allocate.
func QueueClass(queue string) string {
	i := strings.IndexByte(queue, '-')
	if i <= 0 {
		return ClassNone
	}
	return queue[:i]
}

// Metrics holds zedge's metrics and the registry they are exposed from.
type Metrics struct {
	reg *prometheus.Registry

	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	routes   atomic.Pointer[map[routeKey]routeMetrics]
	routesMu sync.Mutex // serialises the copy-on-write of routes (only when a new combination appears)

	posted, claimed, deleted, deadLettered, expired *prometheus.CounterVec
	classes                                         atomic.Pointer[map[string]classMetrics]
	classesMu                                       sync.Mutex
}

type routeKey struct {
	route, method string
	status        int
}

type routeMetrics struct {
	count   prometheus.Counter
	latency prometheus.Observer
}

type classMetrics struct {
	posted, claimed, deleted, deadLettered, expired prometheus.Counter
}

// New builds the metrics on a fresh registry, with the Go runtime and process collectors.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "zedge", Subsystem: "http", Name: "requests_total",
		Help: "REST requests answered, by route template, method and status.",
	}, []string{"route", "method", "status"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "zedge", Subsystem: "http", Name: "request_duration_seconds",
		Help:    "Time from routing a REST request to its response being ready, by route template and method.",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"route", "method"})
	msg := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "zedge", Subsystem: "messages",
			Name: name, Help: help}, []string{"queue_class"})
	}
	m.posted = msg("posted_total", "Messages posted, by any transport, per queue class (queue-name prefix before '-').")
	m.claimed = msg("claimed_total", "Messages claimed over REST, per queue class.")
	m.deleted = msg("deleted_total", "Messages deleted over REST (by id, by ids asked for, or popped), per queue class.")
	m.deadLettered = msg("dead_lettered_total",
		"Messages moved to a dead-letter queue after _max_claim_count claims, per class of the queue they left.")
	m.expired = msg("expired_total", "Messages that reached the end of their ttl unclaimed or claimed (dropped by "+
		"the store's reaper or by an operation on their queue), per queue class.")
	empty := map[routeKey]routeMetrics{}
	m.routes.Store(&empty)
	emptyC := map[string]classMetrics{}
	m.classes.Store(&emptyC)
	m.reg.MustRegister(m.requests, m.latency, m.posted, m.claimed, m.deleted, m.deadLettered, m.expired,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry is where the metrics live, for adding collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the exposition format, for mounting on a fasthttp router.
func (m *Metrics) Handler() fasthttp.RequestHandler {
	return fasthttpadaptor.NewFastHTTPHandler(promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
}

// ObserveRequest counts one REST request (httpapi.RequestObserver). route and method must come from a bounded
// set: httpapi passes route templates and constant method names.
func (m *Metrics) ObserveRequest(route, method string, status int, elapsed time.Duration) {
	k := routeKey{route, method, status}
	rm, ok := (*m.routes.Load())[k]
	if !ok {
		rm = m.addRoute(k)
	}
	rm.count.Inc()
	rm.latency.Observe(elapsed.Seconds())
}

func (m *Metrics) addRoute(k routeKey) routeMetrics {
	m.routesMu.Lock()
	defer m.routesMu.Unlock()
	cur := *m.routes.Load()
	if rm, ok := cur[k]; ok {
		return rm
	}
	rm := routeMetrics{
		count:   m.requests.WithLabelValues(k.route, k.method, strconv.Itoa(k.status)),
		latency: m.latency.WithLabelValues(k.route, k.method),
	}
	next := make(map[routeKey]routeMetrics, len(cur)+1)
	for key, v := range cur {
		next[key] = v
	}
	next[k] = rm
	m.routes.Store(&next)
	return rm
}

// class returns the counters of queue's class, creating them on first use while fewer than MaxClasses exist.
func (m *Metrics) class(queue string) classMetrics {
	c := QueueClass(queue)
	if cm, ok := (*m.classes.Load())[c]; ok {
		return cm
	}
	m.classesMu.Lock()
	defer m.classesMu.Unlock()
	cur := *m.classes.Load()
	if cm, ok := cur[c]; ok {
		return cm
	}
	if len(cur) >= MaxClasses {
		if cm, ok := cur[ClassOther]; ok {
			return cm
		}
		c = ClassOther
	}
	c = strings.Clone(c) // queue may be a view of a pooled buffer
	cm := classMetrics{posted: m.posted.WithLabelValues(c), claimed: m.claimed.WithLabelValues(c),
		deleted: m.deleted.WithLabelValues(c), deadLettered: m.deadLettered.WithLabelValues(c),
		expired: m.expired.WithLabelValues(c)}
	next := make(map[string]classMetrics, len(cur)+1)
	for key, v := range cur {
		next[key] = v
	}
	next[c] = cm
	m.classes.Store(&next)
	return cm
}

// MessagesPosted counts a post (broker.Observer).
func (m *Metrics) MessagesPosted(ev broker.PostEvent) {
	m.class(ev.Queue).posted.Add(float64(len(ev.Messages)))
}

// MessagesClaimed counts messages claimed over REST (httpapi.RequestObserver).
func (m *Metrics) MessagesClaimed(queue string, n int) { m.class(queue).claimed.Add(float64(n)) }

// MessagesDeleted counts messages deleted over REST (httpapi.RequestObserver).
func (m *Metrics) MessagesDeleted(queue string, n int) { m.class(queue).deleted.Add(float64(n)) }

// MessagesDeadLettered counts messages moved to a dead-letter queue (broker.DeadLetterObserver).
func (m *Metrics) MessagesDeadLettered(_, queue string, n int) {
	m.class(queue).deadLettered.Add(float64(n))
}

// MessagesExpired counts messages that expired (the store's expiry observer). The store calls it with a
// queue's lock held, so it only adds to a counter.
func (m *Metrics) MessagesExpired(_, queue string, n int) { m.class(queue).expired.Add(float64(n)) }
