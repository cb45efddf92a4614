package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runZedge runs the binary to completion and returns its exit code, stdout and stderr.
func runZedge(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(zedgeBin, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatalf("run zedge %v: %v", args, err)
	}
	return code, stdout.String(), stderr.String()
}

// TestCommandLine checks the binary's agreed interface: -check, version, and the exit codes of bad
// configurations and startup failures.
func TestCommandLine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	good := write("good.yaml", shortTTLConfig)
	badLimits := write("bad-limits.yaml", "limits:\n  min_message_ttl: 0\n")
	badYAML := write("bad-yaml.yaml", "limits: [\n")
	unknownDurability := write("bad-durability.yaml", "store:\n  badger:\n    durability: sometimes\n")

	for _, tc := range []struct {
		name        string
		env         []string
		args        []string
		code        int
		stdout      string // exact, after trimming
		stderrHas   string // substring
		emptyStdout bool
	}{
		{name: "check defaults", args: []string{"serve", "-check"}, stdout: "ok"},
		{name: "check without serve", args: []string{"-check"}, stdout: "ok"},
		{name: "check a good file", args: []string{"serve", "-check", "-config", good}, stdout: "ok"},
		{name: "check bad limits", args: []string{"serve", "-check", "-config", badLimits}, code: 2,
			stderrHas: "min_message_ttl", emptyStdout: true},
		{name: "check bad YAML", args: []string{"-check", "-config", badYAML}, code: 2, emptyStdout: true},
		{name: "check bad durability", args: []string{"-check", "-config", unknownDurability}, code: 2,
			stderrHas: "durability", emptyStdout: true},
		{name: "check a bad environment", env: []string{"ZEDGE_DURABILITY=never"}, args: []string{"-check"}, code: 2,
			emptyStdout: true},
		{name: "check a missing file", args: []string{"-check", "-config", filepath.Join(dir, "nope.yaml")}, code: 2,
			emptyStdout: true},
		{name: "serve with bad limits", args: []string{"serve", "-config", badLimits}, code: 1,
			env: []string{"ZEDGE_HTTP_ADDR=127.0.0.1:0", "ZEDGE_DATA_DIR=" + filepath.Join(dir, "d1")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runZedge(t, tc.env, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d; stdout %q stderr %q", code, tc.code, stdout, stderr)
			}
			if tc.stdout != "" && strings.TrimSpace(stdout) != tc.stdout {
				t.Errorf("stdout %q, want %q", stdout, tc.stdout)
			}
			if tc.emptyStdout && stdout != "" {
				t.Errorf("stdout %q, want nothing (errors go to stderr)", stdout)
			}
			if tc.code != 0 && strings.TrimSpace(stderr) == "" {
				t.Error("a failure with nothing on stderr")
			}
			if tc.stderrHas != "" && !strings.Contains(stderr, tc.stderrHas) {
				t.Errorf("stderr %q does not mention %q", stderr, tc.stderrHas)
			}
		})
	}

	t.Run("version", func(t *testing.T) {
		code, stdout, _ := runZedge(t, nil, "version")
		if code != 0 || !strings.HasPrefix(stdout, "zedge ") {
			t.Errorf("version: exit %d, stdout %q", code, stdout)
		}
	})

	t.Run("port in use", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		code, _, stderr := runZedge(t, []string{"ZEDGE_HTTP_ADDR=" + ln.Addr().String(),
			"ZEDGE_DATA_DIR=" + filepath.Join(dir, "d2")}, "serve")
		if code != 1 || strings.TrimSpace(stderr) == "" {
			t.Errorf("port in use: exit %d (want 1), stderr %q", code, stderr)
		}
	})

	t.Run("data dir in use", func(t *testing.T) {
		s := startServer(t, serverOptions{})
		code, _, stderr := runZedge(t, []string{"ZEDGE_HTTP_ADDR=127.0.0.1:0", "ZEDGE_DATA_DIR=" + s.dataDir}, "serve")
		if code != 1 || strings.TrimSpace(stderr) == "" {
			t.Errorf("second server on a locked data dir: exit %d (want 1), stderr %q", code, stderr)
		}
		// The first server is unharmed.
		newClient(t, s, "p").do("GET", "/v2/ping", nil).expect(t, 204)
		s.stop()
	})

	t.Run("memory store keeps nothing", func(t *testing.T) {
		s := startServer(t, serverOptions{env: []string{"ZEDGE_STORE=memory"}})
		c := newClient(t, s, "p")
		c.post("q", map[string]any{"body": 1, "ttl": 60})
		s.stop()
		s2 := s.restart(t)
		if total, _, _ := newClient(t, s2, "p").stats("q"); total != 0 {
			t.Errorf("memory store: %d messages after a restart, want 0", total)
		}
	})
}

// TestSIGTERMFinishesInFlight starts a POST, sends SIGTERM while its body is still arriving, then sends the rest:
// the request must complete (201), the process exit 0, and the message be there after a restart.
func TestSIGTERMFinishesInFlight(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})
	c := newClient(t, s, "drain")
	c.do("PUT", "/v2/queues/drain", nil).expect(t, 201)

	body := `{"messages": [{"ttl": 600, "body": {"in": "flight"}}]}`
	conn, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	head := "POST /v2/queues/drain/messages HTTP/1.1\r\nHost: " + s.addr + "\r\nClient-ID: " + c.clientID +
		"\r\nX-Project-ID: drain\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
	half := len(body) / 2
	if _, err := conn.Write([]byte(head + body[:half])); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // let the server start on the request
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // let the shutdown begin
	if _, err := conn.Write([]byte(body[half:])); err != nil {
		t.Fatalf("the server dropped an in-flight request on SIGTERM: %v", err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to the in-flight request after SIGTERM: %v", err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	conn.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("in-flight POST after SIGTERM: %d %s, want 201", resp.StatusCode, raw)
	}
	var res struct {
		Resources []string `json:"resources"`
	}
	if err := json.Unmarshal(raw, &res); err != nil || len(res.Resources) != 1 {
		t.Fatalf("201 body %s", raw)
	}
	<-s.done
	if s.waitErr != nil {
		t.Fatalf("exit after SIGTERM: %v, want status 0", s.waitErr)
	}
	s2 := s.restart(t)
	if m, r := newClient(t, s2, "drain").get("drain", idFromPath(res.Resources[0])); r.status != 200 ||
		!jsonEqual(t, m.Body, []byte(`{"in": "flight"}`)) {
		t.Errorf("%s: the drained message is not there after the restart", r)
	}
}
