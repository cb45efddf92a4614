package notify

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zedge-io/zedge/broker"
	"github.com/zedge-io/zedge/signing"
	"github.com/zedge-io/zedge/store/memstore"
)

const project = "proj-n"

type env struct {
	t   *testing.T
	svc *broker.Service
	n   *Notifier
}

func newEnv(t *testing.T, cfg Config, opts ...Option) *env {
	t.Helper()
	mem := memstore.New()
	svc, err := broker.New(mem, broker.DefaultConfig(), broker.WithTransportSubscriberScheme("websocket"))
	if err != nil {
		t.Fatal(err)
	}
	n, err := New(svc, cfg, slog.New(slog.DiscardHandler), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := n.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
		_ = mem.Close()
	})
	return &env{t: t, svc: svc, n: n}
}

func (e *env) subscribe(queue, body string) broker.Subscription {
	e.t.Helper()
	sub, _, err := e.svc.CreateSubscription(context.Background(), project, queue, []byte(body))
	if err != nil {
		e.t.Fatal(err)
	}
	return sub
}

func (e *env) post(queue, body string) {
	e.t.Helper()
	if _, err := e.svc.PostMessages(context.Background(), broker.Caller{Project: project}, queue, []byte(body), 0); err != nil {
		e.t.Fatal(err)
	}
}

// waitFor polls cond; the bound only keeps a broken build from hanging.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// receiver is a webhook endpoint answering statuses in turn (then 200), recording every request.
type receiver struct {
	mu       sync.Mutex
	statuses []int
	reqs     []recorded
	srv      *httptest.Server
	block    chan struct{} // when set, requests wait for it
}

type recorded struct {
	body   string
	header http.Header
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	r := &receiver{statuses: statuses}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if r.block != nil {
			<-r.block
		}
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.reqs = append(r.reqs, recorded{body: string(b), header: req.Header.Clone()})
		status := 200
		if len(r.statuses) > 0 {
			status, r.statuses = r.statuses[0], r.statuses[1:]
		}
		r.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.reqs)
}

func (r *receiver) get(i int) recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reqs[i]
}

func TestWebhookPayload(t *testing.T) {
	e := newEnv(t, DefaultConfig())
	r := newReceiver(t)
	e.subscribe("sq", `{"subscriber": "`+r.srv.URL+`/hook", "options": {"post_headers": {"X-Custom": "abc", "X-N": 5}}}`)
	e.post("sq", `{"messages": [{"body": {"event":"BackupStarted"}, "ttl": 300}, {"body": [1,"a, b: c"], "ttl": 60}]}`)
	waitFor(t, "two POSTs", func() bool { return r.count() == 2 })
	want := []string{
		`{"ttl": 300, "body": {"event": "BackupStarted"}, "Message_Type": "Notification", "queue_name": "sq"}`,
		`{"ttl": 60, "body": [1, "a, b: c"], "Message_Type": "Notification", "queue_name": "sq"}`,
	}
	got := []string{r.get(0).body, r.get(1).body}
	if got[0] != want[0] && got[0] == want[1] { // two workers may deliver in either order
		got[0], got[1] = got[1], got[0]
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("POST %d:\n got %s\nwant %s", i, got[i], want[i])
		}
	}
	h := r.get(0).header
	if h.Get("Content-Type") != "application/json" || h.Get("X-Custom") != "abc" || h.Get("X-N") != "5" {
		t.Errorf("headers %v", h)
	}
	if s := e.n.Stats(); s.Delivered != 2 || s.Retries != 0 {
		t.Errorf("stats %+v", s)
	}
}

func TestWebhookTemplate(t *testing.T) {
	e := newEnv(t, DefaultConfig())
	r := newReceiver(t)
	e.subscribe("sq", `{"subscriber": "`+r.srv.URL+`", "options": {"post_data": "{\"wrapped\": \"$zaqar_message$\", \"k\": 1}"}}`)
	e.post("sq", `{"messages": [{"body": {"event": "x"}, "ttl": 300}]}`)
	waitFor(t, "a POST", func() bool { return r.count() == 1 })
	want := `{"wrapped": {"ttl": 300, "body": {"event": "x"}, "Message_Type": "Notification", "queue_name": "sq"}, "k": 1}`
	if got := r.get(0).body; got != want {
		t.Errorf("template:\n got %s\nwant %s", got, want)
	}
}

func TestWebhookRetriesOn5xxAndNotOn4xx(t *testing.T) {
	e := newEnv(t, DefaultConfig())
	flaky := newReceiver(t, 503, 503)
	e.subscribe("q1", `{"subscriber": "`+flaky.srv.URL+`"}`)
	e.post("q1", `{"messages": [{"body": "retry me"}]}`)
	waitFor(t, "delivery after two 503s", func() bool { return e.n.Stats().Delivered == 1 })
	if flaky.count() != 3 || flaky.get(2).body != flaky.get(0).body {
		t.Errorf("receiver got %d POSTs, want 3 identical", flaky.count())
	}
	if s := e.n.Stats(); s.Retries != 2 {
		t.Errorf("stats %+v", s)
	}

	gone := newReceiver(t, 404)
	e.subscribe("q2", `{"subscriber": "`+gone.srv.URL+`"}`)
	e.post("q2", `{"messages": [{"body": "refused"}]}`)
	waitFor(t, "the refusal", func() bool { return e.n.Stats().Rejected == 1 })
	if gone.count() != 1 {
		t.Errorf("a 404 was retried: %d POSTs", gone.count())
	}
}

func TestUndeliverableAfterPolicy(t *testing.T) {
	e := newEnv(t, DefaultConfig())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close() // nothing listens there now: connection refused
	d := &delivery{sub: broker.Subscription{ID: "s", Queue: "q", Subscriber: "http://" + addr + "/"},
		payload: []byte(`{}`), schedule: []time.Duration{0, 0}}
	e.n.attempt(d)
	if s := e.n.Stats(); s.Undeliverable != 1 || s.Retries != 2 {
		t.Errorf("stats %+v", s)
	}
	// A delayed retry waits on a timer and is dropped by Close.
	d = &delivery{sub: d.sub, payload: []byte(`{}`), schedule: []time.Duration{time.Hour}}
	e.n.attempt(d)
	if err := e.n.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := e.n.Stats(); s.Dropped != 1 || s.Retries != 3 {
		t.Errorf("after close %+v", s)
	}
}

func TestOverflowNeverBlocksPosts(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Workers, cfg.QueueSize = 1, 1
	e := newEnv(t, cfg)
	r := newReceiver(t)
	r.block = make(chan struct{})
	e.subscribe("q", `{"subscriber": "`+r.srv.URL+`"}`)
	// The one worker is stuck on the receiver; the queue holds one post; the rest are dropped, and every
	// post returns.
	for range 10 {
		e.post("q", `{"messages": [{"body": 1}]}`)
	}
	if e.n.Stats().Dropped == 0 {
		t.Error("nothing dropped")
	}
	close(r.block)
}

func TestSkipsSocketSubscriptionsAndRoutesMQTT(t *testing.T) {
	pub := &fakePublisher{}
	e := newEnv(t, DefaultConfig(), WithPublisher(pub))
	e.subscribe("q", `{"subscriber": "websocket:0123"}`)
	e.subscribe("q", `{"subscriber": "mailto:nobody@example.com"}`) // no SMTP host: refused, not retried
	e.post("q", `{"messages": [{"body": 1}]}`)
	waitFor(t, "the post", func() bool { return e.n.Stats().Posts == 1 })
	// Each subscriber's delivery is a task of its own, which may run after the fan-out is counted.
	waitFor(t, "the mailto refusal", func() bool { return e.n.Stats().Rejected == 1 })
	if s := e.n.Stats(); s.Rejected != 1 || s.Delivered != 0 {
		t.Errorf("stats %+v", s)
	}
	d := &delivery{sub: broker.Subscription{Subscriber: "mqtt:alerts/b1", Options: []byte(`{"qos": 0, "retain": true}`)},
		payload: []byte(`{"x": 1}`), project: "p-7"}
	if err := e.n.send(d); err != nil {
		t.Fatal(err)
	}
	if pub.project != "p-7" || pub.topic != "alerts/b1" || string(pub.payload) != `{"x": 1}` || pub.qos != 0 || !pub.retain {
		t.Errorf("published %+v", pub)
	}
}

type fakePublisher struct {
	project string
	topic   string
	payload []byte
	qos     byte
	retain  bool
}

func (p *fakePublisher) Publish(project, topic string, payload []byte, qos byte, retain bool) error {
	p.project, p.topic, p.payload, p.qos, p.retain = project, topic, payload, qos, retain
	return nil
}

func TestConfirmationFlow(t *testing.T) {
	ring, err := signing.NewKeyRing(signing.URLKey{ID: "k", Secret: []byte("confirm-secret-confirm-secret-32")})
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.RequireConfirmation = true
	e := newEnv(t, cfg, WithKeyRing(ring))
	r := newReceiver(t)
	sub := e.subscribe("cq", `{"subscriber": "`+r.srv.URL+`", "ttl": 3600}`)
	waitFor(t, "the confirmation", func() bool { return r.count() == 1 })
	body := r.get(0).body
	for _, want := range []string{`{"Message_Type": "SubscriptionConfirmation", "Message": "You have chosen to subscribe to the queue: cq", "URL-Signature": "`,
		`"URL-Methods": "PUT", "URL-Paths": "/v2/queues/cq/subscriptions/` + sub.ID + `/confirm", "X-Project-ID": "proj-n", "URL-Expires": "`,
		`"SubscribeBody": {"confirmed": true}, "UnsubscribeBody": {"confirmed": false}, "queue_name": "cq"}`} {
		if !strings.Contains(body, want) {
			t.Fatalf("confirmation %s lacks %s", body, want)
		}
	}
	// The signed URL in it verifies for the confirm PUT.
	sig := between(body, `"URL-Signature": "`, `"`)
	exp := between(body, `"URL-Expires": "`, `"`)
	if _, err := signing.VerifyRequest(ring, signing.SignedRequest{Method: "PUT", Path: confirmPath("cq", sub.ID),
		Project: project, Credentials: signing.Credentials{Signature: sig, Expires: exp, Methods: "PUT",
			Paths: confirmPath("cq", sub.ID), Present: true}}, time.Now()); err != nil {
		t.Fatalf("confirmation URL does not verify: %v", err)
	}

	// Unconfirmed: a post delivers nothing.
	e.post("cq", `{"messages": [{"body": "before"}]}`)
	waitFor(t, "the first post", func() bool { return e.n.Stats().Posts == 1 })
	if _, err := e.svc.ConfirmSubscription(context.Background(), project, "cq", sub.ID, []byte(`{"confirmed": true}`)); err != nil {
		t.Fatal(err)
	}
	e.post("cq", `{"messages": [{"body": "after"}]}`)
	waitFor(t, "the notification", func() bool { return r.count() == 2 })
	if got := r.get(1).body; !strings.Contains(got, `"body": "after"`) {
		t.Errorf("after confirming got %s", got)
	}
	// Unsubscribing sends the unsubscribe confirmation and stops delivery.
	if _, err := e.svc.ConfirmSubscription(context.Background(), project, "cq", sub.ID, []byte(`{"confirmed": false}`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the unsubscribe confirmation", func() bool { return r.count() == 3 })
	if got := r.get(2).body; !strings.Contains(got, `"Message_Type": "UnsubscribeConfirmation", "Message": "You have unsubscribed successfully to the queue: cq, you can resubscribe it by using confirmed=True."`) {
		t.Errorf("unsubscribe %s", got)
	}
	e.post("cq", `{"messages": [{"body": "unsubscribed"}]}`)
	waitFor(t, "the last post", func() bool { return e.n.Stats().Posts == 3 })
	if r.count() != 3 || e.n.Stats().Confirmations != 2 {
		t.Errorf("%d POSTs, stats %+v", r.count(), e.n.Stats())
	}
}

func between(s, from, to string) string {
	i := strings.Index(s, from)
	if i < 0 {
		return ""
	}
	s = s[i+len(from):]
	if j := strings.Index(s, to); j >= 0 {
		return s[:j]
	}
	return s
}

// smtpServer is a minimal SMTP server that keeps what it receives.
type smtpServer struct {
	ln   net.Listener
	mu   sync.Mutex
	msgs []mailRecord
}

type mailRecord struct {
	from, data string
	to         []string
}

func newSMTPServer(t *testing.T) *smtpServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpServer{ln: ln}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

func (s *smtpServer) serve(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	r := bufio.NewReader(c)
	say := func(line string) { fmt.Fprintf(c, "%s\r\n", line) }
	say("220 test ESMTP")
	var cur mailRecord
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"):
			say("250-test")
			say("250 8BITMIME")
		case strings.HasPrefix(cmd, "HELO"):
			say("250 test")
		case strings.HasPrefix(cmd, "MAIL FROM:"):
			cur = mailRecord{from: strings.TrimSpace(line[len("MAIL FROM:"):])}
			say("250 ok")
		case strings.HasPrefix(cmd, "RCPT TO:"):
			cur.to = append(cur.to, strings.TrimSpace(line[len("RCPT TO:"):]))
			say("250 ok")
		case cmd == "DATA":
			say("354 go ahead")
			var data strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				data.WriteString(l)
			}
			cur.data = data.String()
			s.mu.Lock()
			s.msgs = append(s.msgs, cur)
			s.mu.Unlock()
			say("250 queued")
		case cmd == "QUIT":
			say("221 bye")
			return
		default: // RSET, NOOP
			say("250 ok")
		}
	}
}

func (s *smtpServer) received() []mailRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]mailRecord(nil), s.msgs...)
}

func TestEmailNotification(t *testing.T) {
	smtp := newSMTPServer(t)
	host, port, _ := net.SplitHostPort(smtp.ln.Addr().String())
	cfg := DefaultConfig()
	cfg.SMTP.Host, cfg.SMTP.TLS = host, TLSNone
	fmt.Sscan(port, &cfg.SMTP.Port)
	e := newEnv(t, cfg)
	e.subscribe("mq", `{"subscriber": "mailto:ops@example.com?subject=Climate%20alert", "options": {"from": "zedge@example.com"}}`)
	e.post("mq", `{"messages": [{"body": {"temp": 31}, "ttl": 120}]}`)
	waitFor(t, "the email", func() bool { return len(smtp.received()) == 1 })
	m := smtp.received()[0]
	if m.from != "<zedge@example.com>" && !strings.Contains(m.from, "zedge@example.com") {
		t.Errorf("MAIL FROM %q", m.from)
	}
	if len(m.to) != 1 || !strings.Contains(m.to[0], "ops@example.com") {
		t.Errorf("RCPT TO %v", m.to)
	}
	// The body is quoted-printable (long JSON lines stay within SMTP's line limit).
	decoded, _ := io.ReadAll(quotedprintable.NewReader(strings.NewReader(m.data[strings.Index(m.data, "\r\n\r\n")+4:])))
	if !strings.Contains(m.data, "Subject: Climate alert") ||
		!strings.Contains(string(decoded), `{"ttl": 120, "body": {"temp": 31}, "Message_Type": "Notification", "queue_name": "mq"}`) {
		t.Errorf("mail data:\n%s", m.data)
	}
	if e.n.Stats().Delivered != 1 {
		t.Errorf("stats %+v", e.n.Stats())
	}
}
