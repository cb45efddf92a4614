package signing

import (
	"testing"
	"time"
)

// BenchmarkVerifyRequest is the cost a signed POST adds to a request (target: at most 2 µs).
func BenchmarkVerifyRequest(b *testing.B) {
	b.Run("POST/primary-key", func(b *testing.B) {
		c := signedPOST(b)
		benchVerify(b, c.ring, c.request)
	})
	b.Run("POST/primary-key/CheckRequest", func(b *testing.B) {
		c := signedPOST(b)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := CheckRequest(c.ring, c.request, testNow); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("POST/old-key-of-3", func(b *testing.B) {
		// The worst honest case during a rotation: the URL was signed by the last key of the ring.
		old := URLKey{ID: "old", Secret: []byte("test-secret")}
		ring := testRing(b, URLKey{ID: "new", Secret: []byte("n")}, URLKey{ID: "mid", Secret: []byte("m")}, old)
		c := signedPOST(b)
		benchVerify(b, ring, c.request)
	})
	b.Run("POST/forged", func(b *testing.B) {
		// What a garbage signature of the right shape costs with one key.
		c := signedPOST(b)
		req := c.request
		req.Signature = flipHexDigit(req.Signature)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := VerifyRequest(c.ring, req, testNow); err == nil {
				b.Fatal("forged signature verified")
			}
		}
	})
	b.Run("GET/message-by-id/two-paths", func(b *testing.B) {
		ring := testRing(b)
		s, _ := ring.Sign(URLGrant{Paths: []string{"/v2/queues/telemetry/messages", "/v2/queues/telemetry/claims"},
			Methods: []string{"GET", "POST", "DELETE"}, Project: "7e7b1ee1b1e445e6bc79ab3e76c4e6c3",
			Expires: testNow.Add(time.Hour)})
		benchVerify(b, ring, SignedRequest{Method: "GET", Path: "/v2/queues/telemetry/messages/5f3c0a1b2c3d4e5f6a7b8c9d",
			Project: "7e7b1ee1b1e445e6bc79ab3e76c4e6c3", Credentials: s.Credentials()})
	})
}

func benchVerify(b *testing.B, ring *KeyRing, req SignedRequest) {
	b.Helper()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := VerifyRequest(ring, req, testNow); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSign(b *testing.B) {
	g := URLGrant{Paths: []string{"/v2/queues/telemetry/messages"}, Methods: []string{"POST"}, Project: "campus-1",
		Expires: testNow.Add(time.Hour)}
	b.Run("KeyRing.Sign", func(b *testing.B) {
		ring := testRing(b)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ring.Sign(g); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Sign", func(b *testing.B) {
		key := []byte("test-secret")
		b.ReportAllocs()
		for b.Loop() {
			_ = Sign(key, g)
		}
	})
}

func BenchmarkParseExpires(b *testing.B) {
	for _, s := range []string{"2099-12-31T23:59:59", "2099-12-31T23:59:59.123+02:00"} {
		b.Run(s, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ParseExpires(s, testNow); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkVerifyToken(b *testing.B) {
	keys := testTokenKeys(b)
	hs, _ := NewHS256Signer("hs1", hsSecret)
	ed, _ := NewEdDSASigner("ed1", testEdKey())
	rs, _ := NewRS256Signer("rsa1", testRSAKey())
	for _, s := range []*TokenSigner{hs, ed, rs} {
		name := s.VerificationKey().Alg()
		tok := issue(b, s, testClaims(b))
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := VerifyToken(keys, tok, testNow, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkIssueToken(b *testing.B) {
	hs, _ := NewHS256Signer("hs1", hsSecret)
	ed, _ := NewEdDSASigner("ed1", testEdKey())
	for _, s := range []*TokenSigner{hs, ed} {
		c := testClaims(b)
		b.Run(s.VerificationKey().Alg(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := IssueToken(s, c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
