package metrics

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"

	"github.com/zedge-io/zedge/broker"
	"github.com/zedge-io/zedge/store"
	"github.com/zedge-io/zedge/store/memstore"
)

func TestQueueClass(t *testing.T) {
	for _, c := range []struct{ queue, want string }{
		{"sensor-a1", "sensor"},
		{"sensor-a1-b2", "sensor"},
		{"sensors", ClassNone},
		{"-x", ClassNone},
		{"", ClassNone},
		{"a-", "a"},
		{"Fleet_7-truck", "Fleet_7"},
	} {
		if got := QueueClass(c.queue); got != c.want {
			t.Errorf("QueueClass(%q) = %q, want %q", c.queue, got, c.want)
		}
	}
}

func TestMessagesPerClassAreCapped(t *testing.T) {
	m := New()
	for i := range MaxClasses + 10 {
		m.MessagesPosted(broker.PostEvent{Queue: fmt.Sprintf("c%d-q", i), Messages: make([]broker.Message, 2)})
	}
	m.MessagesPosted(broker.PostEvent{Queue: "c0-other", Messages: make([]broker.Message, 1)})
	if n := testutil.CollectAndCount(m.posted); n != MaxClasses+1 {
		t.Fatalf("%d posted series, want %d", n, MaxClasses+1)
	}
	if got := testutil.ToFloat64(m.posted.WithLabelValues("c0")); got != 3 {
		t.Errorf("c0 posted %v, want 3", got)
	}
	// MaxClasses real classes, then _other for the 10 beyond them.
	if got := testutil.ToFloat64(m.posted.WithLabelValues(ClassOther)); got != 2*10 {
		t.Errorf("_other posted %v, want 20", got)
	}
	m.MessagesClaimed("c1-q", 4)
	m.MessagesDeleted("c1-zz", 5)
	if c, d := testutil.ToFloat64(m.claimed.WithLabelValues("c1")), testutil.ToFloat64(m.deleted.WithLabelValues("c1")); c != 4 || d != 5 {
		t.Errorf("c1 claimed %v deleted %v, want 4 and 5", c, d)
	}
}

func TestHandlerServesRequestsAndCollectors(t *testing.T) {
	m := New()
	m.ObserveRequest("/v2/queues/{queue_name}/messages", "POST", 201, time.Millisecond)
	m.ObserveRequest("/v2/queues/{queue_name}/messages", "POST", 201, 2*time.Millisecond)
	m.ObserveRequest("/v2/queues/{queue_name}/messages", "POST", 400, time.Millisecond)
	m.CounterMap("zedge_test_refusals_total", "test", "reason", func() map[string]uint64 {
		return map[string]uint64{"expired": 3, "bad_signature": 0}
	})
	m.GaugeFunc("zedge_test_open", "test", func() float64 { return 7 })

	ln := fasthttputil.NewInmemoryListener()
	defer ln.Close()
	go func() { _ = fasthttp.Serve(ln, m.Handler()) }()
	c := &fasthttp.Client{Dial: func(string) (net.Conn, error) { return ln.Dial() }}
	status, body, err := c.Get(nil, "http://metrics/metrics")
	if err != nil || status != 200 {
		t.Fatalf("GET /metrics: %d %v", status, err)
	}
	for _, want := range []string{
		`zedge_http_requests_total{method="POST",route="/v2/queues/{queue_name}/messages",status="201"} 2`,
		`zedge_http_requests_total{method="POST",route="/v2/queues/{queue_name}/messages",status="400"} 1`,
		`zedge_http_request_duration_seconds_count{method="POST",route="/v2/queues/{queue_name}/messages"} 3`,
		`zedge_test_refusals_total{reason="expired"} 3`,
		`zedge_test_refusals_total{reason="bad_signature"} 0`,
		"zedge_test_open 7",
		"go_goroutines ",
	} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("exposition lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(strings.Split(string(body), "\n")[:40])
	}
}

// ObserveRequest on a seen combination must not allocate: it runs on every REST request.
func TestObserveRequestDoesNotAllocate(t *testing.T) {
	m := New()
	m.ObserveRequest("/v2/queues/{queue_name}/messages", "POST", 201, time.Millisecond)
	m.MessagesPosted(broker.PostEvent{Queue: "sensor-a", Messages: make([]broker.Message, 1)})
	ev := broker.PostEvent{Queue: "sensor-b", Messages: make([]broker.Message, 1)}
	if n := testing.AllocsPerRun(100, func() {
		m.ObserveRequest("/v2/queues/{queue_name}/messages", "POST", 201, time.Millisecond)
		m.MessagesPosted(ev)
	}); n != 0 {
		t.Errorf("%v allocations per observed request", n)
	}
}

func BenchmarkObserve(b *testing.B) {
	m := New()
	ev := broker.PostEvent{Queue: "sensor-b", Messages: make([]broker.Message, 1)}
	b.Run("request", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m.ObserveRequest("/v2/queues/{queue_name}/messages", "POST", 201, time.Millisecond)
		}
	})
	b.Run("posted", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m.MessagesPosted(ev)
		}
	})
}

// The Service tells the metrics about dead-lettered messages when they are registered as its observer.
func TestDeadLetteredFromService(t *testing.T) {
	st := memstore.New()
	defer st.Close()
	svc, err := broker.New(st, broker.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	m := New()
	svc.AddObserver(m)
	ctx := context.Background()
	if _, err := svc.CreateQueue(ctx, "p", "jobs-a", []byte(`{"_max_claim_count": 1, "_dead_letter_queue": "dlq-a"}`)); err != nil {
		t.Fatal(err)
	}
	caller := broker.Caller{Project: "p"}
	body := []byte(`{"messages": [{"ttl": 60, "body": 1}]}`)
	if _, err := svc.PostMessages(ctx, caller, "jobs-a", body, len(body)); err != nil {
		t.Fatal(err)
	}
	c, msgs, err := svc.CreateClaim(ctx, "p", "jobs-a", broker.ClaimOptions{})
	if err != nil || len(msgs) != 1 {
		t.Fatalf("claim: %v %d", err, len(msgs))
	}
	if err := svc.ReleaseClaim(ctx, "p", "jobs-a", c.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.CreateClaim(ctx, "p", "jobs-a", broker.ClaimOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(m.deadLettered.WithLabelValues("jobs")); got != 1 {
		t.Errorf("dead-lettered for class jobs: %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.posted.WithLabelValues("jobs")); got != 1 {
		t.Errorf("posted for class jobs: %v, want 1", got)
	}
}

// The store's expiry observer feeds the expired counter per class.
func TestExpiredFromStore(t *testing.T) {
	st := memstore.New()
	defer st.Close()
	m := New()
	st.SetExpiryObserver(m.MessagesExpired)
	ctx := context.Background()
	now := time.Now()
	msgs := []store.NewMessage{{Body: []byte(`1`), TTL: time.Minute}, {Body: []byte(`2`), TTL: time.Minute}}
	if _, err := st.PostMessages(ctx, "p", "sensor-a", msgs, now); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ListMessages(ctx, "p", "sensor-a", store.MessageQuery{Limit: 10, Echo: true}, now.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(m.expired.WithLabelValues("sensor")); got != 2 {
		t.Errorf("expired for class sensor: %v, want 2", got)
	}
}

func TestHistogramFunc(t *testing.T) {
	m := New()
	m.HistogramFunc("zedge_test_batch", "test", func() (uint64, float64, map[float64]uint64) {
		return 3, 70, map[float64]uint64{8: 1, 32: 2, 64: 3}
	})
	out, err := testutil.CollectAndFormat(m.Registry(), expfmt.TypeTextPlain, "zedge_test_batch")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`zedge_test_batch_bucket{le="32"} 2`, `zedge_test_batch_bucket{le="+Inf"} 3`, "zedge_test_batch_sum 70"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("exposition lacks %q:\n%s", want, out)
		}
	}
}
