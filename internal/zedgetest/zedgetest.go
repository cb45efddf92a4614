// Package zedgetest runs the real zedge binary for the end-to-end tests of packages other than cmd/zedge (the
// campus simulator, zedge-sim, the web app): built once per test binary from cmd/zedge, started on free
// loopback ports with its own data directory, and found through its ready file. A package that uses it calls
// Main from its TestMain, which removes the built binary when the tests end.
package zedgetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

var build struct {
	sync.Once
	main bool // Main is running the tests
	dir  string
	path string
	err  error
}

// Main runs the tests and then removes the binary that Start built. Call it from TestMain:
//
//	func TestMain(m *testing.M) { zedgetest.Main(m) }
func Main(m *testing.M) {
	build.main = true
	code := m.Run()
	if build.dir != "" {
		_ = os.RemoveAll(build.dir)
	}
	os.Exit(code)
}

// Binary builds cmd/zedge once per test binary and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	if !build.main {
		t.Fatal("zedgetest: call zedgetest.Main(m) from the package's TestMain (it removes the built binary)")
	}
	build.Do(func() {
		if build.dir, build.err = os.MkdirTemp("", "zedgetest-"); build.err != nil {
			return
		}
		build.path = filepath.Join(build.dir, "zedge")
		out, err := exec.Command("go", "build", "-o", build.path, "github.com/zedge-io/zedge/cmd/zedge").CombinedOutput()
		if err != nil {
			build.err = fmt.Errorf("%w\n%s", err, out)
		}
	})
	if build.err != nil {
		t.Fatalf("zedgetest: building zedge: %v", build.err)
	}
	return build.path
}

// Options configures one zedge process.
type Options struct {
	// Env adds KEY=VALUE pairs after the defaults (free loopback ports, the data directory, log level warn),
	// so they win.
	Env []string
	// Config, when not empty, is written to a file passed with -config.
	Config string
}

// Server is a running zedge. Its addresses stay the same across Restart.
type Server struct {
	HTTP, MQTT, WS string // bound host:port of each listener
	DataDir        string
	ReadyFile      string // present while zedge serves

	t    testing.TB
	dir  string
	env  []string
	args []string
	cmd  *exec.Cmd
	done chan struct{}
	logs *Buffer
}

// Start starts zedge and waits until it serves. It is stopped (SIGINT, then SIGKILL after 30 s) when the test
// ends, and its log is printed if the test failed.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	dir := t.TempDir()
	s := &Server{t: t, dir: dir, DataDir: filepath.Join(dir, "data"), ReadyFile: filepath.Join(dir, "ready.json"),
		args: []string{"serve"}, logs: &Buffer{}}
	if opts.Config != "" {
		path := filepath.Join(dir, "zedge.yaml")
		if err := os.WriteFile(path, []byte(opts.Config), 0o600); err != nil {
			t.Fatal(err)
		}
		s.args = append(s.args, "-config", path)
	}
	s.env = append([]string{"ZEDGE_HTTP_ADDR=127.0.0.1:0", "ZEDGE_MQTT_ADDR=127.0.0.1:0", "ZEDGE_WS_ADDR=127.0.0.1:0",
		"ZEDGE_DATA_DIR=" + s.DataDir, "ZEDGE_LOG_LEVEL=warn"}, opts.Env...)
	s.start(Binary(t))
	// A restart comes back on the same addresses.
	s.env = append(s.env, "ZEDGE_HTTP_ADDR="+s.HTTP, "ZEDGE_MQTT_ADDR="+s.MQTT, "ZEDGE_WS_ADDR="+s.WS)
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("zedge log:\n%s", s.logs.String())
		}
	})
	return s
}

func (s *Server) start(bin string) {
	t := s.t
	t.Helper()
	_ = os.Remove(s.ReadyFile)
	s.cmd = exec.Command(bin, s.args...)
	s.cmd.Env = append(append(os.Environ(), s.env...), "ZEDGE_READY_FILE="+s.ReadyFile)
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("zedgetest: start zedge: %v", err)
	}
	done, cmd := make(chan struct{}), s.cmd
	s.done = done
	go func() { _ = cmd.Wait(); close(done) }()
	// The bound only keeps a broken start from hanging the suite; it is not a speed check.
	for deadline := time.Now().Add(60 * time.Second); ; {
		var ready struct{ HTTP, MQTT, WS string }
		if raw, err := os.ReadFile(s.ReadyFile); err == nil && json.Unmarshal(raw, &ready) == nil {
			s.HTTP, s.MQTT, s.WS = ready.HTTP, ready.MQTT, ready.WS
			return
		}
		select {
		case <-done:
			t.Fatalf("zedgetest: zedge exited before it was ready:\n%s", s.logs.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("zedgetest: zedge wrote no ready file within a minute:\n%s", s.logs.String())
		}
	}
}

// Stop ends zedge with SIGINT, its orderly shutdown (SIGKILL if it has not ended after 30 s). Stopping a
// stopped server does nothing.
func (s *Server) Stop() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// Kill is a crash: SIGKILL, no shutdown.
func (s *Server) Kill() {
	_ = s.cmd.Process.Kill()
	<-s.done
}

// Restart starts zedge again, stopped or killed, on the same addresses, data directory and configuration.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	s.start(Binary(s.t))
}

// Logs is what zedge wrote to stdout and stderr so far.
func (s *Server) Logs() string { return s.logs.String() }

// Buffer is a bytes.Buffer that a process writes while a test reads it.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
