package app

import (
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zedge-io/zedge/signing/revoke"
	"github.com/zedge-io/zedge/store/redisstore/redistest"
)

// revocationNode is the environment of a jwt-mode node on the Redis at addr, with its own data directory.
func revocationNode(t *testing.T, addr string) map[string]string {
	return map[string]string{EnvAuth: "jwt", EnvJWTSecret: testJWTSecret, EnvStore: StoreRedis, EnvRedisAddrs: addr,
		EnvDataDir: filepath.Join(t.TempDir(), "data"), EnvHTTPAddr: "127.0.0.1:0", EnvMQTTAddr: "127.0.0.1:0",
		EnvWSAddr: "127.0.0.1:0"}
}

func startNode(t *testing.T, env map[string]string) *running {
	t.Helper()
	cfg, err := Load("", envOf(env))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Auth.Revocations.PollInterval = 20 * time.Millisecond
	return start(t, cfg, Options{})
}

// postWith is the status of a message post to node with token.
func postWith(t *testing.T, node *running, token string) int {
	t.Helper()
	req, _ := http.NewRequest("POST", "http://"+node.app.HTTPAddr()+"/v2/queues/telemetry/messages",
		strings.NewReader(`{"messages": [{"body": {"celsius": 21.5}}]}`))
	req.Header.Set("Client-ID", producerID)
	req.Header.Set("X-Auth-Token", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestRevocationsSharedOnRedis: with store kind redis the revocation list is one list in Redis. `zedge revoke`
// run with node A's configuration refuses the token on node B too, and -remove lets it in again on both; no
// revocation file is written; a node's file from before Redis is imported once at its start.
func TestRevocationsSharedOnRedis(t *testing.T) {
	addr := redistest.StartSingle(t)
	envA, envB := revocationNode(t, addr), revocationNode(t, addr)

	mint := func(sub string) string {
		t.Helper()
		code, tok, stderr := runCommand(t, envA, "token", "-sub", sub, "-project", "campus", "-roles", "device", "-ttl", "1h")
		if code != ExitOK {
			t.Fatalf("token: exit %d %s", code, stderr)
		}
		return strings.TrimSpace(tok)
	}
	// Node A revoked a subject before it moved to Redis: that revocation must survive the move.
	stolen := mint("stolen-7")
	oldFile := filepath.Join(envA[EnvDataDir], revoke.DefaultFileName)
	old, err := revoke.Open(revoke.Config{File: oldFile, PollInterval: time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Revoke(revoke.Entry{Kind: revoke.Subject, ID: "stolen-7", Reason: "before redis"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	old.Close()

	a, b := startNode(t, envA), startNode(t, envB)
	for _, n := range []*running{a, b} {
		waitUntil(t, func() bool { return strings.Contains(n.logs.String(), `msg="zedge ready"`) })
		if !strings.Contains(n.logs.String(), `revocations="redis key zedge:revocations"`) {
			t.Fatalf("the ready line does not say where the list is:\n%s", n.logs.String())
		}
	}
	if _, err := os.Stat(oldFile + ".imported"); err != nil {
		t.Fatalf("the old file was not renamed after its import: %v", err)
	}
	if _, err := os.Stat(oldFile); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the old file is still in place: %v", err)
	}
	if !strings.Contains(a.logs.String(), "revocation file imported into the shared list") {
		t.Fatalf("no log line for the import:\n%s", a.logs.String())
	}

	tok := mint("thermostat-7")
	if got := postWith(t, b, stolen); got != http.StatusUnauthorized {
		t.Fatalf("node B accepts a token of the subject node A had revoked in its file: %d", got)
	}
	for name, n := range map[string]*running{"A": a, "B": b} {
		if got := postWith(t, n, tok); got != http.StatusCreated {
			t.Fatalf("node %s before the revocation: %d", name, got)
		}
	}

	if code, out, stderr := runCommand(t, envA, "revoke", "-token", tok, "-reason", "leaked"); code != ExitOK || !strings.Contains(out, `"kind":"jti"`) {
		t.Fatalf("revoke -token: exit %d %q %q", code, out, stderr)
	}
	waitUntil(t, func() bool { return postWith(t, b, tok) == http.StatusUnauthorized })
	waitUntil(t, func() bool { return postWith(t, a, tok) == http.StatusUnauthorized })

	// Node B's configuration lists the same entries.
	code, out, _ := runCommand(t, envB, "revoke", "-list")
	if code != ExitOK || strings.Count(out, "\n") != 2 || !strings.Contains(out, "leaked") || !strings.Contains(out, "stolen-7") {
		t.Fatalf("revoke -list with node B's configuration: %d %q", code, out)
	}
	jti := between(out, `"kind":"jti","id":"`, `"`)
	if code, _, stderr := runCommand(t, envB, "revoke", "-remove", "-jti", jti); code != ExitOK {
		t.Fatalf("revoke -remove: %d %q", code, stderr)
	}
	waitUntil(t, func() bool { return postWith(t, a, tok) == http.StatusCreated })

	for _, env := range []map[string]string{envA, envB} {
		if _, err := os.Stat(filepath.Join(env[EnvDataDir], revoke.DefaultFileName)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("a revocation file in %s with store kind redis: %v", env[EnvDataDir], err)
		}
	}
}

// A node whose old revocation file does not parse does not start on Redis: what it revoked cannot be known.
func TestCorruptRevocationFileStopsRedisStart(t *testing.T) {
	env := revocationNode(t, redistest.StartSingle(t))
	if err := os.MkdirAll(env[EnvDataDir], 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(env[EnvDataDir], revoke.DefaultFileName), []byte("revoked: j1"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load("", envOf(env))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(cfg, slog.New(slog.DiscardHandler), Options{}); !errors.Is(err, revoke.ErrCorrupt) || !strings.Contains(err.Error(), "remove it") {
		t.Fatalf("New with a corrupt old revocation file: %v", err)
	}
}

func between(s, start, end string) string {
	_, rest, _ := strings.Cut(s, start)
	v, _, _ := strings.Cut(rest, end)
	return v
}
