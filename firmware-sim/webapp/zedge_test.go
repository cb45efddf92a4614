package webapp_test

// The real zedge binary for the browser test (internal/zedgetest), in auth mode jwt with a URL-signing key.

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/zedge-io/zedge/internal/zedgetest"
	"github.com/zedge-io/zedge/signing"
)

const (
	testProject   = "campus"
	testJWTSecret = "webapp-browser-test-jwt-secret-of-32-bytes-or-more"
	testURLKey    = "webapp-browser-test-url-signing-key-32-bytes-long"
)

func TestMain(m *testing.M) { zedgetest.Main(m) }

// zedgeProc is a running zedge and the keys its tokens and signed URLs are made with.
type zedgeProc struct {
	http, mqtt, ws string // bound addresses, host:port
	signer         *signing.TokenSigner
	urlRing        *signing.KeyRing
}

// startZedge runs zedge until the end of the test.
func startZedge(t *testing.T) *zedgeProc {
	t.Helper()
	s := zedgetest.Start(t, zedgetest.Options{Env: []string{"ZEDGE_DURABILITY=async", "ZEDGE_AUTH=jwt",
		"ZEDGE_JWT_SECRET=" + testJWTSecret, "ZEDGE_SIGNING_KEY=" + testURLKey}})
	z := &zedgeProc{http: s.HTTP, mqtt: s.MQTT, ws: s.WS}
	var err error
	if z.signer, err = signing.NewHS256Signer("default", []byte(testJWTSecret)); err != nil {
		t.Fatal(err)
	}
	if z.urlRing, err = signing.NewKeyRing(signing.URLKey{ID: "default", Secret: []byte(testURLKey)}); err != nil {
		t.Fatal(err)
	}
	return z
}

// token mints a token of the test project, as `zedge token` would with the same secret.
func (z *zedgeProc) token(t *testing.T, subject, role string) string {
	t.Helper()
	c, err := signing.NewClaims(subject, testProject, []string{role}, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := signing.IssueToken(z.signer, c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// restGet reads a zedge REST resource with a token (for checks independent of the page).
func restGet(t *testing.T, z *zedgeProc, token, path string, query url.Values, out any) int {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+z.http+path+"?"+query.Encode(), nil)
	req.Header.Set("Client-ID", uuid.NewString())
	req.Header.Set("X-Project-ID", testProject)
	req.Header.Set("X-Auth-Token", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil && resp.StatusCode == 200 {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
	}
	return resp.StatusCode
}

// tcpProxy forwards loopback TCP connections to a target and can cut them all, as a lost network would.
type tcpProxy struct {
	ln       net.Listener
	target   string
	mu       sync.Mutex
	conns    []net.Conn
	accepted int
}

func startProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, target: target}
	t.Cleanup(func() { _ = ln.Close(); p.cut() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				_ = c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.accepted++
			p.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); _ = up.Close() }()
			go func() { _, _ = io.Copy(c, up); _ = c.Close() }()
		}
	}()
	return p
}

func (p *tcpProxy) addr() string { return p.ln.Addr().String() }

// cut closes every connection made so far.
func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
}

func (p *tcpProxy) connections() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepted
}
