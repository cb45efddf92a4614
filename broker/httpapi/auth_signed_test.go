package httpapi

import (
	"bytes"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zedge-io/zedge/signing"
	"github.com/zedge-io/zedge/signing/revoke"
)

const postBody = `{"messages": [{"body": {"sensor": "t-101", "celsius": 21.5}, "ttl": 300}]}`

// TestSignedURLBothForms: a URL from the share endpoint posts and lists with the header form (Zaqar's) and
// with the query form (one plain URL, the project in the query), and covers messages/{id}.
func TestSignedURLBothForms(t *testing.T) {
	for _, mode := range []string{AuthNone, AuthJWT} {
		t.Run(mode, func(t *testing.T) {
			e := newAuthEnv(t, authOpts{mode: mode})
			admin := hd{"X-Auth-Token": e.token(t, "ops", project, signing.RoleAdmin)}
			su := e.share(t, shareQueue, `{"methods": ["GET", "POST"]}`, admin)
			path := "/v2/queues/" + shareQueue + "/messages"
			noToken := hd{"X-Roles": "-"}

			r := e.do("POST", path, postBody, merge(noToken, urlHeaders(su)))
			expect(t, r, 201, "*")
			id := postedIDs(t, r)[0]
			// The query form with no X-Project-ID: the project comes from the query.
			r = e.do("POST", withQuery(path, urlQuery(su, project)), postBody, hd{"X-Project-ID": "-"})
			expect(t, r, 201, "*")
			// The query form with the header instead.
			expect(t, e.do("POST", withQuery(path, urlQuery(su, "")), postBody), 201, "*")
			if n := e.stored(t, project, shareQueue); n != 3 {
				t.Fatalf("%d stored", n)
			}
			r = e.do("GET", withQuery(path, urlQuery(su, project)+"&echo=true"), "", hd{"X-Project-ID": "-"})
			expect(t, r, 200, "*")
			if n := len(r.json(t)["messages"].([]any)); n != 3 {
				t.Fatalf("listed %d", n)
			}
			expect(t, e.do("GET", path+"/"+id, "", urlHeaders(su)), 200, "*")
			if got := e.count("signed_url.ok"); got != 5 {
				t.Fatalf("signed_url.ok = %d", got)
			}
			if mode == AuthJWT {
				// Without credentials the same request needs a token.
				expect(t, e.do("GET", path, ""), 401, "*")
			}
		})
	}
}

// TestSignedURLTamperTable: every altered or misused URL is refused with Zaqar's bare 404 before any store
// work, each counted under its reason, and nothing is stored.
func TestSignedURLTamperTable(t *testing.T) {
	e := newAuthEnv(t, authOpts{mode: AuthJWT})
	admin := hd{"X-Auth-Token": e.token(t, "ops", project, signing.RoleAdmin)}
	write := e.share(t, shareQueue, `{"methods": ["POST"], "expires": "2026-11-22T03:12:47"}`, admin)
	read := e.share(t, shareQueue, `{"methods": ["GET"]}`, admin)
	revoked := e.share(t, shareQueue, `{"methods": ["POST"], "paths": ["messages", "claims"]}`, admin)
	if _, err := e.revoked.Revoke(revoke.ForSignature(revoked.Signature, revoked.Expires), epoch); err != nil {
		t.Fatal(err)
	}
	path := "/v2/queues/" + shareQueue + "/messages"

	with := func(su signing.SignedURL, edit func(c *signing.Credentials)) hd {
		c := su.Credentials()
		edit(&c)
		return hd{"URL-Signature": c.Signature, "URL-Expires": c.Expires, "URL-Methods": c.Methods, "URL-Paths": c.Paths}
	}
	otherKey := write
	otherKey.Signature = signing.Sign([]byte("some-other-secret-of-enough-length!!"), write.URLGrant)

	cases := []struct {
		name, method, path, reason string
		headers                    hd
		expire                     bool // run after the clock passes the write URL's expiry
	}{
		{"changed path (claims)", "POST", "/v2/queues/" + shareQueue + "/claims", "path_not_granted", urlHeaders(write), false},
		{"changed path in URL-Paths", "POST", "/v2/queues/" + shareQueue + "/claims", "signature_mismatch",
			with(write, func(c *signing.Credentials) { c.Paths = "/v2/queues/" + shareQueue + "/claims" }), false},
		{"other queue", "POST", "/v2/queues/other/messages", "path_not_granted", urlHeaders(write), false},
		{"queue sharing the prefix", "POST", "/v2/queues/" + shareQueue + "x/messages", "path_not_granted", urlHeaders(write), false},
		{"other queue named in URL-Paths", "POST", "/v2/queues/other/messages", "signature_mismatch",
			with(write, func(c *signing.Credentials) { c.Paths = "/v2/queues/other/messages" }), false},
		{"other project", "POST", path, "signature_mismatch", merge(urlHeaders(write), hd{"X-Project-ID": otherProj}), false},
		{"read-only URL cannot POST", "POST", path, "method_not_granted", urlHeaders(read), false},
		{"write-only URL cannot GET", "GET", path, "method_not_granted", urlHeaders(write), false},
		{"method added to URL-Methods", "GET", path, "signature_mismatch",
			with(write, func(c *signing.Credentials) { c.Methods = "GET,POST" }), false},
		{"altered expiry", "POST", path, "signature_mismatch",
			with(write, func(c *signing.Credentials) { c.Expires = "2099-01-01T00:00:00" }), false},
		{"integer expiry", "POST", path, "expires_invalid",
			with(write, func(c *signing.Credentials) { c.Expires = "1700000000" }), false},
		{"truncated signature", "POST", path, "signature_malformed",
			with(write, func(c *signing.Credentials) { c.Signature = c.Signature[:63] }), false},
		{"upper-case signature", "POST", path, "signature_malformed",
			with(write, func(c *signing.Credentials) { c.Signature = strings.ToUpper(c.Signature) }), false},
		{"one digit changed", "POST", path, "signature_mismatch",
			with(write, func(c *signing.Credentials) { c.Signature = flipLast(c.Signature) }), false},
		{"empty signature", "POST", path, "missing_signature",
			with(write, func(c *signing.Credentials) { c.Signature = "" }), false},
		{"wrong key", "POST", path, "signature_mismatch", urlHeaders(otherKey), false},
		{"revoked", "POST", path, "revoked", urlHeaders(revoked), false},
		{"expired", "POST", path, "expired", urlHeaders(write), true},
	}
	before := e.count("signed_url.ok")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.expire {
				e.clock.Advance(time.Hour + time.Second)
			}
			name := "signed_url." + tc.reason
			n := e.count(name)
			body := postBody
			if tc.method == "GET" {
				body = ""
			}
			// No token: a signed request must stand on its signature. With a valid token added, a bad
			// signature is still refused (the token does not rescue it).
			expect(t, e.do(tc.method, tc.path, body, tc.headers), 404, body404)
			expect(t, e.do(tc.method, tc.path, body, merge(tc.headers, admin)), 404, body404)
			if got := e.count(name); got != n+2 {
				t.Fatalf("%s = %d, want %d", name, got, n+2)
			}
		})
	}
	if e.count("signed_url.ok") != before {
		t.Fatal("a tampered request was counted as verified")
	}
	for _, q := range []string{shareQueue, shareQueue + "x", "other"} {
		for _, p := range []string{project, otherProj} {
			if n := e.stored(t, p, q); n != 0 {
				t.Fatalf("%d messages stored in %s/%s", n, p, q)
			}
		}
	}
}

// TestSignedURLQueryForm: the plain-URL form's own rules.
func TestSignedURLQueryForm(t *testing.T) {
	e := newAuthEnv(t, authOpts{})
	su := e.share(t, shareQueue, `{"methods": ["POST"]}`)
	path := "/v2/queues/" + shareQueue + "/messages"
	refuse := func(name, uri string, headers hd, reason string) {
		t.Helper()
		n := e.count("signed_url." + reason)
		expect(t, e.do("POST", uri, postBody, headers), 404, body404)
		if e.count("signed_url."+reason) != n+1 {
			t.Fatalf("%s: not counted as %s", name, reason)
		}
	}
	refuse("query project differs from the header", withQuery(path, urlQuery(su, otherProj)), nil, "ambiguous")
	refuse("both forms", withQuery(path, urlQuery(su, "")), urlHeaders(su), "ambiguous")
	refuse("repeated signature", withQuery(path, urlQuery(su, "")+"&signature="+su.Signature), nil, "malformed")
	refuse("other project in the query", withQuery(path, urlQuery(su, otherProj)), hd{"X-Project-ID": "-"}, "signature_mismatch")
	refuse("only a paths parameter", withQuery(path, "paths="+url.QueryEscape(path)), nil, "missing_signature")
	if n := e.stored(t, project, shareQueue) + e.stored(t, otherProj, shareQueue); n != 0 {
		t.Fatalf("%d stored", n)
	}
	// The project parameter means nothing without the query form: the header decides, as always.
	expect(t, e.do("POST", path+"?project="+otherProj, postBody), 201, "*")
	if e.stored(t, project, shareQueue) != 1 {
		t.Fatal("not stored in the header's project")
	}
	// curl -d labels its body form-encoded: the query form is exempt from Zaqar's ban (the body is still JSON),
	// the header form is not, and a real form body still fails as JSON.
	form := hd{"Content-Type": "application/x-www-form-urlencoded"}
	expect(t, e.do("POST", withQuery(path, urlQuery(su, project)), postBody, merge(form, hd{"X-Project-ID": "-"})), 201, "*")
	expect(t, e.do("POST", path, postBody, merge(form, urlHeaders(su))), 400, "*")
	expect(t, e.do("POST", withQuery(path, urlQuery(su, project)), "messages=1", form), 400,
		`{"title": "Invalid request body", "description": "Request body could not be parsed."}`)
	if e.stored(t, project, shareQueue) != 2 {
		t.Fatal("form-labelled posts stored wrongly")
	}
	// A query-form URL with the project still needs Client-ID (not part of the signature).
	expect(t, e.do("POST", withQuery(path, urlQuery(su, project)), postBody, hd{"X-Project-ID": "-", "Client-ID": "-"}), 400,
		`{"title": "Missing header value", "description": "The \"Client-ID\" header is required."}`)
}

// TestSignedURLNoKey: without a URL key, credentials are refused, never ignored.
func TestSignedURLNoKey(t *testing.T) {
	e := newAuthEnv(t, authOpts{noURLKey: true})
	ring, _ := signing.NewKeyRing(signing.URLKey{ID: "x", Secret: []byte(urlSecret)})
	su, err := ring.Sign(signing.URLGrant{Paths: []string{"/v2/queues/q/messages"}, Methods: []string{"POST"},
		Project: project, Expires: epoch.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	expect(t, e.do("POST", "/v2/queues/q/messages", postBody, urlHeaders(su)), 404, body404)
	if e.count("signed_url.no_key") != 1 || e.stored(t, project, "q") != 0 {
		t.Fatal("refusal not counted, or stored")
	}
}

// TestSecretsNotLogged: at debug level the access log and the refusal log show neither the signature nor the
// token.
func TestSecretsNotLogged(t *testing.T) {
	var buf syncBuffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := newAuthEnv(t, authOpts{mode: AuthJWT})
	g, err := NewGuard(AuthConfig{Mode: AuthJWT}, signing.Config{
		URLKeys: []signing.SecretKeyConfig{{ID: "k1", Secret: urlSecret}},
		Token:   signing.TokenConfig{Leeway: time.Second, TTL: time.Hour, Secrets: []signing.SecretKeyConfig{{ID: "hs1", Secret: jwtSecret}}},
	}, e.revoked, log)
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, harnessOpt{opts: []Option{WithGuard(g)}, log: log})
	tok := e.token(t, "ops", project, signing.RoleMember)
	su, _ := e.ring.Sign(signing.URLGrant{Paths: []string{"/v2/queues/q/messages"}, Methods: []string{"POST"},
		Project: project, Expires: epoch.Add(time.Hour)})
	path := "/v2/queues/q/messages"
	expect(t, h.do("POST", withQuery(path, urlQuery(su, "")), postBody), 201, "*")
	expect(t, h.do("GET", withQuery(path, urlQuery(su, "")), ""), 404, body404) // refused: method
	expect(t, h.do("POST", path, postBody, urlHeaders(su)), 201, "*")
	expect(t, h.do("GET", path, "", hd{"X-Auth-Token": tok}), 200, "*")
	expect(t, h.do("GET", path, "", hd{"X-Auth-Token": tok, "X-Project-ID": otherProj}), 403, "*")
	dot := strings.LastIndexByte(tok, '.')
	forged := tok[:dot+1] + flipFirst(tok[dot+1:])
	expect(t, h.do("GET", path, "", hd{"Authorization": "Bearer " + forged}), 401, "*")
	out := buf.String()
	for _, secret := range []string{su.Signature, tok, forged, tok[dot+1:], forged[dot+1:]} {
		if strings.Contains(out, secret) {
			t.Fatalf("log holds a credential:\n%s", out)
		}
	}
	if !strings.Contains(out, "signature=%5Bredacted%5D") || !strings.Contains(out, "reason=signed_url.method_not_granted") ||
		!strings.Contains(out, "reason=token.wrong_project") || !strings.Contains(out, "reason=token.signature") {
		t.Fatalf("log lacks the redacted URI or the reasons:\n%s", out)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func flipFirst(s string) string {
	if s[0] == 'A' {
		return "B" + s[1:]
	}
	return "A" + s[1:]
}

func flipLast(s string) string {
	last := s[len(s)-1]
	if last == '0' {
		return s[:len(s)-1] + "1"
	}
	return s[:len(s)-1] + "0"
}
