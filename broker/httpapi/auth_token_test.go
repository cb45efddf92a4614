package httpapi

import (
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/zedge-io/zedge/signing"
	"github.com/zedge-io/zedge/signing/revoke"
)

const (
	body401Missing = `{"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}}`
	body401Invalid = `{"error": {"code": 401, "title": "Unauthorized", "message": "The token is not valid."}}`
	body401Expired = `{"error": {"code": 401, "title": "Unauthorized", "message": "The token has expired."}}`
	body401Early   = `{"error": {"code": 401, "title": "Unauthorized", "message": "The token is not valid yet."}}`
	body401Revoked = `{"error": {"code": 401, "title": "Unauthorized", "message": "The token has been revoked."}}`
	body403Project = `{"title": "Not authorized", "description": "The token does not grant access to this project."}`
	body403Queue   = `{"title": "Not authorized", "description": "The token does not grant access to this queue."}`
	body403Policy  = `{"title": "Not authorized", "description": "You are not authorized to complete this action."}`
)

// rawToken signs claims by hand, for the forms zedge's issuer refuses to make.
func rawToken(t *testing.T, method jwt.SigningMethod, kid string, claims jwt.Claims, key any) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestTokenTable: in jwt mode every bad token is a 401 in Keystone's shape, and a token for another project
// a 403; nothing is stored by a refused request.
func TestTokenTable(t *testing.T) {
	e := newAuthEnv(t, authOpts{mode: AuthJWT, withRSA: true})
	priv, pub := testRSA(t)
	good, _ := signing.NewClaims("thermostat-7", project, []string{signing.RoleDevice}, epoch, time.Hour)
	expired, _ := signing.NewClaims("thermostat-7", project, []string{signing.RoleDevice}, epoch.Add(-2*time.Hour), time.Hour)
	early, _ := signing.NewClaims("thermostat-7", project, []string{signing.RoleDevice}, epoch.Add(time.Hour), time.Hour)
	noExp := good
	noExp.ExpiresAt = nil

	cases := []struct {
		name    string
		headers hd
		status  int
		body    string
		reason  string
	}{
		{"none", nil, 401, body401Missing, "missing"},
		{"other auth scheme", hd{"Authorization": "Basic dXNlcjpwYXNz"}, 401, body401Missing, "missing"},
		{"garbage", hd{"X-Auth-Token": "not-a-token"}, 401, body401Invalid, "malformed"},
		{"garbage bearer", hd{"Authorization": "Bearer a.b.c"}, 401, body401Invalid, "malformed"},
		{"expired", hd{"X-Auth-Token": e.issue(t, expired)}, 401, body401Expired, "expired"},
		{"not yet valid", hd{"X-Auth-Token": rawToken(t, jwt.SigningMethodHS256, "hs1", early, []byte(jwtSecret))}, 401, body401Early, "not_yet_valid"},
		{"no exp", hd{"X-Auth-Token": rawToken(t, jwt.SigningMethodHS256, "hs1", noExp, []byte(jwtSecret))}, 401, body401Invalid, "claims"},
		{"wrong secret", hd{"X-Auth-Token": rawToken(t, jwt.SigningMethodHS256, "hs1", good, []byte("another-secret-of-at-least-32-bytes!!"))}, 401, body401Invalid, "signature"},
		{"alg none", hd{"X-Auth-Token": rawToken(t, jwt.SigningMethodNone, "hs1", good, jwt.UnsafeAllowNoneSignatureType)}, 401, body401Invalid, "algorithm"},
		{"alg none without kid", hd{"X-Auth-Token": rawToken(t, jwt.SigningMethodNone, "", good, jwt.UnsafeAllowNoneSignatureType)}, 401, body401Invalid, "algorithm"},
		// Algorithm confusion: an HS256 token whose HMAC key is the RSA public key, presented under the RSA kid.
		{"HS256 under the RSA key", hd{"X-Auth-Token": rawToken(t, jwt.SigningMethodHS256, "rsa", good, pub)}, 401, body401Invalid, "algorithm"},
		{"unknown kid", hd{"X-Auth-Token": rawToken(t, jwt.SigningMethodHS256, "nope", good, []byte(jwtSecret))}, 401, body401Invalid, "key_unknown"},
		{"headers disagree", hd{"X-Auth-Token": e.issue(t, good), "Authorization": "Bearer " + rawToken(t, jwt.SigningMethodRS256, "rsa", good, priv)}, 401, body401Invalid, "malformed"},
		{"wrong project", hd{"X-Auth-Token": e.issue(t, good), "X-Project-ID": otherProj}, 403, body403Project, "wrong_project"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			name := "token." + tc.reason
			n := e.count(name)
			r := e.do("POST", "/v2/queues/"+shareQueue+"/messages", postBody, tc.headers)
			expect(t, r, tc.status, tc.body)
			if tc.status == 401 && r.hdr.Get("WWW-Authenticate") != `Bearer realm="zedge"` {
				t.Fatalf("WWW-Authenticate %q", r.hdr.Get("WWW-Authenticate"))
			}
			if e.count(name) != n+1 {
				t.Fatalf("%s not counted", name)
			}
		})
	}
	for _, p := range []string{project, otherProj} {
		if n := e.stored(t, p, shareQueue); n != 0 {
			t.Fatalf("%d stored in %s", n, p)
		}
	}

	// The good forms: X-Auth-Token, Authorization: Bearer, RS256, and both headers carrying the same token.
	tok := e.issue(t, good)
	path := "/v2/queues/" + shareQueue + "/messages"
	expect(t, e.do("POST", path, postBody, hd{"X-Auth-Token": tok}), 201, "*")
	expect(t, e.do("POST", path, postBody, hd{"Authorization": "Bearer " + tok}), 201, "*")
	expect(t, e.do("POST", path, postBody, hd{"Authorization": "bearer " + tok, "X-Auth-Token": tok}), 201, "*")
	expect(t, e.do("POST", path, postBody, hd{"X-Auth-Token": rawToken(t, jwt.SigningMethodRS256, "rsa", good, priv)}), 201, "*")
	if n := e.stored(t, project, shareQueue); n != 4 {
		t.Fatalf("%d stored", n)
	}
}

// TestTokenProject: X-Project-ID defaults to the token's project; a different one is refused except for admins.
func TestTokenProject(t *testing.T) {
	e := newAuthEnv(t, authOpts{mode: AuthJWT})
	member := e.token(t, "app", project, signing.RoleMember)
	admin := e.token(t, "ops", project, signing.RoleAdmin)

	expect(t, e.do("POST", "/v2/queues/q/messages", postBody, hd{"X-Auth-Token": member, "X-Project-ID": "-"}), 201, "*")
	if e.stored(t, project, "q") != 1 {
		t.Fatal("not stored in the token's project")
	}
	expect(t, e.do("POST", "/v2/queues/q/messages", postBody, hd{"X-Auth-Token": member, "X-Project-ID": project}), 201, "*")
	expect(t, e.do("POST", "/v2/queues/q/messages", postBody, hd{"X-Auth-Token": member, "X-Project-ID": otherProj}), 403, body403Project)
	// An empty header is still Zaqar's 400, not a silent default.
	expect(t, e.do("GET", "/v2/queues", "", hd{"X-Auth-Token": member, "X-Project-ID": ""}), 400, "*")

	// An admin acts in any project it names, and in its own when it names none.
	expect(t, e.do("POST", "/v2/queues/q/messages", postBody, hd{"X-Auth-Token": admin, "X-Project-ID": otherProj}), 201, "*")
	if e.stored(t, otherProj, "q") != 1 || e.stored(t, project, "q") != 2 {
		t.Fatal("admin's post landed in the wrong project")
	}
	expect(t, e.do("GET", "/v2/queues", "", hd{"X-Auth-Token": admin, "X-Project-ID": "-"}), 200, "*")
}

// TestTokenRoutes: GET / is open, everything under /v2/ needs a token; health needs the admin role from the
// token (X-Roles is ignored in jwt mode); a token limited to some queues reaches only those.
func TestTokenRoutes(t *testing.T) {
	e := newAuthEnv(t, authOpts{mode: AuthJWT, adminMode: true})
	member := e.token(t, "app", project, signing.RoleMember)
	admin := e.token(t, "ops", project, signing.RoleAdmin)

	expect(t, e.do("GET", "/", "", hd{"Client-ID": "-", "X-Project-ID": "-"}), 300, "*")
	expect(t, e.do("GET", "/v2/", ""), 401, body401Missing)
	expect(t, e.do("GET", "/v2/ping", ""), 401, body401Missing)
	expect(t, e.do("GET", "/v2/ping", "", hd{"X-Auth-Token": member}), 204, "")
	expect(t, e.do("GET", "/v2/health", "", hd{"X-Roles": "admin"}), 401, body401Missing)
	n := e.count("token.not_admin")
	expect(t, e.do("GET", "/v2/health", "", hd{"X-Auth-Token": member, "X-Roles": "admin"}), 403, body403Policy)
	if e.count("token.not_admin") != n+1 {
		t.Fatal("not_admin not counted")
	}
	expect(t, e.do("GET", "/v2/health", "", hd{"X-Auth-Token": admin}), 200, "*")
	expect(t, e.do("GET", "/v2/health", "", hd{"X-Auth-Token": admin, "X-Project-ID": otherProj}), 200, "*")
	// A wrong method is still 405 after the hooks, and needs the token first.
	expect(t, e.do("DELETE", "/v2/health", "", hd{"X-Auth-Token": member}), 405, "*")
	expect(t, e.do("DELETE", "/v2/health", ""), 401, "*")

	c, _ := signing.NewClaims("sensor-9", project, []string{signing.RoleDevice}, epoch, time.Hour)
	c.Queues = []string{"telemetry-*"}
	device := e.issue(t, c)
	expect(t, e.do("POST", "/v2/queues/telemetry-b1/messages", postBody, hd{"X-Auth-Token": device}), 201, "*")
	expect(t, e.do("POST", "/v2/queues/cmd-ac-12/messages", postBody, hd{"X-Auth-Token": device}), 403, body403Queue)
	expect(t, e.do("GET", "/v2/queues", "", hd{"X-Auth-Token": device}), 403, body403Queue)
	expect(t, e.do("GET", "/v2/ping", "", hd{"X-Auth-Token": device}), 204, "")
	if e.stored(t, project, "cmd-ac-12") != 0 {
		t.Fatal("stored outside the token's queues")
	}
}

// TestNoauthMode: without jwt, tokens are ignored and X-Roles decides admin-ness, as in Zaqar's noauth.
func TestNoauthMode(t *testing.T) {
	e := newAuthEnv(t, authOpts{adminMode: true})
	expect(t, e.do("GET", "/v2/queues", "", hd{"X-Auth-Token": "garbage"}), 200, "*")
	expect(t, e.do("GET", "/v2/health", ""), 403, body403Policy)
	expect(t, e.do("GET", "/v2/health", "", hd{"X-Roles": "member, admin"}), 200, "*")
	if n := e.count("token.ok") + e.count("token.malformed"); n != 0 {
		t.Fatalf("tokens looked at in noauth mode: %d", n)
	}
}

func TestNewGuardConfig(t *testing.T) {
	sc := signing.DefaultConfig()
	if _, err := NewGuard(AuthConfig{Mode: AuthJWT}, sc, nil, nil); err == nil {
		t.Fatal("jwt mode without token keys accepted")
	}
	if _, err := NewGuard(AuthConfig{Mode: "keystone"}, sc, nil, nil); err == nil {
		t.Fatal("unknown mode accepted")
	}
	bad := DefaultAuthConfig()
	bad.Revocations.File = "x"
	bad.Revocations.PollInterval = time.Hour
	if err := bad.Validate(); err == nil {
		t.Fatal("slow revocation polling accepted")
	}
	sc.Token.Secrets = []signing.SecretKeyConfig{{ID: "a", Secret: "short"}}
	if _, err := NewGuard(AuthConfig{Mode: AuthJWT}, sc, nil, nil); err == nil {
		t.Fatal("short HS256 secret accepted")
	}
	g, err := NewGuard(DefaultAuthConfig(), signing.DefaultConfig(), nil, nil)
	if err != nil || g.Mode() != AuthNone || len(g.Counters()) != int(numAuthReasons) {
		t.Fatalf("default guard: %v", err)
	}
}

// TestTokenCache: a verified token is remembered, but expiry and revocation still apply to every request, and
// the cache stays bounded.
func TestTokenCache(t *testing.T) {
	e := newAuthEnv(t, authOpts{mode: AuthJWT})
	tok := e.token(t, "thermostat-7", project, signing.RoleDevice) // valid for an hour
	path := "/v2/queues/" + shareQueue + "/messages"
	expect(t, e.do("POST", path, postBody, hd{"X-Auth-Token": tok}), 201, "*")
	if e.guard.tokens.get([]byte(tok), e.clock.Now(), 0) == nil {
		t.Fatal("verified token not cached")
	}
	expect(t, e.do("POST", path, postBody, hd{"X-Auth-Token": tok}), 201, "*")
	if e.count("token.ok") != 2 {
		t.Fatalf("token.ok = %d", e.count("token.ok"))
	}
	// Another project is refused for a cached token too.
	expect(t, e.do("POST", path, postBody, hd{"X-Auth-Token": tok, "X-Project-ID": otherProj}), 403, body403Project)
	// Revoked while cached.
	c, _ := signing.NewClaims("app", project, []string{signing.RoleMember}, e.clock.Now(), time.Hour)
	member := e.issue(t, c)
	expect(t, e.do("GET", "/v2/queues", "", hd{"X-Auth-Token": member}), 200, "*")
	if _, err := e.revoked.Revoke(revoke.Entry{Kind: revoke.TokenID, ID: c.ID}, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	expect(t, e.do("GET", "/v2/queues", "", hd{"X-Auth-Token": member}), 401, body401Revoked)
	// Expired while cached (the leeway is 30 s).
	e.clock.Advance(time.Hour + 31*time.Second)
	expect(t, e.do("POST", path, postBody, hd{"X-Auth-Token": tok}), 401, body401Expired)
	// Garbage is never cached.
	expect(t, e.do("GET", "/v2/queues", "", hd{"X-Auth-Token": "garbage"}), 401, body401Invalid)
	if e.guard.tokens.get([]byte("garbage"), e.clock.Now(), time.Hour) != nil {
		t.Fatal("garbage cached")
	}
	// Bounded.
	e.guard.tokens.mu.Lock()
	e.guard.tokens.max = 3
	e.guard.tokens.mu.Unlock()
	for i := range 10 {
		tok := e.token(t, "dev-"+string(rune('a'+i)), project, signing.RoleDevice)
		expect(t, e.do("GET", "/v2/ping", "", hd{"X-Auth-Token": tok}), 204, "")
		e.guard.tokens.mu.RLock()
		n := len(e.guard.tokens.m)
		e.guard.tokens.mu.RUnlock()
		if n > 3 {
			t.Fatalf("cache holds %d tokens, bound 3", n)
		}
	}
}
