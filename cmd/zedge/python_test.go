package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// python is the interpreter the Debian python3-zaqarclient package installs into.
const python = "/usr/bin/python3"

// requireZaqarclient fails the test (not skips: the client is a required test dependency) when the Debian
// package is missing.
func requireZaqarclient(t *testing.T) {
	t.Helper()
	out, err := exec.Command(python, "-c", "import zaqarclient.queues.v2.client").CombinedOutput()
	if err != nil {
		t.Fatalf("python-zaqarclient is not importable with %s (%v: %s); run `make test`, which installs the "+
			"Debian package python3-zaqarclient", python, err, strings.TrimSpace(string(out)))
	}
}

// runPython runs testdata/<script> against the server; the script prints FAIL and exits non-zero on any failed
// check.
func runPython(t *testing.T, s *server, script, project string, args ...string) {
	t.Helper()
	path, err := filepath.Abs(filepath.Join("testdata", script))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, append([]string{path, s.base, project}, args...)...)
	cmd.Dir = filepath.Dir(path)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("%s failed (%v):\n%s", script, err, out)
		return
	}
	if !strings.HasSuffix(strings.TrimSpace(string(out)), "ok") {
		t.Errorf("%s did not report ok:\n%s", script, out)
	}
}

// TestPythonZaqarclient drives the unchanged python-zaqarclient 2.4.0 against zedge: one script per area, each
// against its own server.
func TestPythonZaqarclient(t *testing.T) {
	t.Parallel()
	requireZaqarclient(t)
	cases := []struct {
		script    string
		adminMode bool
		args      []string
	}{
		{script: "zaqarclient_queues.py", args: []string{"noadmin"}},
		{script: "zaqarclient_queues.py", adminMode: true, args: []string{"admin"}},
		{script: "zaqarclient_messages.py"},
		{script: "zaqarclient_claims.py"},
		{script: "zaqarclient_subscriptions.py"},
	}
	for _, tc := range cases {
		name := strings.TrimSuffix(tc.script, ".py")
		if tc.adminMode {
			name += "_admin_mode"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, serverOptions{adminMode: tc.adminMode})
			runPython(t, s, tc.script, "py-"+name, tc.args...)
		})
	}
}
