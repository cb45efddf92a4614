package app

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCommand runs Command to completion with the given environment.
func runCommand(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut lockedBuffer
	code = Command(context.Background(), args, &out, &errOut, envOf(env))
	return code, out.String(), errOut.String()
}

func TestCheck(t *testing.T) {
	good := writeFile(t, "http:\n  addr: 127.0.0.1:9999\n")
	bad := writeFile(t, "store:\n  kind: floppy\n")
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		code     int
		stdout   string
		inStderr string
	}{
		{"defaults", []string{"-check"}, nil, ExitOK, "ok\n", ""},
		{"serve -check", []string{"serve", "-check"}, nil, ExitOK, "ok\n", ""},
		{"good file", []string{"serve", "-check", "-config", good}, nil, ExitOK, "ok\n", ""},
		{"flags in any order", []string{"-config", good, "-check"}, nil, ExitOK, "ok\n", ""},
		{"bad file", []string{"-check", "-config", bad}, nil, ExitUsage, "", "floppy"},
		{"missing file", []string{"-check", "-config", filepath.Join(t.TempDir(), "none.yaml")}, nil, ExitUsage, "", "none.yaml"},
		{"bad env", []string{"-check"}, map[string]string{EnvLogFormat: "yaml"}, ExitUsage, "", "yaml"},
		{"env fixes nothing it does not name", []string{"-check", "-config", bad},
			map[string]string{EnvHTTPAddr: "127.0.0.1:1"}, ExitUsage, "", "floppy"},
		{"env overrides a bad file value", []string{"-check", "-config", bad},
			map[string]string{EnvStore: "memory"}, ExitOK, "ok\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCommand(t, tt.env, tt.args...)
			if code != tt.code || stdout != tt.stdout {
				t.Errorf("zedge %v = exit %d stdout %q (stderr %q), want exit %d stdout %q",
					tt.args, code, stdout, stderr, tt.code, tt.stdout)
			}
			if !strings.Contains(stderr, tt.inStderr) {
				t.Errorf("stderr %q does not mention %q", stderr, tt.inStderr)
			}
		})
	}
}

func TestCommandLineErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"unknown command", []string{"launch"}, ExitUsage},
		{"unknown flag", []string{"serve", "-verbose"}, ExitUsage},
		{"stray argument", []string{"serve", "extra"}, ExitUsage},
		{"version with arguments", []string{"version", "x"}, ExitUsage},
		{"help", []string{"help"}, ExitOK},
		{"-h", []string{"-h"}, ExitOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCommand(t, nil, tt.args...)
			if code != tt.code {
				t.Errorf("zedge %v = exit %d, want %d", tt.args, code, tt.code)
			}
			if !strings.Contains(stdout+stderr, "Usage:") && tt.name != "version with arguments" {
				t.Errorf("zedge %v printed no usage: stdout %q stderr %q", tt.args, stdout, stderr)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	old := Version
	defer func() { Version = old }()
	Version = "v1.2.3-test"
	code, stdout, _ := runCommand(t, nil, "version")
	if code != ExitOK || !strings.HasPrefix(stdout, "zedge v1.2.3-test ") {
		t.Errorf("zedge version = exit %d %q", code, stdout)
	}
}

// Serving with a configuration that does not load is a startup failure: exit 1, the reason on stderr.
func TestServeWithBadConfigExits1(t *testing.T) {
	code, stdout, stderr := runCommand(t, map[string]string{EnvLogLevel: "loud"})
	if code != ExitFailure || stdout != "" || !strings.Contains(stderr, "loud") {
		t.Errorf("zedge with a bad level = exit %d stdout %q stderr %q, want exit 1 and the reason", code, stdout, stderr)
	}
}

func TestServePortInUseExits1(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	code, _, stderr := runCommand(t, map[string]string{
		EnvHTTPAddr: ln.Addr().String(), EnvStore: StoreMemory,
	})
	if code != ExitFailure || !strings.Contains(stderr, "zedge failed to start") {
		t.Errorf("zedge on a port in use = exit %d stderr %q, want exit 1", code, stderr)
	}
}

// The command serves with the environment's settings until its context ends, then exits 0.
func TestServeUntilCancelled(t *testing.T) {
	dir := t.TempDir()
	ready := filepath.Join(dir, "ready.json")
	env := envOf(map[string]string{
		EnvHTTPAddr:   "127.0.0.1:0",
		EnvMQTTAddr:   "127.0.0.1:0",
		EnvDataDir:    filepath.Join(dir, "data"),
		EnvReadyFile:  ready,
		EnvLogFormat:  "json",
		EnvAdminMode:  "true",
		EnvDurability: "async",
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr lockedBuffer
	done := make(chan error, 1)
	codes := make(chan int, 1)
	go func() {
		codes <- Command(ctx, nil, &stdout, &stderr, env)
		done <- nil
	}()
	waitForFile(t, ready, done)
	addr := readReadyFile(t, ready).HTTP
	if code, body := call(t, addr, "GET", "/v2/ping", producerID, ""); code != http.StatusNoContent {
		t.Fatalf("ping = %d %q", code, body)
	}
	cancel()
	if code := <-codes; code != ExitOK {
		t.Errorf("exit code after cancel = %d, want 0; stderr:\n%s", code, stderr.String())
	}
	logs := stderr.String()
	for _, want := range []string{`"msg":"zedge ready"`, `"durability":"async"`, `"msg":"zedge stopped"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("stderr lacks %s:\n%s", want, logs)
		}
	}
	if stdout.String() != "" {
		t.Errorf("serve wrote to stdout: %q", stdout.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); err != nil {
		t.Errorf("ZEDGE_DATA_DIR not used: %v", err)
	}
}
