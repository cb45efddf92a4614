package wsapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/zedge-io/zedge/broker"
	"github.com/zedge-io/zedge/store/memstore"
)

const (
	testProject = "proj-ws"
	testClient  = "3381af92-2b9e-11e3-b191-71861300734c"
)

// fakeClock is a settable clock shared by the Service and the Server.
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

// env is a Service over a memstore and a wsapi Server on 127.0.0.1:0.
type env struct {
	t     testing.TB
	svc   *broker.Service
	srv   *Server
	url   string
	clock *fakeClock
}

type envOption struct {
	cfg    func(*Config)
	opts   []Option
	noTick bool
	log    *slog.Logger // nil: testLogger
}

func testLogger() *slog.Logger {
	if os.Getenv("WSAPI_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func newEnv(t testing.TB, eo ...envOption) *env {
	t.Helper()
	mem := memstore.New()
	clock := &fakeClock{t: time.Now().Truncate(time.Second)}
	svc, err := broker.New(mem, broker.DefaultConfig(), broker.WithClock(clock.Now),
		broker.WithTransportSubscriberScheme(SubscriberScheme))
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	opts := []Option{WithClock(clock.Now)}
	log := testLogger()
	for _, o := range eo {
		if o.log != nil {
			log = o.log
		}
		if o.cfg != nil {
			o.cfg(&cfg)
		}
		opts = append(opts, o.opts...)
	}
	srv, err := New(svc, cfg, log, opts...)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
		_ = mem.Close()
	})
	return &env{t: t, svc: svc, srv: srv, url: "ws://" + ln.Addr().String() + "/", clock: clock}
}

// client is a test websocket client.
type client struct {
	t  testing.TB
	ws *websocket.Conn
}

func (e *env) dial() *client {
	e.t.Helper()
	ws, resp, err := websocket.DefaultDialer.Dial(e.url, nil)
	if err != nil {
		e.t.Fatalf("dial %s: %v", e.url, err)
	}
	_ = resp.Body.Close()
	c := &client{t: e.t, ws: ws}
	e.t.Cleanup(func() { _ = ws.Close() })
	return c
}

func (c *client) sendRaw(mt int, data []byte) {
	c.t.Helper()
	_ = c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := c.ws.WriteMessage(mt, data); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// read reads one frame (failing after 10 s, which only a broken server reaches).
func (c *client) read() (int, []byte) {
	c.t.Helper()
	_ = c.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	mt, data, err := c.ws.ReadMessage()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return mt, data
}

// readJSON reads a text frame and decodes it.
func (c *client) readJSON() map[string]any {
	c.t.Helper()
	mt, data := c.read()
	if mt != websocket.TextMessage {
		c.t.Fatalf("frame type %d, want text: %q", mt, data)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		c.t.Fatalf("answer is not a JSON object: %v: %s", err, data)
	}
	return m
}

// do sends a request and returns the answer's status and body.
func (c *client) do(action string, body any, headers ...string) (int, any, map[string]any) {
	c.t.Helper()
	hdr := map[string]any{"Client-ID": testClient, "X-Project-ID": testProject}
	for i := 0; i+1 < len(headers); i += 2 {
		hdr[headers[i]] = headers[i+1]
	}
	req := map[string]any{"action": action, "headers": hdr}
	if body != nil {
		req["body"] = body
	}
	data, err := json.Marshal(req)
	if err != nil {
		c.t.Fatal(err)
	}
	c.sendRaw(websocket.TextMessage, data)
	resp := c.readJSON()
	return status(c.t, resp), resp["body"], resp
}

func status(t testing.TB, resp map[string]any) int {
	t.Helper()
	h, ok := resp["headers"].(map[string]any)
	if !ok {
		t.Fatalf("answer without headers: %v", resp)
	}
	n, ok := h["status"].(float64)
	if !ok {
		t.Fatalf("answer without status: %v", resp)
	}
	return int(n)
}

// mustDo is do that fails unless the status is want.
func (c *client) mustDo(want int, action string, body any, headers ...string) any {
	c.t.Helper()
	st, b, resp := c.do(action, body, headers...)
	if st != want {
		c.t.Fatalf("%s: status %d, want %d: %v", action, st, want, resp)
	}
	return b
}

// doMsgpack sends a msgpack request and decodes the msgpack answer.
func (c *client) doMsgpack(req map[string]any) map[string]any {
	c.t.Helper()
	data, err := msgpack.Marshal(req)
	if err != nil {
		c.t.Fatal(err)
	}
	c.sendRaw(websocket.BinaryMessage, data)
	mt, out := c.read()
	if mt != websocket.BinaryMessage {
		c.t.Fatalf("frame type %d, want binary: %q", mt, out)
	}
	var m map[string]any
	if err := msgpack.Unmarshal(out, &m); err != nil {
		c.t.Fatalf("answer is not msgpack: %v", err)
	}
	return m
}

func errorText(t testing.TB, body any) string {
	t.Helper()
	m, ok := body.(map[string]any)
	if !ok {
		t.Fatalf("error body %v is not an object", body)
	}
	s, _ := m["error"].(string)
	return s
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func context10s() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 10*time.Second)
}
