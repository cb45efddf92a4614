package httpapi

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestMalformedRequestSecretsNotLogged: fasthttp's own errors for a request it cannot parse quote the start
// of the request buffer ("contents: ...") unless the server asks it not to, and zedge logs fasthttp's messages
// at debug level. Such a request may carry a token, a signed URL's headers or its query-form signature: the
// log must show none of them (nor message data from the body), only that the request was malformed.
func TestMalformedRequestSecretsNotLogged(t *testing.T) {
	var buf syncBuffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := newHarness(t, harnessOpt{log: log})
	const (
		tok   = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXRva2VuLXBheWxvYWQ.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"
		sig   = "570f25a4008b45ec380945e5e0de63efbd5c7e39a6ccbad45698bce8bea956d8"
		start = "POST /v2/queues/q/messages?signature=" + sig + " HTTP/1.1\r\nHost: x\r\nX-Auth-Token: " + tok +
			"\r\nAuthorization: Bearer " + tok + "\r\nURL-Signature: " + sig + "\r\n"
	)
	for _, tail := range []string{
		"Missing Colon\r\n\r\n",
		"Content-Length: abc\r\n\r\n",
		"X-Big: " + strings.Repeat("a", 9000) + "\r\n\r\n",
	} {
		r, _, _ := h.raw(start + tail)
		if r.status < 400 || r.status >= 500 {
			t.Fatalf("malformed request answered %d", r.status)
		}
	}
	// The server logs the failure after answering; wait until it has (the refusals are what is checked).
	for deadline := time.Now().Add(10 * time.Second); strings.Count(buf.String(), "error when reading request headers") < 2; {
		if time.Now().After(deadline) {
			t.Fatalf("fasthttp's parse errors were not logged:\n%s", buf.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	out := buf.String()
	for _, secret := range []string{tok, sig} {
		if strings.Contains(out, secret) {
			t.Fatalf("log holds a credential:\n%s", out)
		}
	}
}
