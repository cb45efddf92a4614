package httpapi

import (
	"testing"

	"github.com/zedge-io/zedge/signing"
)

// TestOptionsInJWTMode pins Zaqar's answer to OPTIONS under keystone: the oslo.middleware CORS layer sits
// outside keystone and replaces any non-2xx answer to an OPTIONS with a bare 200 (no Allow, no body), so a
// missing or bad token gives that bare 200, not keystone's 401, and tells nothing of the route. With a valid
// token OPTIONS lists the methods; any other unserved method without a token is keystone's 401.
func TestOptionsInJWTMode(t *testing.T) {
	e := newAuthEnv(t, authOpts{mode: AuthJWT})
	for name, h := range map[string]hd{"no token": {}, "bad token": {"X-Auth-Token": "not-a-token"}} {
		r := e.do("OPTIONS", "/v2/queues/q", "", h)
		if r.status != 200 || len(r.body) != 0 || r.hdr.Get("Allow") != "" || r.hdr.Get("WWW-Authenticate") != "" {
			t.Errorf("%s: got %d Allow=%q WWW-Authenticate=%q %s", name, r.status, r.hdr.Get("Allow"),
				r.hdr.Get("WWW-Authenticate"), r.body)
		}
	}
	if r := e.do("HEAD", "/v2/queues/q", ""); r.status != 401 || r.hdr.Get("Allow") != "" {
		t.Errorf("HEAD without a token: %d Allow=%q", r.status, r.hdr.Get("Allow"))
	}
	tok := hd{"X-Auth-Token": e.token(t, "dev", project, signing.RoleMember)}
	r := e.do("OPTIONS", "/v2/queues/q", "", tok)
	expect(t, r, 200, "")
	if got := r.hdr.Get("Allow"); got != "DELETE, GET, PATCH, PUT" {
		t.Errorf("with a token: Allow = %q", got)
	}
	r = e.do("OPTIONS", "/v2/queues/q", "", merge(tok, hd{"Client-ID": "-"}))
	expect(t, r, 200, "")
	if got := r.hdr.Get("Allow"); got != "" {
		t.Errorf("hook failure: Allow = %q", got)
	}
}
