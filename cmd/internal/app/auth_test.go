package app

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zedge-io/zedge/broker/httpapi"
	"github.com/zedge-io/zedge/signing"
	"github.com/zedge-io/zedge/signing/revoke"
)

const (
	testJWTSecret = "app-test-jwt-secret-of-at-least-32-bytes"
	testURLSecret = "test-secret" // Zaqar's example key: short, accepted with a warning
)

func TestLoadAuthEnvironment(t *testing.T) {
	cfg, err := Load("", envOf(map[string]string{EnvAuth: "jwt", EnvJWTSecret: testJWTSecret, EnvSigningKey: testURLSecret}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Auth.Mode != httpapi.AuthJWT || len(cfg.Signing.URLKeys) != 1 || string(cfg.Signing.URLKeys[0].Secret) != testURLSecret ||
		len(cfg.Signing.Token.Secrets) != 1 || cfg.Signing.Token.SigningKey != EnvKeyID {
		t.Fatalf("env not applied: %+v", cfg)
	}
	// The environment replaces the file's keys, and keeps a private signing key the file chose.
	path := writeFile(t, `
signing:
  url_keys: [{id: old, secret: from-file}, {id: new, secret: from-file-2}]
  url_primary_key: new
  token:
    secrets: [{id: filekey, secret: file-secret-of-at-least-32-bytes-long}]
    signing_key: filekey
`)
	cfg, err = Load(path, envOf(map[string]string{EnvSigningKey: testURLSecret, EnvJWTSecret: testJWTSecret}))
	if err != nil {
		t.Fatal(err)
	}
	ring, _ := cfg.Signing.KeyRing()
	if strings.Join(ring.IDs(), ",") != EnvKeyID || cfg.Signing.Token.SigningKey != EnvKeyID {
		t.Fatalf("ring %v, signing key %q", ring.IDs(), cfg.Signing.Token.SigningKey)
	}
	// Without the environment the file's keys stand.
	cfg, err = Load(path, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if ring, _ := cfg.Signing.KeyRing(); ring.PrimaryID() != "new" || cfg.Signing.Token.SigningKey != "filekey" {
		t.Fatalf("file keys: %v %q", ring.IDs(), cfg.Signing.Token.SigningKey)
	}
	// Secrets never reach a printed configuration.
	if s := (cfg.Signing.URLKeys[0].Secret).String(); strings.Contains(s, "from-file") {
		t.Fatal("secret printed")
	}
}

func TestLoadAuthErrors(t *testing.T) {
	for name, env := range map[string]map[string]string{
		"unknown mode":          {EnvAuth: "keystone"},
		"jwt without a key":     {EnvAuth: "jwt"},
		"short jwt secret":      {EnvAuth: "jwt", EnvJWTSecret: "short"},
		"slow revocation polls": {}, // set by the file below
	} {
		t.Run(name, func(t *testing.T) {
			path := ""
			if name == "slow revocation polls" {
				path = writeFile(t, "auth:\n  revocations:\n    poll_interval: 5s\n")
			}
			_, err := Load(path, envOf(env))
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), "auth") && !strings.Contains(err.Error(), "signing") {
				t.Fatalf("error does not name its section: %v", err)
			}
		})
	}
	code, _, stderr := runCommand(t, map[string]string{EnvAuth: "jwt"}, "-check")
	if code != ExitUsage || !strings.Contains(stderr, EnvJWTSecret) {
		t.Fatalf("-check in jwt mode without a key: exit %d, %q", code, stderr)
	}
}

func TestRevocationFileDefault(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Store.Badger.Dir = "/var/lib/zedge"
	if got := cfg.RevocationFile(); got != "/var/lib/zedge/revocations.json" {
		t.Fatalf("default %q", got)
	}
	cfg.Auth.Revocations.File = "/etc/zedge/revoked.json"
	if got := cfg.RevocationFile(); got != "/etc/zedge/revoked.json" {
		t.Fatalf("configured %q", got)
	}
}

// authEnv is an environment for a jwt-mode zedge with both keys, its data in dir.
func authEnv(dir string) map[string]string {
	return map[string]string{EnvAuth: "jwt", EnvJWTSecret: testJWTSecret, EnvSigningKey: testURLSecret,
		EnvDataDir: dir, EnvStore: StoreMemory}
}

// TestCredentialCommandsAgainstApp: tokens from `zedge token` and URLs from `zedge sign` work against a
// running App configured the same way, and `zedge revoke` withdraws them while it runs.
func TestCredentialCommandsAgainstApp(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	env := authEnv(dir)
	cfg, err := Load("", envOf(env))
	if err != nil {
		t.Fatal(err)
	}
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.MQTT.Addr = "127.0.0.1:0"
	cfg.Websocket.Addr = "127.0.0.1:0"
	cfg.Auth.Revocations.PollInterval = 20 * time.Millisecond
	r := start(t, cfg, Options{})
	if !strings.Contains(r.logs.String(), "URL-signing secrets shorter than recommended") {
		t.Fatalf("no warning for the short URL key:\n%s", r.logs.String())
	}
	addr := r.app.HTTPAddr()
	env[EnvHTTPAddr] = addr

	code, tok, stderr := runCommand(t, env, "token", "-sub", "thermostat-7", "-project", "campus", "-roles", "device", "-ttl", "24h")
	if code != ExitOK || strings.Count(tok, ".") != 2 || !strings.Contains(stderr, "jti=") {
		t.Fatalf("token: exit %d %q %q", code, tok, stderr)
	}
	tok = strings.TrimSpace(tok)
	claims, err := signing.VerifyToken(mustTokenKeys(t, cfg), tok, time.Now(), 0)
	if err != nil || claims.Subject != "thermostat-7" || claims.ProjectID != "campus" || !claims.IsDevice() ||
		claims.ExpiresAt.Sub(claims.IssuedAt.Time) != 24*time.Hour {
		t.Fatalf("claims %+v: %v", claims, err)
	}
	status := func(method, rawURL string, hdr map[string]string, body string) int {
		t.Helper()
		var rd *strings.Reader
		if body != "" {
			rd = strings.NewReader(body)
		} else {
			rd = strings.NewReader("")
		}
		req, _ := http.NewRequest(method, rawURL, rd)
		req.Header.Set("Client-ID", producerID)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	post := `{"messages": [{"body": {"celsius": 21.5}}]}`
	base := "http://" + addr
	if got := status("POST", base+"/v2/queues/telemetry-b1/messages", map[string]string{"X-Auth-Token": tok}, post); got != 201 {
		t.Fatalf("post with the token: %d", got)
	}
	if got := status("POST", base+"/v2/queues/telemetry-b1/messages", nil, post); got != 401 {
		t.Fatalf("post without a token: %d", got)
	}

	code, out, stderr := runCommand(t, env, "sign", "-queue", "telemetry-b1", "-methods", "POST", "-paths", "messages",
		"-expires", "1h", "-project", "campus")
	if code != ExitOK {
		t.Fatalf("sign: exit %d %s", code, stderr)
	}
	signed := field(t, out, "url")
	if !strings.HasPrefix(signed, base+"/v2/queues/telemetry-b1/messages?") || !strings.Contains(out, "curl -sS -X POST") ||
		!strings.Contains(out, "URL-Methods: POST") || !strings.Contains(out, "X-Project-ID: campus") {
		t.Fatalf("sign output:\n%s", out)
	}
	if got := status("POST", signed, nil, post); got != 201 {
		t.Fatalf("post with the signed URL: %d", got)
	}
	hdr := map[string]string{"X-Project-ID": "campus"}
	for _, k := range []string{"URL-Signature", "URL-Expires", "URL-Methods", "URL-Paths"} {
		hdr[k] = field(t, out, k)
	}
	if got := status("POST", base+"/v2/queues/telemetry-b1/messages", hdr, post); got != 201 {
		t.Fatalf("post with the header form: %d", got)
	}
	if got := status("GET", signed, nil, ""); got != 404 {
		t.Fatalf("GET with a POST-only URL: %d", got)
	}

	// Revoke both from the command line while the app runs; it follows within its poll interval.
	if code, out, stderr := runCommand(t, env, "revoke", "-url", signed, "-reason", "test"); code != ExitOK || !strings.Contains(out, `"kind":"signature"`) {
		t.Fatalf("revoke -url: exit %d %q %q", code, out, stderr)
	}
	if code, _, stderr := runCommand(t, env, "revoke", "-token", tok); code != ExitOK {
		t.Fatalf("revoke -token: exit %d %q", code, stderr)
	}
	waitUntil(t, func() bool {
		return status("POST", signed, nil, post) == 404 &&
			status("POST", base+"/v2/queues/telemetry-b1/messages", map[string]string{"X-Auth-Token": tok}, post) == 401
	})
	if got := status("POST", base+"/v2/queues/telemetry-b1/messages", hdr, post); got != 404 {
		t.Fatalf("header form of the revoked URL: %d", got)
	}
	code, out, _ = runCommand(t, env, "revoke", "-list")
	if code != ExitOK || strings.Count(out, "\n") != 2 || strings.Contains(out, hdr["URL-Signature"]) {
		t.Fatalf("revoke -list: %d %q", code, out)
	}
	// Undo one: the token works again.
	if code, _, stderr := runCommand(t, env, "revoke", "-remove", "-jti", claims.ID); code != ExitOK {
		t.Fatalf("revoke -remove: %d %q", code, stderr)
	}
	waitUntil(t, func() bool {
		return status("POST", base+"/v2/queues/telemetry-b1/messages", map[string]string{"X-Auth-Token": tok}, post) == 201
	})
	counters := r.app.Guard().Counters()
	if counters["signed_url.revoked"] == 0 || counters["token.revoked"] == 0 || counters["token.missing"] != 1 {
		t.Fatalf("counters %v", counters)
	}
	if _, err := os.Stat(filepath.Join(dir, revoke.DefaultFileName)); err != nil {
		t.Fatalf("revocation file not in the data directory: %v", err)
	}
}

func TestCredentialCommandErrors(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	env := authEnv(dir)
	noKeys := map[string]string{EnvDataDir: dir}
	for _, tc := range []struct {
		name     string
		env      map[string]string
		args     []string
		code     int
		inStderr string
	}{
		{"sign without a key", noKeys, []string{"sign", "-queue", "q", "-project", "p"}, ExitFailure, EnvSigningKey},
		{"sign without a queue", env, []string{"sign", "-project", "p"}, ExitUsage, "-queue"},
		{"sign without a project", env, []string{"sign", "-queue", "q"}, ExitUsage, "-project"},
		{"sign a bad method", env, []string{"sign", "-queue", "q", "-project", "p", "-methods", "POST,FETCH"}, ExitUsage, "FETCH"},
		{"sign a bad path", env, []string{"sign", "-queue", "q", "-project", "p", "-paths", "stats"}, ExitUsage, "Invalid paths"},
		{"sign another queue's path", env, []string{"sign", "-queue", "q", "-project", "p", "-paths", "/v2/queues/other/messages"}, ExitUsage, "not under"},
		{"sign in the past", env, []string{"sign", "-queue", "q", "-project", "p", "-expires", "2001-01-01T00:00:00"}, ExitUsage, "future"},
		{"sign with port 0", merge(env, map[string]string{EnvHTTPAddr: "127.0.0.1:0"}), []string{"sign", "-queue", "q", "-project", "p"}, ExitUsage, "-url"},
		{"token without a key", noKeys, []string{"token", "-sub", "s", "-project", "p"}, ExitFailure, EnvJWTSecret},
		{"token without a subject", env, []string{"token", "-project", "p"}, ExitUsage, "sub"},
		{"token with a bad role", env, []string{"token", "-sub", "s", "-project", "p", "-roles", "root"}, ExitUsage, "role"},
		{"token too long", env, []string{"token", "-sub", "s", "-project", "p", "-ttl", "9000h"}, ExitUsage, "-ttl"},
		{"revoke nothing", env, []string{"revoke"}, ExitUsage, "exactly one"},
		{"revoke two things", env, []string{"revoke", "-jti", "a", "-subject", "b"}, ExitUsage, "exactly one"},
		{"revoke a URL without signature", env, []string{"revoke", "-url", "http://h/v2/queues/q/messages"}, ExitUsage, "signature"},
		{"revoke a non-token", env, []string{"revoke", "-token", "abc"}, ExitUsage, "jti"},
		{"remove what is not there", env, []string{"revoke", "-remove", "-jti", "nope"}, ExitFailure, "no such entry"},
		{"stray argument", env, []string{"token", "-sub", "s", "-project", "p", "extra"}, ExitUsage, "unexpected"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCommand(t, tc.env, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.inStderr) {
				t.Fatalf("exit %d, stderr %q; want exit %d mentioning %q", code, stderr, tc.code, tc.inStderr)
			}
		})
	}
}

// TestSignJSON: -json prints the share endpoint's answer, which python-zaqarclient's signed-url backend takes.
func TestSignJSON(t *testing.T) {
	env := authEnv(filepath.Join(t.TempDir(), "data"))
	code, out, stderr := runCommand(t, env, "sign", "-queue", "fizbit", "-project", "7e7b1ee1b1e445e6bc79ab3e76c4e6c3",
		"-methods", "post,GET", "-expires", "2099-12-31T23:59:59")
	if code != ExitOK {
		t.Fatalf("%d %s", code, stderr)
	}
	// The spec's worked example (§9.1): same key, grant and expiry, same signature.
	const want = "570f25a4008b45ec380945e5e0de63efbd5c7e39a6ccbad45698bce8bea956d8"
	if field(t, out, "URL-Signature") != want {
		t.Fatalf("signature differs from the spec's example:\n%s", out)
	}
	u, err := url.Parse(field(t, out, "url"))
	if err != nil || u.Query().Get("project") != "7e7b1ee1b1e445e6bc79ab3e76c4e6c3" || u.Query().Get("signature") != want ||
		u.Host != "127.0.0.1:8888" {
		t.Fatalf("url %v: %v", u, err)
	}
	code, out, _ = runCommand(t, env, "sign", "-json", "-queue", "fizbit", "-project", "7e7b1ee1b1e445e6bc79ab3e76c4e6c3",
		"-methods", "POST,GET", "-expires", "2099-12-31T23:59:59")
	var doc struct {
		Paths, Methods              []string
		Project, Expires, Signature string
	}
	if code != ExitOK || json.Unmarshal([]byte(out), &doc) != nil || doc.Signature != want ||
		strings.Join(doc.Methods, ",") != "GET,POST" || doc.Expires != "2099-12-31T23:59:59" {
		t.Fatalf("-json: %d %q", code, out)
	}
}

func mustTokenKeys(t *testing.T, cfg Config) *signing.TokenKeys {
	t.Helper()
	keys, err := cfg.Signing.TokenKeys()
	if err != nil || keys == nil {
		t.Fatalf("token keys: %v", err)
	}
	return keys
}

// field returns the value of the first "name: value" line of out.
func field(t *testing.T, out, name string) string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, name+": "); ok {
			return v
		}
	}
	t.Fatalf("no %q line in:\n%s", name, out)
	return ""
}

func merge(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second) // a generous bound while polling, not a timing assertion
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
