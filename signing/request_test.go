package signing

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

var testNow = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

func testRing(t testing.TB, keys ...URLKey) *KeyRing {
	t.Helper()
	if len(keys) == 0 {
		keys = []URLKey{{ID: "k1", Secret: []byte("test-secret")}}
	}
	r, err := NewKeyRing(keys[0], keys[1:]...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// zaqarVectors were signed by Zaqar's algorithm (Python's hmac over the r'%s\n%s\n%s\n%s' text of
// zaqar/common/urls.py), the first also checked with
// echo -n '/v2/queues/telemetry-b1/messages\nPOST\ncampus-1\n2030-06-01T00:00:00' | openssl dgst -sha256 -hmac test-secret
var zaqarVectors = []struct {
	key       string
	paths     []string
	project   string
	methods   []string
	expires   string
	signature string
}{
	{"test-secret", []string{"/v2/queues/telemetry-b1/messages"}, "campus-1", []string{"POST"}, "2030-06-01T00:00:00",
		"1adb69bbb1fde0e929e2cff68bc951e4a827733e8650ea0ce5794dd2decdf9e4"},
	{"s3cr3t-edge-key", []string{"/v2/queues/sensor.room-12/messages"}, "7e7b1ee1b1e445e6bc79ab3e76c4e6c3",
		[]string{"POST"}, "2099-12-31T23:59:59", "cbab7181597296103d9037e969389fd1739ff645d98c5e64a344ecafd70b3f87"},
	{"k", []string{"/v2/queues/q/messages", "/v2/queues/q/claims"}, "", []string{"POST", "DELETE", "GET"},
		"2031-01-02T03:04:05", "67158dc1dbc9f816cf7e1ba3fb57129c1beb854e6694b717ed9b755f5bad0ab0"},
	{"clé-ünïcode", []string{"/v2/queues/cq/subscriptions/5f3c/confirm"}, "proj-1", []string{"PUT"},
		"2026-11-22T02:23:53", "8dcf02fac407f32175bbf171843320dcfd3e648bae86076a1dc9ee4222dedcf1"},
}

// zedge signs what Zaqar signs (so Zaqar's verifier, which re-signs and compares, accepts zedge's URLs), and
// zedge's verifier accepts Zaqar's URLs.
func TestZaqarInterop(t *testing.T) {
	for _, v := range zaqarVectors {
		ring := testRing(t, URLKey{ID: "k", Secret: []byte(v.key)})
		signed, err := ring.Sign(URLGrant{Paths: v.paths, Methods: v.methods, Project: v.project,
			Expires: mustTime(t, v.expires)})
		if err != nil {
			t.Fatal(err)
		}
		if signed.Signature != v.signature {
			t.Errorf("zedge signs %v as %s, Zaqar as %s", v.paths, signed.Signature, v.signature)
		}
		// Header order does not matter: the lists are sorted before signing.
		methods := append([]string(nil), v.methods...)
		for i, j := 0, len(methods)-1; i < j; i, j = i+1, j-1 {
			methods[i], methods[j] = methods[j], methods[i]
		}
		got, err := VerifyRequest(ring, SignedRequest{
			Method:  v.methods[0],
			Path:    v.paths[0],
			Project: v.project,
			Credentials: Credentials{
				Signature: v.signature,
				Expires:   v.expires,
				Methods:   strings.Join(methods, ","),
				Paths:     strings.Join(v.paths, ","),
				Present:   true,
			},
		}, testNow)
		if err != nil {
			t.Errorf("Zaqar URL for %v refused: %v", v.paths, err)
			continue
		}
		if got.KeyID != "k" || got.Grant.Project != v.project || FormatExpires(got.Grant.Expires) != v.expires {
			t.Errorf("verified = %+v", got)
		}
		if got.Fingerprint() != Fingerprint(v.signature) {
			t.Errorf("fingerprint mismatch")
		}
	}
}

// The worked example of §9.1 verifies as a request.
func TestWorkedExampleVerifies(t *testing.T) {
	req := SignedRequest{
		Method: "POST", Path: "/v2/queues/fizbit/messages", Project: "7e7b1ee1b1e445e6bc79ab3e76c4e6c3",
		Credentials: Credentials{
			Signature: "570f25a4008b45ec380945e5e0de63efbd5c7e39a6ccbad45698bce8bea956d8",
			Expires:   "2099-12-31T23:59:59", Methods: "POST,GET", Paths: "/v2/queues/fizbit/messages",
		},
	}
	if _, err := VerifyRequest(testRing(t), req, testNow); err != nil {
		t.Fatal(err)
	}
	// Zaqar re-parses URL-Expires, so an equivalent spelling still verifies.
	req.Expires = "2099-12-31T23:59:59.5Z"
	if _, err := VerifyRequest(testRing(t), req, testNow); err != nil {
		t.Fatalf("normalised expiry: %v", err)
	}
	req.Method = "GET"
	req.Path = "/v2/queues/fizbit/messages/5f3c0a1b2c3d4e5f6a7b8c9d"
	if _, err := VerifyRequest(testRing(t), req, testNow); err != nil {
		t.Fatalf("messages covers messages/{id}: %v", err)
	}
}

type signedCase struct {
	ring    *KeyRing
	grant   URLGrant
	request SignedRequest
}

// signedPOST is a POST-only grant on queue telemetry of project campus-1 and a request that uses it.
func signedPOST(t testing.TB, methods ...string) signedCase {
	t.Helper()
	if len(methods) == 0 {
		methods = []string{"POST"}
	}
	ring := testRing(t)
	g := URLGrant{Paths: []string{"/v2/queues/telemetry/messages"}, Methods: methods, Project: "campus-1",
		Expires: testNow.Add(time.Hour)}
	s, err := ring.Sign(g)
	if err != nil {
		t.Fatal(err)
	}
	return signedCase{ring: ring, grant: g, request: SignedRequest{
		Method: methods[0], Path: "/v2/queues/telemetry/messages", Project: "campus-1", Credentials: s.Credentials(),
	}}
}

func TestTamperedRequestsRefused(t *testing.T) {
	otherKey := testRing(t, URLKey{ID: "other", Secret: []byte("another-secret")})
	tests := []struct {
		name    string
		methods []string // granted; default POST
		edit    func(*SignedRequest)
		ring    *KeyRing
		now     time.Time
		want    error
	}{
		{name: "changed path", edit: func(r *SignedRequest) { r.Path = "/v2/queues/telemetry/claims" }, want: ErrPathNotAllowed},
		{name: "stats not covered", edit: func(r *SignedRequest) { r.Path = "/v2/queues/telemetry/stats" }, want: ErrPathNotAllowed},
		{name: "other queue", edit: func(r *SignedRequest) { r.Path = "/v2/queues/telemetry2/messages" }, want: ErrPathNotAllowed},
		{name: "other queue, prefix", edit: func(r *SignedRequest) { r.Path = "/v2/queues/telemetry/messages2" }, want: ErrPathNotAllowed},
		{name: "other queue via paths header", edit: func(r *SignedRequest) {
			r.Path, r.Paths = "/v2/queues/secret/messages", "/v2/queues/secret/messages"
		}, want: ErrSignatureMismatch},
		{name: "dot segments", edit: func(r *SignedRequest) { r.Path = "/v2/queues/telemetry/messages/../../secret/messages" }, want: ErrPathNotAllowed},
		{name: "other project", edit: func(r *SignedRequest) { r.Project = "campus-2" }, want: ErrSignatureMismatch},
		{name: "no project", edit: func(r *SignedRequest) { r.Project = "" }, want: ErrSignatureMismatch},
		{name: "read-only cannot POST", methods: []string{"GET"}, edit: func(r *SignedRequest) { r.Method = "POST" }, want: ErrMethodNotAllowed},
		{name: "write-only cannot GET", edit: func(r *SignedRequest) { r.Method = "GET" }, want: ErrMethodNotAllowed},
		{name: "method added to header", edit: func(r *SignedRequest) { r.Method, r.Methods = "GET", "GET,POST" }, want: ErrSignatureMismatch},
		{name: "methods not trimmed", edit: func(r *SignedRequest) { r.Methods = " POST" }, want: ErrMethodNotAllowed},
		{name: "expired", now: testNow.Add(time.Hour), want: ErrSignatureExpired},
		{name: "altered expiry", edit: func(r *SignedRequest) { r.Expires = FormatExpires(testNow.Add(48 * time.Hour)) }, want: ErrSignatureMismatch},
		{name: "integer expiry", edit: func(r *SignedRequest) { r.Expires = "4102444800" }, want: ErrExpiresInvalid},
		{name: "unparsable expiry", edit: func(r *SignedRequest) { r.Expires = "tomorrow" }, want: ErrExpiresInvalid},
		{name: "missing expiry", edit: func(r *SignedRequest) { r.Expires = "" }, want: ErrExpiresInvalid},
		{name: "truncated signature", edit: func(r *SignedRequest) { r.Signature = r.Signature[:63] }, want: ErrSignatureMalformed},
		{name: "upper-case signature", edit: func(r *SignedRequest) { r.Signature = strings.ToUpper(r.Signature) }, want: ErrSignatureMalformed},
		{name: "flipped signature digit", edit: func(r *SignedRequest) { r.Signature = flipHexDigit(r.Signature) }, want: ErrSignatureMismatch},
		{name: "empty signature", edit: func(r *SignedRequest) { r.Signature = "" }, want: ErrSignatureMissing},
		{name: "wrong key", ring: otherKey, want: ErrSignatureMismatch},
		{name: "no key", ring: &KeyRing{}, want: ErrNoURLKey},
		{name: "backslash smuggled", edit: func(r *SignedRequest) { r.Methods = `POST,GET\ncampus-1` }, want: ErrCredentialsMalformed},
		{name: "too many paths", edit: func(r *SignedRequest) { r.Paths += strings.Repeat(",/x", MaxGrantElements) }, want: ErrCredentialsMalformed},
		{name: "overlong value", edit: func(r *SignedRequest) { r.Paths += "," + strings.Repeat("x", MaxCredentialLength) }, want: ErrCredentialsMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := signedPOST(t, tc.methods...)
			req := c.request
			if _, err := VerifyRequest(c.ring, req, testNow); err != nil {
				t.Fatalf("untampered request refused: %v", err)
			}
			if tc.edit != nil {
				tc.edit(&req)
			}
			ring, now := c.ring, testNow
			if tc.ring != nil {
				ring = tc.ring
			}
			if !tc.now.IsZero() {
				now = tc.now
			}
			_, err := VerifyRequest(ring, req, now)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if _, cerr := CheckRequest(ring, req, now); !errors.Is(cerr, tc.want) {
				t.Fatalf("CheckRequest err = %v, want %v", cerr, tc.want)
			}
			if err != nil && req.Signature != "" && strings.Contains(err.Error(), req.Signature) {
				t.Fatalf("error text leaks the signature: %v", err)
			}
		})
	}
}

func flipHexDigit(s string) string {
	b := []byte(s)
	if b[10] == '0' {
		b[10] = '1'
	} else {
		b[10] = '0'
	}
	return string(b)
}

func TestPathCovered(t *testing.T) {
	granted := []string{"/v2/queues/q/messages"}
	for _, tc := range []struct {
		path string
		want bool
	}{
		{"/v2/queues/q/messages", true},
		{"/v2/queues/q/messages/abc", true},
		{"/v2/queues/q/messages/abc/def", true},
		{"/v2/queues/q/messages/", false},
		{"/v2/queues/q/messagesx", false},
		{"/v2/queues/q2/messages", false},
		{"/v2/queues/q/claims", false},
		{"/v2/queues/q", false},
		{"/v2/queues/xq/messages", false},
		{"/x/v2/queues/q/messages", false}, // Zaqar's unanchored search would take this
		{"/v2/queues/q/messages/./x", false},
		{"/v2/queues/q/messages/../../q2/messages", false},
		{"/v2/queues/q/messages//x", false},
		{"v2/queues/q/messages", false},
		{"", false},
	} {
		if got := pathCovered(granted, tc.path); got != tc.want {
			t.Errorf("pathCovered(%q) = %v, want %v", tc.path, got, tc.want)
		}
	}
	// Dots are literal, not regular-expression wildcards.
	if pathCovered([]string{"/v2/queues/a.b/messages"}, "/v2/queues/axb/messages") {
		t.Error("dot acted as a wildcard")
	}
	if pathCovered([]string{""}, "/v2/queues/q/messages") {
		t.Error("an empty granted path covered a request")
	}
}

// A URL signed with the old primary keeps verifying after rotation until the old key leaves the ring.
func TestKeyRotation(t *testing.T) {
	oldKey := URLKey{ID: "2026-01", Secret: []byte("old-secret")}
	newKey := URLKey{ID: "2026-06", Secret: []byte("new-secret")}
	g := URLGrant{Paths: []string{"/v2/queues/telemetry/messages"}, Methods: []string{"POST"}, Project: "p",
		Expires: testNow.Add(time.Hour)}
	request := func(s SignedURL) SignedRequest {
		return SignedRequest{Method: "POST", Path: g.Paths[0], Project: "p", Credentials: s.Credentials()}
	}

	before := testRing(t, oldKey)
	issuedOld, err := before.Sign(g)
	if err != nil {
		t.Fatal(err)
	}

	// Step 1: add the new key as primary, keep the old one.
	during := testRing(t, newKey, oldKey)
	issuedNew, err := during.Sign(g)
	if err != nil {
		t.Fatal(err)
	}
	if issuedNew.KeyID != newKey.ID || issuedNew.Signature == issuedOld.Signature {
		t.Fatalf("new URLs must be signed by the new primary: %+v", issuedNew)
	}
	for _, s := range []SignedURL{issuedOld, issuedNew} {
		v, err := VerifyRequest(during, request(s), testNow)
		if err != nil || v.KeyID != s.KeyID {
			t.Fatalf("during rotation, URL of %s: key %q err %v", s.KeyID, v.KeyID, err)
		}
	}

	// Step 2: remove the old key; its URLs stop verifying, the new ones keep working.
	after := testRing(t, newKey)
	if _, err := VerifyRequest(after, request(issuedOld), testNow); !errors.Is(err, ErrSignatureMismatch) {
		t.Fatalf("old URL after removal: %v", err)
	}
	if _, err := VerifyRequest(after, request(issuedNew), testNow); err != nil {
		t.Fatalf("new URL after removal: %v", err)
	}
}

func TestCredentialsFromHeaders(t *testing.T) {
	h := http.Header{}
	if c := CredentialsFromHeaders(h.Get); c.Present {
		t.Fatalf("no headers: %+v", c)
	}
	h.Set("url-signature", "abc") // case-insensitive, as on the wire
	h.Set("URL-Expires", "2099-01-01T00:00:00")
	h.Set("URL-Methods", "GET,POST")
	h.Set("URL-Paths", "/v2/queues/q/messages")
	c := CredentialsFromHeaders(h.Get)
	want := Credentials{Signature: "abc", Expires: "2099-01-01T00:00:00", Methods: "GET,POST",
		Paths: "/v2/queues/q/messages", Present: true}
	if c != want {
		t.Fatalf("got %+v", c)
	}
	h = http.Header{}
	h.Set("URL-Paths", "/v2/queues/q/messages")
	if c := CredentialsFromHeaders(h.Get); !c.Present || c.Signature != "" {
		t.Fatalf("a path without signature still makes a signed request: %+v", c)
	}
}

func TestCredentialsFromQuery(t *testing.T) {
	sc := signedPOST(t)
	q := url.Values{}
	q.Set(QuerySignature, sc.request.Signature)
	q.Set(QueryExpires, sc.request.Expires)
	q[QueryMethods] = []string{"POST", ""}
	q.Set(QueryPaths, sc.request.Paths)
	c, err := CredentialsFromValues(q)
	if err != nil {
		t.Fatal(err)
	}
	req := sc.request
	req.Credentials = c
	if _, err := VerifyRequest(sc.ring, req, testNow); err != nil {
		t.Fatalf("query form refused: %v", err)
	}

	q[QueryMethods] = []string{"GET", "POST"} // repeated form means GET,POST
	c, _ = CredentialsFromValues(q)
	if c.Methods != "GET,POST" {
		t.Fatalf("repeated methods joined as %q", c.Methods)
	}

	for _, key := range []string{QuerySignature, QueryExpires} {
		bad := url.Values{key: {"a", "b"}}
		if _, err := CredentialsFromValues(bad); !errors.Is(err, ErrCredentialsMalformed) {
			t.Errorf("repeated %s: err = %v", key, err)
		}
	}
	if c, err := CredentialsFromValues(url.Values{"limit": {"5"}, QuerySignature: {""}}); err != nil || c.Present {
		t.Fatalf("unrelated query: %+v %v", c, err)
	}
}

func TestQueryReader(t *testing.T) {
	read := func(kv ...string) (Credentials, error) {
		var q QueryReader
		for i := 0; i+1 < len(kv); i += 2 {
			q.Add(kv[i], kv[i+1])
		}
		return q.Credentials()
	}
	c, err := read(QueryMethods, "GET", "limit", "5", QuerySignature, "s", QueryMethods, "",
		QueryPaths, "/a,/b", QueryMethods, "POST", QueryExpires, "e")
	if err != nil || c != (Credentials{Signature: "s", Expires: "e", Methods: "GET,POST", Paths: "/a,/b", Present: true}) {
		t.Fatalf("%+v %v", c, err)
	}
	for _, key := range []string{QuerySignature, QueryExpires} {
		if _, err := read(key, "a", key, "b"); !errors.Is(err, ErrCredentialsMalformed) {
			t.Errorf("repeated %s: err = %v", key, err)
		}
	}
	if c, err := read("limit", "5", QuerySignature, ""); err != nil || c.Present {
		t.Fatalf("unrelated query: %+v %v", c, err)
	}
}

func TestWebsocketCredentials(t *testing.T) {
	sc := signedPOST(t)
	headers := map[string]any{
		HeaderSignature: sc.request.Signature,
		HeaderExpires:   sc.request.Expires,
		HeaderMethods:   []any{"POST"},
		HeaderPaths:     []any{"/v2/queues/telemetry/messages"},
		"X-Project-ID":  "campus-1",
		"Client-ID":     "3381af92-2b9e-11e3-b191-71861300734c",
	}
	c, err := CredentialsFromWebsocket(headers)
	if err != nil {
		t.Fatal(err)
	}
	method, ok := WebsocketActionMethod("message_post")
	if !ok || method != "POST" {
		t.Fatalf("message_post maps to %q", method)
	}
	req := SignedRequest{Method: method, Path: "/v2/queues/telemetry/messages", Project: "campus-1", Credentials: c}
	if _, err := VerifyRequest(sc.ring, req, testNow); err != nil {
		t.Fatalf("websocket credentials refused: %v", err)
	}
	req.Path = "/v2/queues/other/messages"
	if _, err := VerifyRequest(sc.ring, req, testNow); !errors.Is(err, ErrPathNotAllowed) {
		t.Fatalf("websocket grant reached another queue: %v", err)
	}

	for name, edit := range map[string]func(map[string]any){
		"comma string methods": func(h map[string]any) { h[HeaderMethods] = "POST" },
		"comma in element":     func(h map[string]any) { h[HeaderPaths] = []any{"/a,/b"} },
		"number element":       func(h map[string]any) { h[HeaderMethods] = []any{1} },
		"signature not string": func(h map[string]any) { h[HeaderSignature] = 5 },
		"expires not string":   func(h map[string]any) { h[HeaderExpires] = []any{} },
	} {
		h := maps.Clone(headers)
		edit(h)
		if _, err := CredentialsFromWebsocket(h); !errors.Is(err, ErrCredentialsMalformed) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	for action, want := range map[string]string{"message_list": "GET", "message_get": "GET",
		"message_get_many": "GET", "message_delete": "DELETE", "message_delete_many": "DELETE",
		"queue_create": "", "claim_create": "", "subscription_create": ""} {
		if got, ok := WebsocketActionMethod(action); got != want || ok != (want != "") {
			t.Errorf("%s maps to %q %v", action, got, ok)
		}
	}
}

// One ring serves many requests at once (sync.Pool per key); run with -race.
func TestKeyRingConcurrentUse(t *testing.T) {
	ring := testRing(t, URLKey{ID: "new", Secret: []byte("n")}, URLKey{ID: "old", Secret: []byte("test-secret")})
	oldOnly := testRing(t)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 200 {
				g := URLGrant{Paths: []string{fmt.Sprintf("/v2/queues/q%d/messages", i)}, Methods: []string{"POST"},
					Project: "p", Expires: testNow.Add(time.Duration(j+1) * time.Second)}
				signer := ring
				if j%2 == 0 {
					signer = oldOnly
				}
				s, err := signer.Sign(g)
				if err != nil {
					errs <- err
					return
				}
				v, err := VerifyRequest(ring, SignedRequest{Method: "POST", Path: g.Paths[0], Project: "p",
					Credentials: s.Credentials()}, testNow)
				if err != nil || v.KeyID != map[bool]string{true: "old", false: "new"}[j%2 == 0] {
					errs <- fmt.Errorf("goroutine %d round %d: key %q err %v", i, j, v.KeyID, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
