package httpapi

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/zedge-io/zedge/broker"
	"github.com/zedge-io/zedge/signing"
	"github.com/zedge-io/zedge/store/memstore"
)

// FuzzAuth throws arbitrary credentials at a jwt-mode handler with a URL key: signed-URL headers, the query
// form, and token headers. No request may panic or 500, none may verify without the key's signature, and a
// refused request stores nothing.
func FuzzAuth(f *testing.F) {
	st := memstore.New(memstore.WithReapInterval(0))
	f.Cleanup(func() { _ = st.Close() })
	now := time.Date(2026, 11, 22, 2, 12, 47, 0, time.UTC)
	svc, err := broker.New(st, broker.DefaultConfig(), broker.WithClock(func() time.Time { return now }))
	if err != nil {
		f.Fatal(err)
	}
	sc := signing.DefaultConfig()
	sc.URLKeys = []signing.SecretKeyConfig{{ID: "k1", Secret: urlSecret}}
	sc.Token.Secrets = []signing.SecretKeyConfig{{ID: "hs1", Secret: jwtSecret}}
	g, err := NewGuard(AuthConfig{Mode: AuthJWT}, sc, nil, nil)
	if err != nil {
		f.Fatal(err)
	}
	srv, err := New(svc, DefaultConfig(), nil, WithGuard(g), WithClock(func() time.Time { return now }))
	if err != nil {
		f.Fatal(err)
	}
	h := srv.Handler()
	ring, _ := sc.KeyRing()
	su, _ := ring.Sign(signing.URLGrant{Paths: []string{"/v2/queues/q/messages"}, Methods: []string{"GET"},
		Project: project, Expires: now.Add(time.Hour)})
	c := su.Credentials()
	f.Add("GET", "/v2/queues/q/messages", c.Signature, c.Expires, c.Methods, c.Paths, "", "")
	f.Add("POST", "/v2/queues/q/messages?"+su.Query().Encode(), "", "", "", "", "", "")
	f.Add("POST", "/v2/queues/q/messages?signature=&paths=,,&project=x", "", "", "", "", "Bearer a.b.c", "x.y")
	f.Add("GET", "/v2/queues", "", "", "", "", "bearer eyJhbGciOiJub25lIn0.e30.", "")
	f.Fuzz(func(t *testing.T, method, uri, sig, expires, methods, paths, authz, xAuth string) {
		headers := map[string]string{"Client-ID": clientA, "X-Project-ID": project, "URL-Signature": sig,
			"URL-Expires": expires, "URL-Methods": methods, "URL-Paths": paths, "Authorization": authz,
			"X-Auth-Token": xAuth}
		body := []byte(`{"messages": [{"body": 1}]}`)
		verified := g.Counters()["signed_url.ok"]
		ctx := callHandler(h, method, uri, headers, body)
		status := ctx.Response.StatusCode()
		if status == fasthttp.StatusInternalServerError {
			t.Fatalf("%s %q: 500 %s", method, uri, ctx.Response.Body())
		}
		if out := ctx.Response.Body(); len(out) > 0 && !json.Valid(out) &&
			strings.HasPrefix(string(ctx.Response.Header.ContentType()), "application/json") {
			t.Fatalf("invalid JSON %q", out)
		}
		// The only credentials that can let a request in are the seeded URL's (GET on q's messages) and a
		// token signed with the secret, which the fuzzer cannot forge; so nothing is ever stored.
		if st, err := svc.QueueStats(t.Context(), project, "q"); err == nil && st.Total != 0 {
			t.Fatalf("%s %q stored a message", method, uri)
		}
		// Outside /v2/ (GET /, the probes) and for OPTIONS (Falcon's bare 200) no credentials are needed;
		// everything else that succeeded must have been let in by a verified signature just now.
		open := !strings.HasPrefix(string(ctx.Path()), "/v2/") || string(ctx.Method()) == fasthttp.MethodOptions
		if status/100 == 2 && !open && g.Counters()["signed_url.ok"] == verified {
			t.Fatalf("%s %q: %d without verified credentials", method, uri, status)
		}
	})
}
