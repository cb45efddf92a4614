package httpapi

import (
	"testing"
	"time"

	"github.com/zedge-io/zedge/signing"
)

// TestShare: POST /v2/queues/{q}/share as spec §6.9 gives it: the response shape with sorted paths and
// methods, the defaults, and every error text.
func TestShare(t *testing.T) {
	e := newAuthEnv(t, authOpts{})

	// The exact body for a known input: Python's spacing, sorted lists, the caller's project, the signature
	// of the canonical string.
	r := e.do("POST", "/v2/queues/shq/share",
		`{"paths": ["messages", "claims"], "methods": ["POST", "GET"], "expires": "2099-01-01T00:00:00"}`)
	want := signing.Sign([]byte(urlSecret), signing.URLGrant{
		Paths:   []string{"/v2/queues/shq/claims", "/v2/queues/shq/messages"},
		Methods: []string{"GET", "POST"}, Project: project,
		Expires: time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)})
	expect(t, r, 200, `{"paths": ["/v2/queues/shq/claims", "/v2/queues/shq/messages"], "methods": ["GET", "POST"], `+
		`"project": "proj-1", "expires": "2099-01-01T00:00:00", "signature": "`+want+`"}`)
	if r.hdr.Get("Content-Type") != "application/json" {
		t.Fatalf("Content-Type %q", r.hdr.Get("Content-Type"))
	}

	// Defaults: paths messages, methods GET, a day from now; python-zaqarclient's microseconds are dropped.
	su := e.share(t, "shq", `{}`)
	if len(su.Paths) != 1 || su.Paths[0] != "/v2/queues/shq/messages" || len(su.Methods) != 1 || su.Methods[0] != "GET" ||
		!su.Expires.Equal(epoch.Add(24*time.Hour)) {
		t.Fatalf("defaults: %+v", su)
	}
	su = e.share(t, "shq", `{"paths": [], "methods": null, "expires": "2026-11-22T03:14:38.367673"}`)
	if su.Paths[0] != "/v2/queues/shq/messages" || su.Methods[0] != "GET" || signing.FormatExpires(su.Expires) != "2026-11-22T03:14:38" {
		t.Fatalf("empty values: %+v", su)
	}

	bad := func(body, desc string) {
		t.Helper()
		expect(t, e.do("POST", "/v2/queues/shq/share", body), 400,
			`{"title": "Invalid API request", "description": "`+desc+`"}`)
	}
	bad(`{"project_id": "p"}`, "Unknown keys: {'project_id'}")
	bad(`{"paths": ["foo"]}`, "Invalid paths: {'foo'}")
	bad(`{"paths": "messages"}`, "`paths` must be a non-empty list")
	bad(`{"methods": "GET"}`, "`methods` should be a list")
	bad(`{"expires": 1700000000}`, "`expires` should be date format, for example 2016-01-01T00:00:00, not integer value: 1700000000")
	bad(`{"expires": "2016"}`, "`expires` should be date format, for example 2016-01-01T00:00:00, not integer value: 2016")
	bad(`{"expires": "soon"}`, "Unable to parse date string 'soon'")
	bad(`{"expires": "2020-01-01T00:00:00"}`, "`expires` is lower than the current time")

	body := func(b, desc string) {
		t.Helper()
		expect(t, e.do("POST", "/v2/queues/shq/share", b), 400,
			`{"title": "Invalid request body", "description": "`+desc+`"}`)
	}
	body(``, "Request body can not be empty")
	body(`{"paths": [`, "Request body could not be parsed.")
	body(`{} {}`, "Request body could not be parsed.")
	body(`"x"`, "Request body could not be parsed.")
	body("{\"expires\": \"\xff\"}", "Request body could not be parsed.")
	body(`{"expires": 99999999999999999999}`, "JSON contains integer that is too large.")
	body(`["messages"]`, "Document type not supported.")

	// The queue is validated before anything else, as for every queue route.
	expect(t, e.do("POST", "/v2/queues/bad%20name/share", `{}`), 400, "*")

	// No key: the spec's 400, after the body's own checks.
	nokey := newAuthEnv(t, authOpts{noURLKey: true})
	expect(t, nokey.do("POST", "/v2/queues/q/share", `{}`), 400,
		`{"title": "Invalid API request", "description": "The `+"`key`"+` can't be None"}`)
	expect(t, nokey.do("POST", "/v2/queues/q/share", `{"paths": ["foo"]}`), 400,
		`{"title": "Invalid API request", "description": "Invalid paths: {'foo'}"}`)
}
