package app

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/zedge-io/zedge/store/redisstore/redistest"
)

// redisConfig is testConfig on the Redis at addrs, with keys and wake-up channel under prefix.
func redisConfig(t *testing.T, prefix string, addrs ...string) Config {
	cfg := testConfig(t, StoreRedis)
	cfg.Store.Redis.Addrs = addrs
	cfg.Store.Redis.KeyPrefix = prefix
	return cfg
}

func closedAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// zedge serve with an unreachable Redis exits 1 with one log line that says so and names the address.
func TestServeRefusesUnreachableRedis(t *testing.T) {
	addr := closedAddr(t)
	code, stdout, stderr := runCommand(t, map[string]string{
		EnvStore: StoreRedis, EnvRedisAddrs: addr, EnvHTTPAddr: "127.0.0.1:0", EnvMQTTAddr: "127.0.0.1:0",
		EnvWSAddr: "127.0.0.1:0", EnvDataDir: t.TempDir(),
	})
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if code != ExitFailure || stdout != "" || len(lines) != 1 {
		t.Fatalf("exit %d, stdout %q, stderr %d lines:\n%s\nwant exit 1 and one line", code, stdout, len(lines), stderr)
	}
	for _, want := range []string{"zedge failed to start", "unreachable", addr} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("the line lacks %q: %s", want, lines[0])
		}
	}
}

// proxy forwards TCP connections to target until cut, which closes the listener and every connection, as if
// Redis had gone away; resume listens again on the same address.
type proxy struct {
	t      *testing.T
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  []net.Conn
}

func newProxy(t *testing.T, target string) *proxy {
	p := &proxy{t: t, target: target}
	p.listen("127.0.0.1:0")
	t.Cleanup(p.cut)
	return p
}

func (p *proxy) listen(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
}

func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *proxy) resume() { p.listen(p.addr) }

func getStatus(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// /readyz follows Redis: 200 while it answers, 503 while it is gone, 200 again once it is back. /healthz (the
// process) stays 200 throughout.
func TestReadyzFollowsRedis(t *testing.T) {
	p := newProxy(t, redistest.StartSingle(t))
	cfg := redisConfig(t, "readyz", p.addr)
	cfg.Store.Redis.DialTimeout = 500 * time.Millisecond
	r := start(t, cfg, Options{})
	base := "http://" + r.app.HTTPAddr()
	if got := getStatus(t, base+"/readyz"); got != http.StatusOK {
		t.Fatalf("/readyz with Redis up = %d, want 200", got)
	}
	p.cut()
	if got := getStatus(t, base+"/readyz"); got != http.StatusServiceUnavailable {
		t.Errorf("/readyz with Redis gone = %d, want 503", got)
	}
	if got := getStatus(t, base+"/healthz"); got != http.StatusOK {
		t.Errorf("/healthz with Redis gone = %d, want 200", got)
	}
	p.resume()
	// go-redis redials on the next command; a probe may still see a connection the cut broke.
	deadline := time.Now().Add(20 * time.Second)
	for getStatus(t, base+"/readyz") != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("/readyz did not recover after Redis came back")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// wsSocket is a minimal Zaqar websocket client (noauth).
type wsSocket struct {
	t  *testing.T
	c  *websocket.Conn
	id string
}

func dialSocket(t *testing.T, addr string) *wsSocket {
	c, resp, err := websocket.DefaultDialer.Dial("ws://"+addr+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	t.Cleanup(func() { c.Close() })
	return &wsSocket{t: t, c: c, id: consumerID}
}

func (s *wsSocket) read() map[string]any {
	s.t.Helper()
	_ = s.c.SetReadDeadline(time.Now().Add(20 * time.Second)) // keeps a broken build from hanging only
	_, data, err := s.c.ReadMessage()
	if err != nil {
		s.t.Fatalf("websocket read: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		s.t.Fatalf("frame %s: %v", data, err)
	}
	return m
}

// subscribe subscribes the socket itself to queue and returns the subscription's id.
func (s *wsSocket) subscribe(queue string) string {
	s.t.Helper()
	req, _ := json.Marshal(map[string]any{"action": "subscription_create",
		"headers": map[string]any{"Client-ID": s.id, "X-Project-ID": "app-test"},
		"body":    map[string]any{"queue_name": queue, "ttl": 600}})
	if err := s.c.WriteMessage(websocket.TextMessage, req); err != nil {
		s.t.Fatal(err)
	}
	ans := s.read()
	if h, _ := ans["headers"].(map[string]any); h == nil || h["status"] != 201.0 {
		s.t.Fatalf("subscription_create: %v", ans)
	}
	body, _ := ans["body"].(map[string]any)
	id, _ := body["subscription_id"].(string)
	if id == "" {
		s.t.Fatalf("subscription_create answered no subscription_id: %v", ans)
	}
	return id
}

// expectPush reads the next frame and checks it is the notification of a message with body want on queue.
func (s *wsSocket) expectPush(queue, want string) {
	s.t.Helper()
	push := s.read()
	got, _ := json.Marshal(push["body"])
	if push["Message_Type"] != "Notification" || push["queue_name"] != queue || string(got) != want {
		s.t.Fatalf("push = %v, want %s on %s", push, want, queue)
	}
}

// Two nodes on one Redis serve the same queues: what A accepts B lists, and a socket subscribed on B is pushed
// A's posts (through the relay) and B's own, each once and in order; deleting its subscription over REST on A
// stops B's pushes (the change travels through the relay too).
func TestTwoNodesShareRedis(t *testing.T) {
	addr := redistest.StartSingle(t)
	a := start(t, redisConfig(t, "two-nodes", addr), Options{})
	b := start(t, redisConfig(t, "two-nodes", addr), Options{})
	if a.app.Relay() == nil || b.app.Relay() == nil || a.app.Relay().Node() == b.app.Relay().Node() {
		t.Fatal("each node needs its own relay")
	}

	code, body := call(t, a.app.HTTPAddr(), "POST", "/v2/queues/shared/messages", producerID,
		`{"messages": [{"body": {"n": 0}, "ttl": 300}]}`)
	if code != http.StatusCreated {
		t.Fatalf("POST on A = %d %s", code, body)
	}
	code, body = call(t, b.app.HTTPAddr(), "GET", "/v2/queues/shared/messages?echo=true", consumerID, "")
	if code != http.StatusOK || !strings.Contains(body, `"n": 0`) {
		t.Fatalf("GET on B = %d %s, want A's message", code, body)
	}

	sock := dialSocket(t, b.app.WSAddr())
	subID := sock.subscribe("pushed")
	sock.subscribe("marker")
	post := func(node *running, queue, body string) {
		t.Helper()
		code, answer := call(t, node.app.HTTPAddr(), "POST", "/v2/queues/"+queue+"/messages", producerID,
			`{"messages": [{"body": `+body+`, "ttl": 300}]}`)
		if code != http.StatusCreated {
			t.Fatalf("POST %s to %s = %d %s", body, queue, code, answer)
		}
	}
	for i, node := range []*running{a, b, a} {
		body := `{"seq":` + string(rune('1'+i)) + `}`
		post(node, "pushed", body)
		sock.expectPush("pushed", body)
	}

	// A's frames reach B in the order A published them: the deletion, then a post to the deleted
	// subscription's queue (which B must not push), then one to the socket's other queue.
	if code, body := call(t, a.app.HTTPAddr(), "DELETE", "/v2/queues/pushed/subscriptions/"+subID, producerID, ""); code != http.StatusNoContent {
		t.Fatalf("DELETE the socket's subscription on A = %d %s", code, body)
	}
	post(a, "pushed", `{"after":"delete"}`)
	post(a, "marker", `{"m":1}`)
	sock.expectPush("marker", `{"m":1}`)
	if s := b.app.Relay().Stats(); s.Received < 2 {
		t.Errorf("B's relay stats %+v: A's posts did not come through it", s)
	}
}
