package httpapi

import (
	"testing"
)

// TestSignedURLPathIsTheRoutedPath: the router dispatches on the raw request path, so the signed-URL check
// must cover that same path. fasthttp's decoded and dot-normalised Path() turns
// /v2/queues/other/messages/x%2F..%2F..%2F..%2Fq%2Fmessages into /v2/queues/q/messages, which a grant for
// queue q covers, while the router runs the request against queue "other". Such requests must be refused
// (a bare 404, counted as path_not_granted) and never reach the other queue, in either credential form.
func TestSignedURLPathIsTheRoutedPath(t *testing.T) {
	for _, mode := range []string{AuthNone, AuthJWT} {
		t.Run(mode, func(t *testing.T) {
			e := newAuthEnv(t, authOpts{mode: mode})
			admin := hd{"X-Auth-Token": e.token(t, "ops", project, "admin")}
			expect(t, e.do("POST", "/v2/queues/other/messages", postBody, admin), 201, "*")
			su := e.share(t, "q", `{"methods": ["GET", "DELETE", "PATCH", "PUT"], "paths": ["messages", "claims", "subscriptions"]}`, admin)
			escapes := []struct{ method, path, body string }{
				{"GET", "/v2/queues/other/messages/x%2F..%2F..%2F..%2Fq%2Fmessages", ""},
				{"DELETE", "/v2/queues/other/messages/x%2F..%2F..%2F..%2Fq%2Fmessages", ""},
				{"DELETE", "/v2/queues/other/messages/x%2f..%2f..%2f..%2fq%2fmessages", ""},
				{"GET", "/v2/queues/other/claims/x%2F..%2F..%2F..%2Fq%2Fclaims", ""},
				{"PATCH", "/v2/queues/other/claims/x%2F..%2F..%2F..%2Fq%2Fclaims", "{}"},
				{"PUT", "/v2/queues/other/subscriptions/..%2F..%2Fq%2Fsubscriptions%2Fs/confirm", `{"confirmed": true}`},
			}
			refused := e.count("signed_url.path_not_granted")
			for _, c := range escapes {
				expect(t, e.do(c.method, c.path, c.body, urlHeaders(su)), 404, `{"title": "404 Not Found"}`)
				expect(t, e.do(c.method, withQuery(c.path, urlQuery(su, "")), c.body), 404, `{"title": "404 Not Found"}`)
			}
			if got := e.count("signed_url.path_not_granted") - refused; got != uint64(2*len(escapes)) {
				t.Fatalf("path_not_granted counted %d times, want %d", got, 2*len(escapes))
			}
			if got := e.count("signed_url.ok"); got != 0 {
				t.Fatalf("signed_url.ok = %d", got)
			}
			// The grant still covers its own queue, raw ids included.
			expect(t, e.do("GET", "/v2/queues/q/messages", "", urlHeaders(su)), 200, "*")
			expect(t, e.do("DELETE", "/v2/queues/q/messages/x%2Fy", "", urlHeaders(su)), 204, "")
		})
	}
}
