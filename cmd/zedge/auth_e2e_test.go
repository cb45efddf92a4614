package main

// End-to-end tests of signed URLs, tokens and revocation through the real binary: python-zaqarclient's
// signed-url backend, a sensor's curl with the query form, and the sign, token and revoke subcommands used
// against a running zedge.

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	e2eURLKey    = "test-secret" // Zaqar's example [signed_url] secret_key: short, so zedge warns
	e2eJWTSecret = "e2e-jwt-secret-of-at-least-thirty-two-bytes"
)

// authServer starts zedge with the URL-signing key and, in jwt mode, the JWT secret. env is what a
// subcommand needs to read the same configuration and reach the server (ZEDGE_HTTP_ADDR is the bound one).
func authServer(t *testing.T, jwt bool) (s *server, env []string) {
	t.Helper()
	env = []string{"ZEDGE_SIGNING_KEY=" + e2eURLKey, "ZEDGE_JWT_SECRET=" + e2eJWTSecret}
	if jwt {
		env = append(env, "ZEDGE_AUTH=jwt")
	}
	s = startServer(t, serverOptions{env: env})
	return s, append(env, "ZEDGE_HTTP_ADDR="+s.addr, "ZEDGE_DATA_DIR="+s.dataDir)
}

// zedgeOK runs a subcommand that must succeed and returns its stdout.
func zedgeOK(t *testing.T, env []string, args ...string) string {
	t.Helper()
	code, stdout, stderr := runZedge(t, env, args...)
	if code != 0 {
		t.Fatalf("zedge %v: exit %d\n%s", args, code, stderr)
	}
	return stdout
}

// outputField is the value of the first "name: value" line of a subcommand's output.
func outputField(t *testing.T, out, name string) string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, name+": "); ok {
			return v
		}
	}
	t.Fatalf("no %q line in:\n%s", name, out)
	return ""
}

// pollUntil retries cond until it holds; the bound is generous and only keeps a broken build from hanging.
func pollUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSignedURLZaqarclient: python-zaqarclient's signed-url backend posts and lists with a URL from the share
// endpoint (noauth), and with one from `zedge sign -json` against a jwt-mode zedge.
func TestSignedURLZaqarclient(t *testing.T) {
	t.Parallel()
	requireZaqarclient(t)
	t.Run("share endpoint", func(t *testing.T) {
		t.Parallel()
		s, _ := authServer(t, false)
		runPython(t, s, "zaqarclient_signed_url.py", "py-signed")
		if !strings.Contains(s.stderr.String(), "URL-signing secrets shorter than recommended") {
			t.Errorf("no warning about the short URL key in the log:\n%s", s.stderr.String())
		}
	})
	t.Run("zedge sign in jwt mode", func(t *testing.T) {
		t.Parallel()
		s, env := authServer(t, true)
		rw := zedgeOK(t, env, "sign", "-json", "-queue", "signed-q", "-project", "py-signed-jwt",
			"-methods", "POST,GET", "-paths", "messages", "-expires", "1h")
		ro := zedgeOK(t, env, "sign", "-json", "-queue", "signed-q", "-project", "py-signed-jwt", "-methods", "GET")
		runPython(t, s, "zaqarclient_signed_url.py", "py-signed-jwt", strings.TrimSpace(rw), strings.TrimSpace(ro))
	})
}

// TestSensorCurlQueryForm: a sensor given only the URL `zedge sign` prints posts its reading with curl, as
// printed and as the issue writes it (plus Client-ID), with no X-Project-ID and no token.
func TestSensorCurlQueryForm(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatalf("curl is a required test dependency: %v", err)
	}
	s, env := authServer(t, true)
	out := zedgeOK(t, env, "sign", "-queue", "telemetry-b1", "-methods", "POST", "-paths", "messages",
		"-expires", "1h", "-project", "campus")
	signed := outputField(t, out, "url")
	var curlLine string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "curl ") {
			curlLine = line
		}
	}
	if !strings.HasPrefix(signed, s.base+"/v2/queues/telemetry-b1/messages?") || !strings.Contains(curlLine, "'"+signed+"'") {
		t.Fatalf("sign output:\n%s", out)
	}
	work := t.TempDir()
	reading := `{"messages": [{"body": {"sensor": "t-101", "celsius": 21.5}, "ttl": 300}]}`
	if err := os.WriteFile(filepath.Join(work, "reading.json"), []byte(reading), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(line string) string {
		t.Helper()
		cmd := exec.Command("sh", "-c", line)
		cmd.Dir = work
		got, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", line, err, got)
		}
		return string(got)
	}
	// The printed command line, as is.
	if got := run(curlLine); !strings.Contains(got, `"resources": ["/v2/queues/telemetry-b1/messages/`) {
		t.Fatalf("printed curl: %s", got)
	}
	// The form: curl -X POST -d @reading.json 'http://…/messages?signature=…' plus a Client-ID.
	got := run("curl -sS -w ' %{http_code}' -X POST -H 'Client-ID: 3381af92-2b9e-11e3-b191-71861300734c' -d @reading.json '" + signed + "'")
	if !strings.HasSuffix(got, " 201") {
		t.Fatalf("issue's curl: %s", got)
	}
	// Refused: the same URL for GET, and with the project changed.
	tampered := strings.Replace(signed, "project=campus", "project=other", 1)
	if got := run("curl -sS -w ' %{http_code}' -H 'Client-ID: 3381af92-2b9e-11e3-b191-71861300734c' '" + signed + "'"); !strings.HasSuffix(got, `{"title": "404 Not Found"} 404`) {
		t.Fatalf("GET with a POST URL: %s", got)
	}
	if got := run("curl -sS -w ' %{http_code}' -X POST -H 'Client-ID: 3381af92-2b9e-11e3-b191-71861300734c' -d @reading.json '" + tampered + "'"); !strings.HasSuffix(got, " 404") {
		t.Fatalf("other project: %s", got)
	}

	// The two readings are there, in project campus, for a reader with a token.
	admin := strings.TrimSpace(zedgeOK(t, env, "token", "-sub", "ops", "-project", "campus", "-roles", "admin"))
	c := newClient(t, s, "campus")
	msgs := c.do("GET", "/v2/queues/telemetry-b1/messages?echo=true", nil, "X-Auth-Token: "+admin).expect(t, 200)
	var page struct{ Messages []message }
	msgs.decode(t, &page)
	if len(page.Messages) != 2 {
		t.Fatalf("stored: %s", msgs.body)
	}
	other := newClient(t, s, "other")
	var stats struct{ Messages struct{ Total int } }
	other.do("GET", "/v2/queues/telemetry-b1/stats", nil, "X-Auth-Token: "+admin).expect(t, 200).decode(t, &stats)
	if stats.Messages.Total != 0 {
		t.Fatalf("the refused post with another project stored %d messages there", stats.Messages.Total)
	}
}

// TestTokensAndRevocation: tokens from `zedge token` authenticate real requests; `zedge revoke` withdraws a
// subject's tokens and a signed URL on the running server (polled until it takes effect), the admin route
// withdraws a token at once, and all of it survives a restart.
func TestTokensAndRevocation(t *testing.T) {
	t.Parallel()
	s, env := authServer(t, true)
	device := strings.TrimSpace(zedgeOK(t, env, "token", "-sub", "thermostat-7", "-project", "campus", "-roles", "device", "-ttl", "24h"))
	member := strings.TrimSpace(zedgeOK(t, env, "token", "-sub", "app-1", "-project", "campus", "-roles", "member"))
	admin := strings.TrimSpace(zedgeOK(t, env, "token", "-sub", "ops", "-project", "campus", "-roles", "admin"))
	c := newClient(t, s, "campus")
	post := map[string]any{"messages": []any{map[string]any{"body": map[string]any{"setpoint": 21}}}}
	path := "/v2/queues/cmd-ac-7/messages"
	postWith := func(headers ...string) int { return c.do("POST", path, post, headers...).status }

	if got := postWith("X-Auth-Token: " + device); got != 201 {
		t.Fatalf("device token: %d", got)
	}
	r := c.do("POST", path, post)
	wantError401(t, r, "The request you have made requires authentication.")
	if got := postWith("Authorization: Bearer "+member, "X-Project-ID: -"); got != 201 {
		t.Fatalf("member token, project from the token: %d", got)
	}
	if got := postWith("X-Auth-Token: "+member, "X-Project-ID: elsewhere"); got != 403 {
		t.Fatalf("member token in another project: %d", got)
	}
	if got := postWith("X-Auth-Token: "+admin, "X-Project-ID: elsewhere"); got != 201 {
		t.Fatalf("admin token in another project: %d", got)
	}
	share := c.do("POST", "/v2/queues/cmd-ac-7/share", map[string]any{"methods": []string{"POST"}}, "X-Auth-Token: "+admin).expect(t, 200)
	var su struct {
		Paths, Methods              []string
		Project, Expires, Signature string
	}
	share.decode(t, &su)
	signedHeaders := []string{"URL-Signature: " + su.Signature, "URL-Expires: " + su.Expires,
		"URL-Methods: " + strings.Join(su.Methods, ","), "URL-Paths: " + strings.Join(su.Paths, ",")}
	if got := postWith(signedHeaders...); got != 201 {
		t.Fatalf("signed URL from the share endpoint, no token: %d", got)
	}

	// zedge revoke on the running server: the subject's tokens and the signed URL.
	zedgeOK(t, env, "revoke", "-subject", "thermostat-7", "-reason", "thermostat replaced")
	zedgeOK(t, env, "revoke", "-signature", su.Signature, "-expires", su.Expires)
	pollUntil(t, "revocations by zedge revoke take effect", func() bool {
		return postWith("X-Auth-Token: "+device) == 401 && postWith(signedHeaders...) == 404
	})
	wantError401(t, c.do("POST", path, post, "X-Auth-Token: "+device), "The token has been revoked.")
	// The admin route: in force for the very next request.
	var claims struct {
		JTI string `json:"jti"`
	}
	decodeTokenPayload(t, member, &claims)
	c.do("POST", "/v2/revocations", map[string]any{"jti": claims.JTI}, "X-Auth-Token: "+admin).expect(t, 201)
	wantError401(t, c.do("POST", path, post, "X-Auth-Token: "+member), "The token has been revoked.")
	c.do("POST", "/v2/revocations", map[string]any{"jti": "x"}, "X-Auth-Token: "+device).expect(t, 401)

	// A token issued to the device after its revocation works (iat has whole seconds, so retry across one).
	var fresh string
	pollUntil(t, "a token issued after the revocation is accepted", func() bool {
		fresh = strings.TrimSpace(zedgeOK(t, env, "token", "-sub", "thermostat-7", "-project", "campus", "-roles", "device"))
		return postWith("X-Auth-Token: "+fresh) == 201
	})

	// A restart keeps every revocation.
	s.stop()
	s2 := s.restart(t)
	c2 := newClient(t, s2, "campus")
	for _, tc := range []struct {
		name    string
		headers []string
		want    int
	}{
		{"revoked subject", []string{"X-Auth-Token: " + device}, 401},
		{"revoked jti", []string{"X-Auth-Token: " + member}, 401},
		{"revoked signed URL", signedHeaders, 404},
		{"fresh token", []string{"X-Auth-Token: " + fresh}, 201},
		{"admin token", []string{"X-Auth-Token: " + admin}, 201},
	} {
		if got := c2.do("POST", path, post, tc.headers...).status; got != tc.want {
			t.Errorf("after restart, %s: %d, want %d", tc.name, got, tc.want)
		}
	}
	list := zedgeOK(t, append(env, "ZEDGE_HTTP_ADDR="+s2.addr), "revoke", "-list")
	if strings.Count(list, "\n") != 3 || strings.Contains(list, su.Signature) {
		t.Fatalf("revoke -list:\n%s", list)
	}
}

// TestSignedURLNoKey: without a URL key the share endpoint answers Zaqar's 400 and signed requests are
// refused.
func TestSignedURLNoKey(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})
	c := newClient(t, s, "p")
	wantError(t, c.do("POST", "/v2/queues/q/share", map[string]any{}), 400, "Invalid API request", "The `key` can't be None")
	c.do("POST", "/v2/queues/q/messages", map[string]any{"messages": []any{map[string]any{"body": 1}}},
		"URL-Signature: "+strings.Repeat("0", 64), "URL-Expires: 2099-01-01T00:00:00", "URL-Methods: POST",
		"URL-Paths: /v2/queues/q/messages").expect(t, 404)
	if total, _, _ := c.stats("q"); total != 0 {
		t.Fatalf("%d messages stored by a refused signed post", total)
	}
}

func wantError401(t *testing.T, r reply, message string) {
	t.Helper()
	var body struct {
		Error struct {
			Code           int
			Title, Message string
		}
	}
	r.expect(t, 401).decode(t, &body)
	if body.Error.Code != 401 || body.Error.Title != "Unauthorized" || body.Error.Message != message ||
		r.header.Get("WWW-Authenticate") == "" {
		t.Fatalf("401 body %s, WWW-Authenticate %q", r.body, r.header.Get("WWW-Authenticate"))
	}
}

// decodeTokenPayload reads a JWT's claims without verifying it.
func decodeTokenPayload(t *testing.T, tok string, v any) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatal(err)
	}
}
