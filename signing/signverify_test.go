package signing

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestSignRefusesGrantsThatCannotVerify: KeyRing.Sign promises to refuse grants a verifier could misread. A
// grant with more than MaxGrantElements methods or paths, or whose joined methods or paths exceed
// MaxCredentialLength, is one VerifyRequest always refuses (ErrCredentialsMalformed), so signing it would hand
// out a URL that never works. Such a grant is refused at signing, with a clear error; one at the bounds signs
// and verifies.
func TestSignRefusesGrantsThatCannotVerify(t *testing.T) {
	ring := testRing(t)
	exp := testNow.Add(time.Hour)
	many := func(n int, f func(i int) string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = f(i)
		}
		return out
	}
	method := func(i int) string { return "M" + string(rune('A'+i%26)) + strings.Repeat("X", i/26) }
	path := func(i int) string { return "/v2/queues/q" + strings.Repeat("x", i) + "/messages" }
	longPath := "/v2/queues/q/messages/" + strings.Repeat("p", MaxCredentialLength)

	for name, tc := range map[string]struct {
		g    URLGrant
		kind error // nil: signs, and the grant's credentials verify
	}{
		"32 methods":         {URLGrant{Paths: []string{path(0)}, Methods: append(many(31, method), "GET"), Expires: exp}, nil},
		"33 methods":         {URLGrant{Paths: []string{path(0)}, Methods: append(many(32, method), "GET"), Expires: exp}, ErrMethodsInvalid},
		"32 paths":           {URLGrant{Paths: many(32, path), Expires: exp}, nil},
		"33 paths":           {URLGrant{Paths: many(33, path), Expires: exp}, ErrInvalidPaths},
		"33 equal paths":     {URLGrant{Paths: many(33, func(int) string { return path(0) }), Expires: exp}, ErrInvalidPaths},
		"paths too long":     {URLGrant{Paths: []string{longPath}, Expires: exp}, ErrInvalidPaths},
		"method too long":    {URLGrant{Paths: []string{path(0)}, Methods: []string{"GET", strings.Repeat("M", MaxCredentialLength)}, Expires: exp}, ErrMethodsInvalid},
		"paths at the limit": {URLGrant{Paths: []string{longPath[:MaxCredentialLength]}, Expires: exp}, nil},
	} {
		su, err := ring.Sign(tc.g)
		if tc.kind != nil {
			var ve *ValidationError
			if !errors.Is(err, tc.kind) || !errors.As(err, &ve) || ve.Text == "" {
				t.Errorf("%s: err = %v, want a validation error of kind %v", name, err, tc.kind)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: Sign: %v", name, err)
			continue
		}
		_, err = VerifyRequest(ring, SignedRequest{Method: su.Methods[len(su.Methods)-1], Path: su.Paths[0],
			Credentials: su.Credentials()}, testNow)
		if err != nil {
			t.Errorf("%s: a grant Sign accepted does not verify: %v", name, err)
		}
	}
}

// TestShareRefusesTooManyMethods: the share endpoint's body reaches the same check, so a caller gets a 400
// text instead of a URL that is refused on every use.
func TestShareRefusesTooManyMethods(t *testing.T) {
	methods := make([]any, MaxGrantElements+1)
	for i := range methods {
		methods[i] = "GET"
	}
	_, err := Share(testRing(t), "q", "p", map[string]any{"methods": methods}, testNow)
	if !errors.Is(err, ErrMethodsInvalid) {
		t.Fatalf("err = %v", err)
	}
	paths := make([]any, MaxGrantElements+1)
	for i := range paths {
		paths[i] = "messages"
	}
	if _, err := Share(testRing(t), "q", "p", map[string]any{"paths": paths}, testNow); !errors.Is(err, ErrInvalidPaths) {
		t.Fatalf("err = %v", err)
	}
}
