package httpapi

import (
	"testing"

	"github.com/zedge-io/zedge/signing"
)

// TestOptionsNeedsTokenInJWTMode: in jwt mode every route under /v2/ needs a token, and Zaqar's keystone
// middleware answers an unauthenticated OPTIONS with its 401 before Falcon's OPTIONS responder runs. Only the
// Falcon hooks' failures (a missing Client-ID, a bad signed URL) leave OPTIONS a bare 200. A methods listing
// must not be answered to a caller without a valid token, and a 405 for another method neither.
func TestOptionsNeedsTokenInJWTMode(t *testing.T) {
	e := newAuthEnv(t, authOpts{mode: AuthJWT})
	for _, c := range []struct {
		name    string
		method  string
		headers hd
		body    string
	}{
		{"no token", "OPTIONS", hd{}, body401Missing},
		{"bad token", "OPTIONS", hd{"X-Auth-Token": "not-a-token"}, body401Invalid},
		{"no token, 405 method", "HEAD", hd{}, ""},
	} {
		r := e.do(c.method, "/v2/queues/q", "", c.headers)
		if r.status != 401 || string(r.body) != c.body || r.hdr.Get("WWW-Authenticate") == "" || r.hdr.Get("Allow") != "" {
			t.Errorf("%s: got %d Allow=%q WWW-Authenticate=%q %s", c.name, r.status, r.hdr.Get("Allow"),
				r.hdr.Get("WWW-Authenticate"), r.body)
		}
	}
	tok := hd{"X-Auth-Token": e.token(t, "dev", project, signing.RoleMember)}
	r := e.do("OPTIONS", "/v2/queues/q", "", tok)
	expect(t, r, 200, "")
	if got := r.hdr.Get("Allow"); got != "DELETE, GET, PATCH, PUT" {
		t.Errorf("with a token: Allow = %q", got)
	}
	// A Falcon hook failure stays a bare 200, token or not.
	r = e.do("OPTIONS", "/v2/queues/q", "", merge(tok, hd{"Client-ID": "-"}))
	expect(t, r, 200, "")
	if got := r.hdr.Get("Allow"); got != "" {
		t.Errorf("hook failure: Allow = %q", got)
	}
	// GET / stays open.
	expect(t, e.do("OPTIONS", "/", "", hd{"Client-ID": "-", "X-Project-ID": "-"}), 200, "")
}
