package webapp_test

// The real zedge binary for the browser test: built once from cmd/zedge, started on free loopback ports with
// its own data directory, in auth mode jwt with a URL-signing key, found through its ready file (as
// cmd/zedge's end-to-end tests do).

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/zedge-io/zedge/signing"
)

const (
	testProject   = "campus"
	testJWTSecret = "webapp-browser-test-jwt-secret-of-32-bytes-or-more"
	testURLKey    = "webapp-browser-test-url-signing-key-32-bytes-long"
)

// zedgeProc is a running zedge.
type zedgeProc struct {
	http, mqtt, ws string // bound addresses, host:port
	signer         *signing.TokenSigner
	urlRing        *signing.KeyRing
	stderr         *lockedBuffer
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startZedge builds cmd/zedge and runs it until the end of the test.
func startZedge(t *testing.T) *zedgeProc {
	t.Helper()
	work := t.TempDir()
	bin := filepath.Join(work, "zedge")
	build := exec.Command("go", "build", "-o", bin, "github.com/zedge-io/zedge/cmd/zedge")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building zedge: %v\n%s", err, out)
	}
	ready := filepath.Join(work, "ready.json")
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(),
		"ZEDGE_HTTP_ADDR=127.0.0.1:0",
		"ZEDGE_MQTT_ADDR=127.0.0.1:0",
		"ZEDGE_WS_ADDR=127.0.0.1:0",
		"ZEDGE_DATA_DIR="+filepath.Join(work, "data"),
		"ZEDGE_READY_FILE="+ready,
		"ZEDGE_DURABILITY=async",
		"ZEDGE_AUTH=jwt",
		"ZEDGE_JWT_SECRET="+testJWTSecret,
		"ZEDGE_SIGNING_KEY="+testURLKey,
	)
	z := &zedgeProc{stderr: &lockedBuffer{}}
	cmd.Stdout, cmd.Stderr = z.stderr, z.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start zedge: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("zedge stderr:\n%s", z.stderr.String())
		}
	})
	// Generous: only keeps a hung start from hanging the test.
	deadline := time.Now().Add(60 * time.Second)
	for {
		if raw, err := os.ReadFile(ready); err == nil {
			var r struct{ HTTP, MQTT, WS string }
			if err := json.Unmarshal(raw, &r); err != nil || r.HTTP == "" || r.MQTT == "" || r.WS == "" {
				t.Fatalf("ready file %q: %v", raw, err)
			}
			z.http, z.mqtt, z.ws = r.HTTP, r.MQTT, r.WS
			break
		}
		select {
		case <-done:
			t.Fatalf("zedge exited before it was ready:\n%s", z.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("zedge wrote no ready file:\n%s", z.stderr.String())
		}
	}
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
