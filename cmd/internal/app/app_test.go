package app

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zedge-io/zedge/store"
)

const (
	producerID = "6f1b8c1e-0a5d-4c2e-9b7a-000000000001"
	consumerID = "6f1b8c1e-0a5d-4c2e-9b7a-000000000002"
)

// testConfig is the default configuration on a free loopback port, with Badger in a temporary directory
// (or the memory store).
func testConfig(t *testing.T, kind string) Config {
	t.Helper()
	cfg := DefaultConfig()
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.MQTT.Addr = "127.0.0.1:0"
	cfg.Websocket.Addr = "127.0.0.1:0"
	cfg.Store.Kind = kind
	cfg.Store.Badger.Dir = filepath.Join(t.TempDir(), "data")
	return cfg
}

// lockedBuffer collects log output written from several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// running is an App being served by Run in a goroutine.
type running struct {
	app    *App
	cancel context.CancelFunc
	done   chan error
	logs   *lockedBuffer
}

func start(t *testing.T, cfg Config, opts Options) *running {
	t.Helper()
	logs := &lockedBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := New(cfg, log, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{app: a, cancel: cancel, done: make(chan error, 1), logs: logs}
	go func() { r.done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-r.done
	})
	return r
}

// stop asks Run to stop and returns its result.
func (r *running) stop() error {
	r.cancel()
	err := <-r.done
	r.done <- err // for the cleanup
	return err
}

// call sends one Zaqar request and returns the status and body.
func call(t *testing.T, addr, method, path, clientID, body string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, "http://"+addr+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Client-ID", clientID)
	req.Header.Set("X-Project-ID", "app-test")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(data)
}

// The whole lifecycle on each store: serve, answer ping and a post, stop on cancel, close the store.
func TestLifecycle(t *testing.T) {
	for _, kind := range []string{StoreMemory, StoreBadger} {
		t.Run(kind, func(t *testing.T) {
			r := start(t, testConfig(t, kind), Options{})
			addr := r.app.HTTPAddr()
			if strings.HasSuffix(addr, ":0") {
				t.Fatalf("HTTPAddr = %s, want the bound port", addr)
			}
			if code, body := call(t, addr, "GET", "/v2/ping", producerID, ""); code != http.StatusNoContent {
				t.Fatalf("GET /v2/ping = %d %q, want 204", code, body)
			}
			code, body := call(t, addr, "POST", "/v2/queues/lifecycle/messages", producerID,
				`{"messages": [{"body": {"n": 1}, "ttl": 300}]}`)
			if code != http.StatusCreated {
				t.Fatalf("POST messages = %d %q, want 201", code, body)
			}

			if err := r.stop(); err != nil {
				t.Fatalf("Run after cancel = %v, want nil", err)
			}
			if err := r.app.Store().Health(context.Background()); !errors.Is(err, store.ErrClosed) {
				t.Errorf("store Health after Run = %v, want ErrClosed", err)
			}
			if _, err := net.Dial("tcp", addr); err == nil {
				t.Errorf("%s still accepts connections after Run", addr)
			}
			logs := r.logs.String()
			for _, want := range []string{`msg="zedge ready" component=app http=` + addr, `msg="zedge stopped" component=app`} {
				if !strings.Contains(logs, want) {
					t.Errorf("log lacks %q:\n%s", want, logs)
				}
			}
		})
	}
}

// Messages acknowledged by a Badger-backed zedge are there after a restart on the same directory.
func TestBadgerDataSurvivesRestart(t *testing.T) {
	cfg := testConfig(t, StoreBadger)
	r := start(t, cfg, Options{})
	code, body := call(t, r.app.HTTPAddr(), "POST", "/v2/queues/kept/messages", producerID,
		`{"messages": [{"body": "before restart", "ttl": 3600}]}`)
	if code != http.StatusCreated {
		t.Fatalf("POST = %d %q", code, body)
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}

	r = start(t, cfg, Options{})
	code, body = call(t, r.app.HTTPAddr(), "GET", "/v2/queues/kept/messages", consumerID, "")
	if code != http.StatusOK || !strings.Contains(body, `"before restart"`) {
		t.Fatalf("GET after restart = %d %q, want the message posted before", code, body)
	}
}

// A request in flight when shutdown begins is finished and answered, and what it wrote is kept: the store is
// closed only after the HTTP server has drained.
func TestShutdownFinishesInFlightRequest(t *testing.T) {
	cfg := testConfig(t, StoreBadger)
	r := start(t, cfg, Options{})
	addr := r.app.HTTPAddr()

	// Send the headers and half the body, and keep the rest back.
	body := `{"messages": [{"body": "in flight", "ttl": 3600}]}`
	half := len(body) / 2
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /v2/queues/drain/messages HTTP/1.1\r\nHost: zedge\r\nClient-ID: %s\r\n"+
		"X-Project-ID: app-test\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		producerID, len(body), body[:half])
	// The listener hands out connections in order, so once a later connection is served, ours has been
	// accepted too.
	if code, _ := call(t, addr, "GET", "/v2/ping", consumerID, ""); code != http.StatusNoContent {
		t.Fatalf("ping = %d", code)
	}

	r.cancel()
	// Shutdown has begun once the listener refuses new connections.
	for {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			break
		}
		c.Close()
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := io.WriteString(conn, body[half:]); err != nil {
		t.Fatalf("finishing the request: %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no response to the in-flight request: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("in-flight POST = %d, want 201", resp.StatusCode)
	}
	if err := <-r.done; err != nil {
		t.Fatalf("Run = %v", err)
	}
	r.done <- nil

	r = start(t, cfg, Options{})
	code, got := call(t, r.app.HTTPAddr(), "GET", "/v2/queues/drain/messages", consumerID, "")
	if code != http.StatusOK || !strings.Contains(got, `"in flight"`) {
		t.Fatalf("after restart: %d %q, want the message acknowledged during shutdown", code, got)
	}
}

// A second zedge on a data directory in use fails in New, and leaves the first one serving.
func TestNewFailsOnLockedDataDir(t *testing.T) {
	cfg := testConfig(t, StoreBadger)
	r := start(t, cfg, Options{})
	if _, err := New(cfg, slog.New(slog.DiscardHandler), Options{}); err == nil {
		t.Fatal("New on a data directory held by another store succeeded")
	}
	if code, _ := call(t, r.app.HTTPAddr(), "GET", "/v2/ping", producerID, ""); code != http.StatusNoContent {
		t.Errorf("first zedge no longer answers ping: %d", code)
	}
}

// A port in use fails in New, and the store New opened is closed again (so its directory is free).
func TestNewFailsOnPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg := testConfig(t, StoreBadger)
	cfg.HTTP.Addr = ln.Addr().String()
	if _, err := New(cfg, slog.New(slog.DiscardHandler), Options{}); err == nil {
		t.Fatal("New on a port in use succeeded")
	}
	cfg.HTTP.Addr = "127.0.0.1:0"
	r := start(t, cfg, Options{}) // would fail if the first New had left the directory locked
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
}

func TestNewRejectsInvalidConfig(t *testing.T) {
	cfg := testConfig(t, StoreMemory)
	cfg.ShutdownTimeout = 0
	if _, err := New(cfg, slog.New(slog.DiscardHandler), Options{}); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("New = %v, want ErrInvalidConfig", err)
	}
}

// The ready file holds the bound address and our pid while serving, and is gone after shutdown.
func TestReadyFile(t *testing.T) {
	ready := filepath.Join(t.TempDir(), "ready.json")
	r := start(t, testConfig(t, StoreMemory), Options{ReadyFile: ready})
	waitForFile(t, ready, r.done)
	got := readReadyFile(t, ready)
	if got.HTTP != r.app.HTTPAddr() || got.PID != os.Getpid() {
		t.Errorf("ready file = %+v, want http %s pid %d", got, r.app.HTTPAddr(), os.Getpid())
	}
	if code, _ := call(t, got.HTTP, "GET", "/v2/ping", producerID, ""); code != http.StatusNoContent {
		t.Errorf("ping at the ready file's address = %d", code)
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(ready); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ready file after shutdown: %v, want it removed", err)
	}
	entries, _ := os.ReadDir(filepath.Dir(ready))
	if len(entries) != 0 {
		t.Errorf("left behind in the ready file's directory: %v", entries)
	}
}

// A ready file that cannot be written makes Run fail, and Run still shuts everything down.
func TestReadyFileFailureStopsRun(t *testing.T) {
	a, err := New(testConfig(t, StoreMemory), slog.New(slog.DiscardHandler),
		Options{ReadyFile: filepath.Join(t.TempDir(), "missing-dir", "ready.json")})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "ready file") {
		t.Fatalf("Run = %v, want a ready file error", err)
	}
	if err := a.Store().Health(context.Background()); !errors.Is(err, store.ErrClosed) {
		t.Errorf("store Health after a failed Run = %v, want ErrClosed", err)
	}
}

type readyInfo struct {
	HTTP string `json:"http"`
	PID  int    `json:"pid"`
}

func readReadyFile(t *testing.T, path string) readyInfo {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got readyInfo
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("ready file %q: %v", data, err)
	}
	return got
}

// waitForFile waits until path exists, failing if Run ends first.
func waitForFile(t *testing.T, path string, done chan error) {
	t.Helper()
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		select {
		case err := <-done:
			done <- err
			t.Fatalf("Run ended before writing %s: %v", path, err)
		default:
		}
		time.Sleep(5 * time.Millisecond) // polling, not a deadline

	}
}
