package httpapi

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zedge-io/zedge/broker"
	"github.com/zedge-io/zedge/store"
	"github.com/zedge-io/zedge/store/memstore"
)

const (
	clientA = "3381af92-2b9e-11e3-b191-71861300734c"
	clientB = "8a2b3c4d-0000-4000-8000-00000000000b"
	project = "proj-1"
)

var epoch = time.Date(2026, 11, 22, 2, 12, 47, 0, time.UTC)

// fakeClock is the clock of both the Service and the Server in tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// harness is a Server on a 127.0.0.1:0 listener over a Service on memstore, driven over real HTTP.
type harness struct {
	t      *testing.T
	srv    *Server
	svc    *broker.Service
	st     store.Store
	clock  *fakeClock
	base   string
	addr   string
	client *http.Client
}

type harnessOpt struct {
	cfg   func(*Config)
	store func(store.Store) store.Store
	opts  []Option
	log   *slog.Logger
}

func newHarness(t *testing.T, o ...harnessOpt) *harness {
	t.Helper()
	clock := &fakeClock{t: epoch}
	var st store.Store = memstore.New(memstore.WithReapInterval(0))
	cfg := DefaultConfig()
	var opts []Option
	var log *slog.Logger
	for _, x := range o {
		if x.log != nil {
			log = x.log
		}
		if x.cfg != nil {
			x.cfg(&cfg)
		}
		if x.store != nil {
			st = x.store(st)
		}
		opts = append(opts, x.opts...)
	}
	svc, err := broker.New(st, broker.DefaultConfig(), broker.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
		if testing.Verbose() {
			log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
		}
	}
	srv, err := New(svc, cfg, log, append([]Option{WithClock(clock.Now)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	h := &harness{t: t, srv: srv, svc: svc, st: st, clock: clock, addr: ln.Addr().String(),
		base: "http://" + ln.Addr().String(), client: &http.Client{Transport: &http.Transport{}}}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		h.client.CloseIdleConnections()
		_ = st.Close()
	})
	return h
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// hd are request headers; the Zaqar headers are added unless named here, and "-" leaves a header out.
type hd map[string]string

type resp struct {
	status int
	hdr    http.Header
	body   []byte
	closed bool // the server asked to close the connection (Go removes the Connection header)
}

func (r resp) String() string { return http.StatusText(r.status) + " " + string(r.body) }

func (r resp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response is not a JSON object: %v: %s", err, r.body)
	}
	return m
}

func (h *harness) do(method, path, body string, headers ...hd) resp {
	h.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, h.base+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	all := hd{"Client-ID": clientA, "X-Project-ID": project}
	for _, m := range headers {
		for k, v := range m {
			all[k] = v
		}
	}
	for k, v := range all {
		if v != "-" {
			req.Header[http.CanonicalHeaderKey(k)] = []string{v}
		}
	}
	res, err := h.client.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp{status: res.StatusCode, hdr: res.Header, body: b}
}

// raw sends a hand-written request on a new connection and reads one response.
func (h *harness) raw(request string) (resp, net.Conn, *bufio.Reader) {
	h.t.Helper()
	c, err := net.Dial("tcp", h.addr)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, request); err != nil {
		h.t.Fatal(err)
	}
	br := bufio.NewReader(c)
	return h.readResponse(br, c), c, br
}

func (h *harness) readResponse(br *bufio.Reader, c net.Conn) resp {
	h.t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		h.t.Fatalf("reading response: %v", err)
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		h.t.Fatal(err)
	}
	return resp{status: res.StatusCode, hdr: res.Header, body: b, closed: res.Close}
}

func expect(t *testing.T, r resp, status int, body string) {
	t.Helper()
	if r.status != status || (body != "*" && string(r.body) != body) {
		t.Fatalf("got %d %s\nwant %d %s", r.status, r.body, status, body)
	}
}
