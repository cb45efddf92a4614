package httpapi

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/zedge-io/zedge/signing"
	"github.com/zedge-io/zedge/signing/revoke"
)

// TestRevocationRoute: POST /v2/revocations (admin) withdraws a signed URL, a token by jti and a subject's
// tokens, each refused from the next request; the list survives a restart of the revocation component and
// the server.
func TestRevocationRoute(t *testing.T) {
	e := newAuthEnv(t, authOpts{mode: AuthJWT})
	admin := hd{"X-Auth-Token": e.token(t, "ops", project, signing.RoleAdmin)}
	su := e.share(t, shareQueue, `{"methods": ["POST"]}`, admin)
	path := "/v2/queues/" + shareQueue + "/messages"
	devClaims, _ := signing.NewClaims("thermostat-7", project, []string{signing.RoleDevice}, epoch, time.Hour)
	dev := e.issue(t, devClaims)
	other := e.token(t, "app", project, signing.RoleMember)
	expect(t, e.do("POST", path, postBody, urlHeaders(su)), 201, "*")
	expect(t, e.do("POST", path, postBody, hd{"X-Auth-Token": dev}), 201, "*")

	// Only admins.
	expect(t, e.do("POST", revocationsPath, `{"subject": "app"}`, hd{"X-Auth-Token": other}), 403, body403Policy)
	expect(t, e.do("GET", revocationsPath, "", hd{"X-Auth-Token": other, "X-Roles": "admin"}), 403, body403Policy)

	r := e.do("POST", revocationsPath, `{"signature": "`+su.Signature+`", "expires": "`+signing.FormatExpires(su.Expires)+`", "reason": "sensor stolen"}`, admin)
	expect(t, r, 201, "*")
	if strings.Contains(string(r.body), su.Signature) {
		t.Fatal("the answer echoes the signature")
	}
	got := r.json(t)
	if got["kind"] != "signature" || got["id"] != signing.Fingerprint(su.Signature) || got["reason"] != "sensor stolen" ||
		got["expires"] != su.Expires.Format(time.RFC3339) {
		t.Fatalf("entry %v", got)
	}
	expect(t, e.do("POST", path, postBody, urlHeaders(su)), 404, body404)
	expect(t, e.do("POST", withQuery(path, urlQuery(su, "")), postBody), 404, body404)

	expect(t, e.do("POST", revocationsPath, `{"jti": "`+devClaims.ID+`"}`, admin), 201, "*")
	expect(t, e.do("POST", path, postBody, hd{"X-Auth-Token": dev}), 401, body401Revoked)
	expect(t, e.do("POST", path, postBody, hd{"X-Auth-Token": other}), 201, "*")

	expect(t, e.do("POST", revocationsPath, `{"subject": "app"}`, admin), 201, "*")
	expect(t, e.do("POST", path, postBody, hd{"X-Auth-Token": other}), 401, body401Revoked)
	// A token issued after the subject's revocation works: the device was re-issued a credential.
	e.clock.Advance(2 * time.Second)
	fresh := e.token(t, "app", project, signing.RoleMember)
	expect(t, e.do("POST", path, postBody, hd{"X-Auth-Token": fresh}), 201, "*")

	r = e.do("GET", revocationsPath, "", admin)
	expect(t, r, 200, "*")
	var list struct{ Revocations []revoke.Entry }
	if err := json.Unmarshal(r.body, &list); err != nil || len(list.Revocations) != 3 {
		t.Fatalf("list %s: %v", r.body, err)
	}
	if e.count("signed_url.revoked") != 2 || e.count("token.revoked") != 2 {
		t.Fatalf("counters %v", e.guard.Counters())
	}
	if n := e.stored(t, project, shareQueue); n != 4 {
		t.Fatalf("%d stored", n)
	}

	// A restart: a new revocation list and server over the same file.
	again := newAuthEnv(t, authOpts{mode: AuthJWT, revFile: e.revFile})
	again.clock.Advance(2 * time.Second)
	expect(t, again.do("POST", path, postBody, urlHeaders(su)), 404, body404)
	expect(t, again.do("POST", path, postBody, hd{"X-Auth-Token": dev}), 401, body401Revoked)
	expect(t, again.do("POST", path, postBody, hd{"X-Auth-Token": other}), 401, body401Revoked)
	expect(t, again.do("POST", path, postBody, hd{"X-Auth-Token": fresh}), 201, "*")
}

// TestRevocationByOtherWriter: a change written to the file by another process (zedge revoke) is picked up
// by the running server's watcher without a restart.
func TestRevocationByOtherWriter(t *testing.T) {
	e := newAuthEnv(t, authOpts{mode: AuthJWT})
	e.revoked.Watch()
	cli, err := revoke.Open(revoke.Config{File: e.revFile, PollInterval: time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	tok := e.token(t, "thermostat-7", project, signing.RoleDevice)
	expect(t, e.do("GET", "/v2/queues", "", hd{"X-Auth-Token": tok}), 200, "*")
	if _, err := cli.Revoke(revoke.Entry{Kind: revoke.Subject, ID: "thermostat-7"}, epoch); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second) // a generous bound while polling, not a timing assertion
	for e.do("GET", "/v2/queues", "", hd{"X-Auth-Token": tok}).status != 401 {
		if time.Now().After(deadline) {
			t.Fatal("the server never saw the revocation")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRevocationRouteErrors(t *testing.T) {
	e := newAuthEnv(t, authOpts{})
	admin := hd{"X-Roles": "admin"}
	bad := func(body, desc string) {
		t.Helper()
		expect(t, e.do("POST", revocationsPath, body, admin), 400, `{"title": "Invalid API request", "description": "`+desc+`"}`)
	}
	one := `name exactly one of \"signature\", \"fingerprint\", \"jti\", \"subject\"`
	bad(`{}`, one)
	bad(`{"reason": "x"}`, one)
	bad(`{"jti": "a", "subject": "b"}`, one)
	bad(`{"user": "x"}`, `Unknown key: \"user\"`)
	bad(`{"jti": 1}`, `\"jti\" must be a non-empty string`)
	bad(`{"subject": ""}`, `\"subject\" must be a non-empty string`)
	bad(`{"jti": "x", "reason": 5}`, `\"reason\" must be a string`)
	bad(`{"jti": "x", "expires": 5}`, `\"expires\" must be a date string, for example 2016-01-01T00:00:00`)
	bad(`{"jti": "x", "expires": "later"}`, "Unable to parse date string 'later'")
	bad(`{"fingerprint": "abc"}`, "a signature entry's id is the 64 hex digits of its fingerprint")
	bad(`{"subject": "a\nb"}`, "subject must be 1..256 printable characters")
	expect(t, e.do("POST", revocationsPath, "", admin), 400, `{"title": "Invalid request body", "description": "Request body can not be empty"}`)
	expect(t, e.do("POST", revocationsPath, "[]", admin), 400, `{"title": "Invalid request body", "description": "Document type not supported."}`)
	expect(t, e.do("POST", revocationsPath, `{"jti": "x"}`), 403, body403Policy)
	expect(t, e.do("PUT", revocationsPath, `{"jti": "x"}`, admin), 405, "*")
	if n := len(e.revoked.Entries()); n != 0 {
		t.Fatalf("%d entries after refused requests", n)
	}
	// A past expiry is accepted: the entry is simply dropped at the next write.
	expect(t, e.do("POST", revocationsPath, `{"jti": "old", "expires": "2001-01-01T00:00:00"}`, admin), 201, "*")

	// Without a revocation list there is no route.
	g, err := NewGuard(DefaultAuthConfig(), signing.DefaultConfig(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, harnessOpt{opts: []Option{WithGuard(g)}})
	expect(t, h.do("GET", revocationsPath, "", admin), 404, body404)
}
