package wsapi

import (
	"errors"
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/zedge-io/zedge/signing"
)

type authFixture struct {
	signer *signing.TokenSigner
	ring   *signing.KeyRing
	auth   Auth
}

func newAuthFixture(t testing.TB) *authFixture {
	t.Helper()
	signer, err := signing.NewHS256Signer("k1", []byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := signing.NewTokenKeys(signer.VerificationKey())
	if err != nil {
		t.Fatal(err)
	}
	ring, err := signing.NewKeyRing(signing.URLKey{ID: "u1", Secret: []byte("url-secret-url-secret-url-secret")})
	if err != nil {
		t.Fatal(err)
	}
	return &authFixture{signer: signer, ring: ring,
		auth: Auth{Mode: AuthJWT, URLKeys: ring, TokenKeys: keys, Revoked: &revoked{}}}
}

func (f *authFixture) token(t testing.TB, now time.Time, project string, ttl time.Duration, roles ...string) string {
	t.Helper()
	if len(roles) == 0 {
		roles = []string{signing.RoleMember}
	}
	c, err := signing.NewClaims("user-1", project, roles, now, ttl)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := signing.IssueToken(f.signer, c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// revoked is a revocation list holding signatures and token ids.
type revoked struct {
	sigs, jtis []string
}

func (r *revoked) SignatureRevoked(sig string) bool { return contains2(r.sigs, sig) }
func (r *revoked) TokenRevoked(jti, _ string, _ time.Time) bool {
	return contains2(r.jtis, jti)
}

func contains2(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestJWTAuthentication(t *testing.T) {
	f := newAuthFixture(t)
	e := newEnv(t, envOption{opts: []Option{WithAuth(f.auth)}})
	now := e.clock.Now()
	c := e.dial()

	// Before authenticating: 403 Not authentified, after the schema check.
	if st, b, _ := c.do("queue_list", nil); st != 403 || errorText(t, b) != "Not authentified." {
		t.Errorf("unauthenticated: %d %v", st, b)
	}
	if st, b, _ := c.do("queue_list", map[string]any{"limit": "x"}); st != 400 || errorText(t, b) != "Schema validation failed." {
		t.Errorf("schema before auth: %d %v", st, b)
	}
	// Bad, other-project and revoked tokens fail with 401.
	for name, tok := range map[string]string{
		"garbage":       "not-a-token",
		"other project": f.token(t, now, "someone-else", time.Hour),
	} {
		st, b, resp := c.do("authenticate", nil, "X-Auth-Token", tok)
		if st != 401 || errorText(t, b) != "Authentication failed." {
			t.Errorf("%s: %d %v", name, st, b)
		}
		if jsonOf(resp["request"]) != `{"action":"authenticate","api":"v2","body":{},"headers":{}}` {
			t.Errorf("%s: the token was echoed: %v", name, resp["request"])
		}
	}
	// The right token authenticates.
	st, b, resp := c.do("authenticate", nil, "X-Auth-Token", f.token(t, now, testProject, time.Hour))
	if st != 200 || jsonOf(b) != `{"message":"Authentified."}` || jsonOf(resp["request"]) != `{"action":"authenticate","api":"v2","body":{},"headers":{}}` {
		t.Fatalf("authenticate: %d %v", st, resp)
	}
	c.mustDo(201, "queue_create", map[string]any{"queue_name": "wsq"})
	// Another project is refused on an authenticated socket.
	if st, b, _ := c.do("queue_list", nil, "X-Project-ID", "other"); st != 403 || errorText(t, b) != "Not authenticated." {
		t.Errorf("other project: %d %v", st, b)
	}

	// A token that expires closes the socket with 4003.
	short := e.dial()
	short.mustDo(200, "authenticate", nil, "X-Auth-Token", f.token(t, now, testProject, time.Second))
	_ = short.ws.SetReadDeadline(time.Now().Add(15 * time.Second))
	_, _, err := short.ws.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != 4003 || ce.Text != "Authentication expired." {
		t.Fatalf("expiry close: %v", err)
	}
	if e.srv.Stats().AuthExpired != 1 {
		t.Errorf("auth expired count %d", e.srv.Stats().AuthExpired)
	}

	// A token revoked while the socket is open stops working at the next request.
	rev := e.dial()
	claims := mustClaims(t, f, now)
	tok, _ := signing.IssueToken(f.signer, claims)
	rev.mustDo(200, "authenticate", nil, "X-Auth-Token", tok)
	rev.mustDo(200, "queue_list", nil)
	f.auth.Revoked.(*revoked).jtis = append(f.auth.Revoked.(*revoked).jtis, claims.ID)
	if st, b, _ := rev.do("queue_list", nil); st != 403 || errorText(t, b) != "Not authentified." {
		t.Errorf("revoked token: %d %v", st, b)
	}
}

func mustClaims(t testing.TB, f *authFixture, now time.Time) signing.Claims {
	c, err := signing.NewClaims("user-2", testProject, []string{signing.RoleMember}, now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSignedURLFrames(t *testing.T) {
	f := newAuthFixture(t)
	e := newEnv(t, envOption{opts: []Option{WithAuth(f.auth)}})
	now := e.clock.Now()
	su, err := f.ring.Sign(signing.URLGrant{Paths: []string{"/v2/queues/wsq/messages"}, Methods: []string{"GET", "POST"},
		Project: testProject, Expires: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	c := e.dial()
	send := func(action string, body map[string]any, methods, paths any) (int, any) {
		hdr := map[string]any{"Client-ID": testClient, "X-Project-ID": testProject,
			"URL-Signature": su.Signature, "URL-Expires": signing.FormatExpires(su.Expires), "URL-Methods": methods, "URL-Paths": paths}
		c.sendRaw(websocket.TextMessage, []byte(jsonOf(map[string]any{"action": action, "headers": hdr, "body": body})))
		resp := c.readJSON()
		return status(t, resp), resp["body"]
	}
	methods, paths := []any{"GET", "POST"}, []any{"/v2/queues/wsq/messages"}
	if st, b := send("message_post", map[string]any{"queue_name": "wsq", "messages": []any{map[string]any{"body": 1}}}, methods, paths); st != 201 {
		t.Errorf("signed post: %d %v", st, b)
	}
	if st, b := send("message_list", map[string]any{"queue_name": "wsq", "echo": true}, methods, paths); st != 200 {
		t.Errorf("signed list: %d %v", st, b)
	}
	refusals := []struct {
		name    string
		action  string
		body    map[string]any
		methods any
		paths   any
	}{
		{"comma-joined strings", "message_list", map[string]any{"queue_name": "wsq"}, "GET,POST", "/v2/queues/wsq/messages"},
		{"method not granted", "message_delete_many", map[string]any{"queue_name": "wsq", "pop": 1}, methods, paths},
		{"another queue", "message_list", map[string]any{"queue_name": "other"}, methods, paths},
		{"not a message action", "queue_list", map[string]any{}, methods, paths},
		{"tampered paths", "message_list", map[string]any{"queue_name": "wsq"}, methods, []any{"/v2/queues/wsq/messages", "/v2/queues/x/messages"}},
	}
	for _, r := range refusals {
		if st, b := send(r.action, r.body, r.methods, r.paths); st != 403 || errorText(t, b) != "Not authentified." {
			t.Errorf("%s: %d %v", r.name, st, b)
		}
	}
	f.auth.Revoked.(*revoked).sigs = append(f.auth.Revoked.(*revoked).sigs, su.Signature)
	if st, _ := send("message_list", map[string]any{"queue_name": "wsq"}, methods, paths); st != 403 {
		t.Errorf("revoked signature: %d", st)
	}
}

// TestZaqarclientSequence replays the frames python-zaqarclient's websocket transport sends (spec §10):
// authenticate with X-Auth-Token, Client-ID (uuid4 with dashes) and X-Project-ID, then each call with the
// same headers and everything in the body. The transport reads one frame per request and raises on a
// status of 400 and above.
func TestZaqarclientSequence(t *testing.T) {
	f := newAuthFixture(t)
	for _, mode := range []string{AuthNone, AuthJWT} {
		t.Run(mode, func(t *testing.T) {
			auth := f.auth
			auth.Mode = mode
			e := newEnv(t, envOption{opts: []Option{WithAuth(auth)}})
			c := e.dial()
			token := "noauth-token"
			if mode == AuthJWT {
				token = f.token(t, e.clock.Now(), testProject, time.Hour)
			}
			const clientID = "7c0f6d51-7d2c-4c5e-9a2b-8f1f0d1e2c3a"
			frames := []struct {
				frame  string
				status int
			}{
				{`{"action": "authenticate", "headers": {"X-Auth-Token": "` + token + `", "Client-ID": "` + clientID + `", "X-Project-ID": "` + testProject + `"}}`, 200},
				{`{"action": "queue_create", "headers": {"Client-ID": "` + clientID + `", "X-Project-ID": "` + testProject + `"}, "body": {"queue_name": "foo"}}`, 201},
				{`{"action": "message_post", "headers": {"Client-ID": "` + clientID + `", "X-Project-ID": "` + testProject + `"}, "body": {"queue_name": "foo", "messages": [{"body": {"temp": 21.5}, "ttl": 300}, {"body": "on", "ttl": 300}]}}`, 201},
				{`{"action": "message_list", "headers": {"Client-ID": "` + clientID + `", "X-Project-ID": "` + testProject + `"}, "body": {"queue_name": "foo", "echo": true}}`, 200},
				{`{"action": "claim_create", "headers": {"Client-ID": "` + clientID + `", "X-Project-ID": "` + testProject + `"}, "body": {"queue_name": "foo", "ttl": 300, "grace": 60, "limit": 2}}`, 201},
			}
			var last map[string]any
			for i, f := range frames {
				c.sendRaw(websocket.TextMessage, []byte(f.frame))
				last = c.readJSON()
				if st := status(t, last); st != f.status {
					t.Fatalf("frame %d: status %d, want %d: %v", i, st, f.status, last)
				}
			}
			msgs := last["body"].(map[string]any)["messages"].([]any)
			if len(msgs) != 2 || msgs[0].(map[string]any)["body"].(map[string]any)["temp"] != 21.5 {
				t.Errorf("claimed %v", last["body"])
			}
		})
	}
}
