package httpapi

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/zedge-io/zedge/store"
	"github.com/zedge-io/zedge/store/storetest"
)

func rawHead(method, path string, extra ...string) string {
	s := method + " " + path + " HTTP/1.1\r\nHost: zedge\r\nClient-ID: " + clientA + "\r\nX-Project-ID: " + project + "\r\n"
	for _, e := range extra {
		s += e + "\r\n"
	}
	return s + "\r\n"
}

// TestOversizedBodiesRefused: a body over the route's limit is refused without being stored. Up to
// drainLimit it is read and dropped (a client still sending gets the answer, not a reset, and the connection
// stays usable); beyond that only the headers and the start of the body are sent, and the answer comes anyway,
// before the rest: the body is never read, and the connection is closed.
func TestOversizedBodiesRefused(t *testing.T) {
	h := newHarness(t)
	for _, c := range []struct {
		method, path, ctype string
		length              int
		want                string
	}{
		{"POST", "/v2/queues/big/messages", "application/json", 262145,
			`{"title": "Invalid API request", "description": "Message collection size is too large. Max size 262144"}`},
		{"POST", "/v2/queues/big/messages", "application/json", 1 << 30,
			`{"title": "Invalid API request", "description": "Message collection size is too large. Max size 262144"}`},
		{"PUT", "/v2/queues/big", "application/json", 65537,
			`{"title": "Invalid API request", "description": "Queue metadata is too large. Max size: 65536"}`},
		{"PUT", "/v2/queues/big", "application/json", drainLimit + 1,
			`{"title": "Invalid API request", "description": "Queue metadata is too large. Max size: 65536"}`},
		{"PATCH", "/v2/queues/big", patchType, 65537,
			`{"title": "Invalid request body", "description": "Queue metadata is too large. Max size: 65536"}`},
		{"POST", "/v2/queues/big/claims", "application/json", 65537,
			`{"title": "Invalid request body", "description": "Request body is too large. Max size: 65536"}`},
		{"POST", "/v2/queues/big/subscriptions", "application/json", 1 << 22,
			`{"title": "Invalid request body", "description": "Request body is too large. Max size: 65536"}`},
	} {
		name := fmt.Sprintf("%s %s %d", c.method, c.path, c.length)
		huge := c.length > drainLimit
		sent := c.length
		if huge {
			// fasthttp reads up to 8 KiB of a body before calling the handler; send a little more than that.
			sent = 9000
		}
		body := (`{"messages": [{"body": "` + strings.Repeat("x", sent))[:sent]
		r, conn, br := h.raw(rawHead(c.method, c.path, "Content-Type: "+c.ctype, fmt.Sprintf("Content-Length: %d", c.length)) + body)
		expect(t, r, 400, c.want)
		if r.closed != huge {
			t.Errorf("%s: connection closed %v; want %v", name, r.closed, huge)
		}
		if !huge {
			if _, err := io.WriteString(conn, rawHead("GET", "/v2/ping")); err != nil {
				t.Fatal(err)
			}
			expect(t, h.readResponse(br, conn), 204, "")
		}
	}
	expect(t, h.do("GET", "/v2/queues", ""), 200, `{"queues": [], "links": []}`)
	expect(t, h.do("GET", "/v2/queues/big/stats", ""), 200, `{"messages": {"claimed": 0, "free": 0, "total": 0}}`)
}

func TestBodyAtTheLimit(t *testing.T) {
	h := newHarness(t)
	prefix, suffix := `{"messages": [{"body": "`, `"}]}`
	body := prefix + strings.Repeat("x", 262144-len(prefix)-len(suffix)) + suffix
	expect(t, h.do("POST", "/v2/queues/edge/messages", body), 201, "*")
	r := h.do("POST", "/v2/queues/edge/messages", body+" ") // a client that sends it all gets the answer
	expect(t, r, 400, `{"title": "Invalid API request", "description": "Message collection size is too large. Max size 262144"}`)
	// The queue's own smaller limit is the Service's to apply, with the size we pass it.
	expect(t, h.do("PUT", "/v2/queues/small", `{"_max_messages_post_size": 100}`), 201, "")
	r = h.do("POST", "/v2/queues/small/messages", `{"messages": [{"body": "`+strings.Repeat("y", 100)+`"}]}`)
	expect(t, r, 400, "*")
	if !strings.Contains(string(r.body), "Message collection size is too large") {
		t.Fatalf("queue limit: %s", r.body)
	}
}

func TestChunkedBodyRefused(t *testing.T) {
	h := newHarness(t)
	body := `{"messages": [{"body": 1}]}`
	req := rawHead("POST", "/v2/queues/ch/messages", "Content-Type: application/json", "Transfer-Encoding: chunked") +
		fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(body), body)
	r, conn, br := h.raw(req)
	expect(t, r, 400, `{"title": "Invalid request body", "description": "Request body can not be empty"}`)
	if r.closed {
		t.Fatal("a small chunked body was not drained")
	}
	// Also where the body is optional: the metadata sent must not be dropped silently.
	if _, err := io.WriteString(conn, rawHead("PUT", "/v2/queues/ch", "Transfer-Encoding: chunked")+"5\r\n{\"a\":\r\n3\r\n 1}\r\n0\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	expect(t, h.readResponse(br, conn), 400, `{"title": "Invalid request body", "description": "Request body can not be empty"}`)
	expect(t, h.do("GET", "/v2/queues/ch/stats", ""), 200, `{"messages": {"claimed": 0, "free": 0, "total": 0}}`)
	expect(t, h.do("GET", "/v2/queues", ""), 200, `{"queues": [], "links": []}`)
}

// TestGetWithBodyKeepsConnection: a GET carrying a body (python-zaqarclient does this) is answered, and the
// body is drained so the next request on the same connection is read correctly.
func TestGetWithBodyKeepsConnection(t *testing.T) {
	h := newHarness(t)
	body := `{"subscriber": "http://x", "ttl": 3600}`
	first := rawHead("GET", "/v2/queues/kb/stats", "Content-Type: application/json", fmt.Sprintf("Content-Length: %d", len(body))) + body
	r, conn, br := h.raw(first)
	expect(t, r, 200, `{"messages": {"claimed": 0, "free": 0, "total": 0}}`)
	if r.closed {
		t.Fatal("a small unread body closed the connection")
	}
	if _, err := io.WriteString(conn, rawHead("GET", "/v2/queues/kb", "Content-Type: application/json")); err != nil {
		t.Fatal(err)
	}
	r = h.readResponse(br, conn)
	expect(t, r, 200, "*")
	if _, ok := r.json(t)["_default_message_ttl"]; !ok {
		t.Fatalf("second response %s", r.body)
	}

	// A large unread body is not drained: the answer comes before it is sent, and the connection closes.
	r, _, _ = h.raw(rawHead("DELETE", "/v2/queues/kb", fmt.Sprintf("Content-Length: %d", 2*drainLimit)) + strings.Repeat(" ", 9000))
	expect(t, r, 204, "")
	if !r.closed {
		t.Fatal("the connection stays open after a large unread body")
	}
}

// TestStoreFailuresAre503 breaks every store method and checks that each route that needs the store answers
// Zaqar's 503, while the routes that do not still work.
func TestStoreFailuresAre503(t *testing.T) {
	var faulty *storetest.Faulty
	h := newHarness(t, harnessOpt{store: func(s store.Store) store.Store {
		faulty = storetest.NewFaulty(s)
		return faulty
	}})
	expect(t, h.do("PUT", "/v2/queues/f", ""), 201, "")
	faulty.FailAll()
	patch := hd{"Content-Type": patchType}
	for _, c := range []struct {
		method, path, body string
		headers            hd
	}{
		{"GET", "/v2/queues", "", nil},
		{"PUT", "/v2/queues/g", "", nil},
		{"GET", "/v2/queues/f", "", nil},
		{"PATCH", "/v2/queues/f", "[]", patch},
		{"DELETE", "/v2/queues/f", "", nil},
		{"GET", "/v2/queues/f/stats", "", nil},
		{"POST", "/v2/queues/f/purge", "", nil},
		{"POST", "/v2/queues/f/messages", `{"messages": [{"body": 1}]}`, nil},
		{"GET", "/v2/queues/f/messages", "", nil},
		{"GET", "/v2/queues/f/messages?ids=a", "", nil},
		{"GET", "/v2/queues/f/messages/a", "", nil},
		{"DELETE", "/v2/queues/f/messages/a", "", nil},
		{"DELETE", "/v2/queues/f/messages?ids=a", "", nil},
		{"DELETE", "/v2/queues/f/messages?pop=1", "", nil},
		{"POST", "/v2/queues/f/claims", "", nil},
		{"GET", "/v2/queues/f/claims/c", "", nil},
		{"PATCH", "/v2/queues/f/claims/c", "{}", nil},
		{"DELETE", "/v2/queues/f/claims/c", "", nil},
		{"POST", "/v2/queues/f/subscriptions", `{"subscriber": "http://x"}`, nil},
		{"GET", "/v2/queues/f/subscriptions", "", nil},
		{"GET", "/v2/queues/f/subscriptions/s", "", nil},
		{"PATCH", "/v2/queues/f/subscriptions/s", `{"ttl": 100}`, nil},
		{"DELETE", "/v2/queues/f/subscriptions/s", "", nil},
		{"PUT", "/v2/queues/f/subscriptions/s/confirm", `{"confirmed": true}`, nil},
	} {
		r := h.do(c.method, c.path, c.body, c.headers)
		if r.status != 503 {
			t.Errorf("%s %s: %s", c.method, c.path, r)
			continue
		}
		m := r.json(t)
		desc, _ := m["description"].(string)
		if m["title"] != "Service temporarily unavailable" || !strings.HasSuffix(desc, ". Please try again in a few seconds.") {
			t.Errorf("%s %s: %s", c.method, c.path, r.body)
		}
	}
	expect(t, h.do("GET", "/v2/ping", ""), 503, "")
	expect(t, h.do("HEAD", "/v2/ping", ""), 204, "")
	expect(t, h.do("GET", "/readyz", ""), 503, "unavailable\n")
	expect(t, h.do("GET", "/healthz", ""), 200, "ok\n")
	expect(t, h.do("GET", "/v2/", ""), 200, "*")
	// Validation comes before the store: a bad request is still a 400.
	expect(t, h.do("GET", "/v2/queues/f/messages?limit=x", ""), 400, "*")

	faulty.Heal()
	expect(t, h.do("GET", "/v2/ping", ""), 204, "")
	expect(t, h.do("GET", "/readyz", ""), 200, "ok\n")
}

// TestShutdownFinishesInFlight: a request in progress when Shutdown starts gets its full answer; after that
// the server accepts nothing.
func TestShutdownFinishesInFlight(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	auth := AuthenticatorFunc(func(ctx *fasthttp.RequestCtx) error {
		if string(ctx.Path()) == "/v2/queues/slow/messages" {
			close(entered)
			<-release
		}
		return nil
	})
	h := newHarness(t, harnessOpt{opts: []Option{WithAuthenticator(auth)}})
	got := make(chan resp, 1)
	go func() {
		got <- h.do("POST", "/v2/queues/slow/messages", `{"messages": [{"body": "late"}]}`)
	}()
	<-entered
	stopped := make(chan error, 1)
	go func() { stopped <- h.srv.Shutdown(context.Background()) }()
	close(release)
	r := <-got
	expect(t, r, 201, "*")
	if err := <-stopped; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if c, err := net.DialTimeout("tcp", h.addr, time.Second); err == nil {
		c.Close()
		t.Fatal("still accepting after Shutdown")
	}
	ids := postedIDs(t, r)
	if m, err := h.svc.GetMessage(context.Background(), project, "slow", ids[0]); err != nil || string(m.Body) != `"late"` {
		t.Fatalf("the in-flight post was not stored: %v %v", m, err)
	}
}
