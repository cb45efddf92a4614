package main

// End-to-end tests: every test here runs the real zedge binary as a child process on 127.0.0.1:0 with its own data
// directory, and talks to it only over the wire (python-zaqarclient, gophercloud, raw HTTP). TestMain builds the
// binary once.

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// zedgeBin is the binary built by TestMain.
var zedgeBin string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	// Each e2e test spends most of its time waiting on its own server process (and on TTLs running out), not on
	// the CPU, so run more of them at once than the default GOMAXPROCS unless -parallel was given.
	flag.Parse()
	parallelSet := false
	flag.Visit(func(f *flag.Flag) { parallelSet = parallelSet || f.Name == "test.parallel" })
	if !parallelSet {
		_ = flag.Set("test.parallel", "8")
	}
	dir, err := os.MkdirTemp("", "zedge-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: temp dir:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	zedgeBin = filepath.Join(dir, "zedge")
	build := exec.Command("go", "build", "-o", zedgeBin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: building the zedge binary failed:", err)
		return 1
	}
	return m.Run()
}

// serverOptions configures one zedge process.
type serverOptions struct {
	// config is written to a YAML file passed with -config ("" means no -config flag).
	config string
	// dataDir is reused across restarts; "" means a fresh t.TempDir().
	dataDir   string
	adminMode bool
	// env adds KEY=VALUE pairs (after the defaults, so they win).
	env []string
}

// shortTTLConfig lowers the minimum TTLs so expiry tests take seconds.
const shortTTLConfig = `
limits:
  min_message_ttl: 1
  min_claim_ttl: 1
  min_claim_grace: 1
`

// server is a running zedge process.
type server struct {
	t       testing.TB
	opts    serverOptions
	cmd     *exec.Cmd
	stderr  *syncBuffer
	base    string // http://127.0.0.1:port
	addr    string
	mqtt    string // the MQTT listener, host:port
	ws      string // the websocket listener, host:port
	pid     int
	dataDir string
	done    chan struct{} // closed when the process has exited
	waitErr error
}

// syncBuffer collects a child's stderr while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startServer starts zedge and waits for its ready file. The process is killed at the end of the test if the test
// did not stop it; on failure its stderr goes to the test log.
func startServer(t testing.TB, opts serverOptions) *server {
	t.Helper()
	if opts.dataDir == "" {
		opts.dataDir = t.TempDir()
	}
	work := t.TempDir()
	readyFile := filepath.Join(work, "ready.json")
	args := []string{"serve"}
	if opts.config != "" {
		cfg := filepath.Join(work, "zedge.yaml")
		if err := os.WriteFile(cfg, []byte(opts.config), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "-config", cfg)
	}
	cmd := exec.Command(zedgeBin, args...)
	cmd.Env = append(os.Environ(),
		"ZEDGE_HTTP_ADDR=127.0.0.1:0",
		"ZEDGE_MQTT_ADDR=127.0.0.1:0",
		"ZEDGE_WS_ADDR=127.0.0.1:0",
		"ZEDGE_DATA_DIR="+opts.dataDir,
		"ZEDGE_READY_FILE="+readyFile,
		"ZEDGE_ADMIN_MODE="+strconv.FormatBool(opts.adminMode),
	)
	cmd.Env = append(cmd.Env, opts.env...)
	s := &server{t: t, opts: opts, cmd: cmd, stderr: &syncBuffer{}, dataDir: opts.dataDir, done: make(chan struct{})}
	cmd.Stderr = s.stderr
	cmd.Stdout = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start zedge: %v", err)
	}
	s.pid = cmd.Process.Pid
	go func() {
		s.waitErr = cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			_ = s.cmd.Process.Kill()
			<-s.done
		}
		if t.Failed() {
			t.Logf("zedge (pid %d) stderr:\n%s", s.pid, s.stderr.String())
		}
	})

	// A generous bound: the server normally is ready within a second; this only keeps a hung start from hanging
	// the whole suite.
	deadline := time.Now().Add(60 * time.Second)
	for {
		if raw, err := os.ReadFile(readyFile); err == nil {
			var ready struct {
				HTTP string `json:"http"`
				MQTT string `json:"mqtt"`
				WS   string `json:"ws"`
				PID  int    `json:"pid"`
			}
			if err := json.Unmarshal(raw, &ready); err != nil {
				t.Fatalf("ready file %s is not the agreed JSON object: %v: %q", readyFile, err, raw)
			}
			if ready.HTTP == "" {
				t.Fatalf("ready file has no \"http\" address: %s", raw)
			}
			if ready.PID != s.pid {
				t.Errorf("ready file pid = %d, want the process id %d", ready.PID, s.pid)
			}
			s.addr = ready.HTTP
			s.mqtt = ready.MQTT
			s.ws = ready.WS
			s.base = "http://" + ready.HTTP
			return s
		}
		select {
		case <-s.done:
			t.Fatalf("zedge exited before it was ready (%v); stderr:\n%s", s.waitErr, s.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("zedge did not write its ready file within a minute; stderr:\n%s", s.stderr.String())
		}
	}
}

// stop sends SIGTERM and checks a clean exit (status 0).
func (s *server) stop() {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-s.done:
	case <-time.After(60 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
		s.t.Fatalf("zedge did not exit within a minute of SIGTERM; stderr:\n%s", s.stderr.String())
	}
	if s.waitErr != nil {
		s.t.Fatalf("zedge exited with %v after SIGTERM, want exit status 0; stderr:\n%s", s.waitErr, s.stderr.String())
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (s *server) kill() {
	s.t.Helper()
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
	var exitErr *exec.ExitError
	if !errors.As(s.waitErr, &exitErr) {
		s.t.Fatalf("after SIGKILL: %v", s.waitErr)
	}
}

// restart starts a new process on the same data directory, with the same options.
func (s *server) restart(t testing.TB) *server {
	opts := s.opts
	opts.dataDir = s.dataDir
	return startServer(t, opts)
}

// rssKiB reads the process's resident set size from /proc.
func (s *server) rssKiB() (int, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
		}
	}
	return 0, errors.New("no VmRSS line")
}

func (s *server) running() bool {
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}
