package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestPythonZaqarclientWebsocket drives python-zaqarclient's own websocket transport (Debian's package, with
// python3-websocket) against the binary in jwt mode: authenticate, queue_create, message_post, message_list,
// claim_create, and the client's typed errors.
func TestPythonZaqarclientWebsocket(t *testing.T) {
	t.Parallel()
	requireZaqarclient(t)
	if out, err := exec.Command(python, "-c", "import websocket").CombinedOutput(); err != nil {
		t.Fatalf("python3-websocket is not importable with %s (%v: %s); run `make test`, which installs the "+
			"Debian package python3-websocket", python, err, strings.TrimSpace(string(out)))
	}
	s, env := mqttServer(t, "")
	token := mintToken(t, env, "ops", "member")
	path, err := filepath.Abs(filepath.Join("testdata", "zaqarclient_websocket.py"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(python, path, "ws://"+s.ws+"/", "campus", token).CombinedOutput()
	if err != nil || !strings.HasSuffix(strings.TrimSpace(string(out)), "ok") {
		t.Fatalf("zaqarclient_websocket.py failed (%v):\n%s", err, out)
	}
}
