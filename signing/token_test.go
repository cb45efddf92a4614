package signing

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var hsSecret = []byte("0123456789abcdef0123456789abcdef-hs256")

// testRSAKey is generated once: 2048-bit generation is the slow part of these tests.
var testRSAKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

var testEdKey = sync.OnceValue(func() ed25519.PrivateKey {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
})

func testTokenKeys(t testing.TB) *TokenKeys {
	t.Helper()
	ks, err := NewTokenKeys(
		HS256Key("hs1", hsSecret),
		RS256Key("rsa1", &testRSAKey().PublicKey),
		EdDSAKey("ed1", testEdKey().Public().(ed25519.PublicKey)),
	)
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

func testClaims(t testing.TB) Claims {
	t.Helper()
	c, err := NewClaims("sensor-17", "campus-1", []string{RoleDevice}, testNow, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func issue(t testing.TB, s *TokenSigner, c Claims) string {
	t.Helper()
	tok, err := IssueToken(s, c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestTokenRoundTrip(t *testing.T) {
	keys := testTokenKeys(t)
	hs, _ := NewHS256Signer("hs1", hsSecret)
	rs, _ := NewRS256Signer("rsa1", testRSAKey())
	ed, _ := NewEdDSASigner("ed1", testEdKey())
	for _, s := range []*TokenSigner{hs, rs, ed} {
		c := testClaims(t)
		c.Queues = []string{"telemetry-*", "cmd-ac-12"}
		tok := issue(t, s, c)
		got, err := VerifyToken(keys, tok, testNow.Add(time.Minute), 0)
		if err != nil {
			t.Fatalf("%s: %v", s.KeyID(), err)
		}
		if got.Subject != "sensor-17" || got.ProjectID != "campus-1" || !got.IsDevice() || got.IsAdmin() ||
			got.ID != c.ID || len(got.ID) != 32 || strings.Join(got.Queues, ",") != "telemetry-*,cmd-ac-12" {
			t.Fatalf("%s: claims = %+v", s.KeyID(), got)
		}
		if err := got.Authorize("campus-1", "telemetry-b1"); err != nil {
			t.Fatalf("%s: authorize: %v", s.KeyID(), err)
		}
	}
}

// signRaw builds a token by hand, for the forms IssueToken refuses to make.
func signRaw(t testing.TB, method jwt.SigningMethod, header map[string]any, claims any, key any) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claimsOf(claims))
	for k, v := range header {
		tok.Header[k] = v
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type rawClaims map[string]any

func (r rawClaims) GetExpirationTime() (*jwt.NumericDate, error) { return nil, nil }
func (r rawClaims) GetIssuedAt() (*jwt.NumericDate, error)       { return nil, nil }
func (r rawClaims) GetNotBefore() (*jwt.NumericDate, error)      { return nil, nil }
func (r rawClaims) GetIssuer() (string, error)                   { return "", nil }
func (r rawClaims) GetSubject() (string, error)                  { return "", nil }
func (r rawClaims) GetAudience() (jwt.ClaimStrings, error)       { return nil, nil }

func claimsOf(v any) jwt.Claims {
	switch c := v.(type) {
	case Claims:
		return &c
	case map[string]any:
		return rawClaims(c)
	}
	panic("claimsOf")
}

func b64(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestTokenRefusals(t *testing.T) {
	keys := testTokenKeys(t)
	hs, _ := NewHS256Signer("hs1", hsSecret)
	good := testClaims(t)
	goodPayload := func() map[string]any {
		var m map[string]any
		b, _ := json.Marshal(good)
		_ = json.Unmarshal(b, &m)
		return m
	}
	rsaPubDER, _ := x509.MarshalPKIXPublicKey(&testRSAKey().PublicKey)
	rsaPubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: rsaPubDER})
	expired := good
	expired.ExpiresAt = jwt.NewNumericDate(testNow.Add(-time.Minute))
	future := good
	future.NotBefore = jwt.NewNumericDate(testNow.Add(10 * time.Minute))
	noExp := goodPayload()
	delete(noExp, "exp")
	noSub := good
	noSub.Subject = ""
	badRole := good
	badRole.Roles = []string{"root"}
	badPattern := good
	badPattern.Queues = []string{"a/b"}

	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"none", "", ErrTokenMissing},
		{"garbage", "not-a-token", ErrTokenMalformed},
		{"garbage segments", "a.b.c", ErrTokenMalformed},
		{"overlong", strings.Repeat("a", MaxTokenLength+1), ErrTokenMalformed},
		{"expired", issue(t, hs, expired), ErrTokenExpired},
		{"not yet valid", issue(t, hs, future), ErrTokenNotYetValid},
		{"wrong secret", signRaw(t, jwt.SigningMethodHS256, map[string]any{"kid": "hs1"}, good,
			[]byte("another-secret-another-secret-xx")), ErrTokenSignature},
		{"alg none", b64(map[string]any{"alg": "none", "typ": "JWT", "kid": "hs1"}) + "." + b64(goodPayload()) + ".",
			ErrTokenAlgorithm},
		{"alg none signed by library", signRaw(t, jwt.SigningMethodNone, map[string]any{"kid": "hs1"}, good,
			jwt.UnsafeAllowNoneSignatureType), ErrTokenAlgorithm},
		{"unknown alg", b64(map[string]any{"alg": "XY99", "kid": "hs1"}) + "." + b64(goodPayload()) + ".c2ln",
			ErrTokenAlgorithm},
		{"alg not configured (HS512)", signRaw(t, jwt.SigningMethodHS512, map[string]any{"kid": "hs1"}, good,
			hsSecret), ErrTokenAlgorithm},
		// Algorithm confusion: an HS256 token "signed" with the RSA public key's PEM text, presented under the
		// RSA key's kid.
		{"HS256 against RSA key", signRaw(t, jwt.SigningMethodHS256, map[string]any{"kid": "rsa1"}, good, rsaPubPEM),
			ErrTokenAlgorithm},
		{"RS256 under HS kid", signRaw(t, jwt.SigningMethodRS256, map[string]any{"kid": "hs1"}, good, testRSAKey()),
			ErrTokenAlgorithm},
		{"EdDSA under RSA kid", signRaw(t, jwt.SigningMethodEdDSA, map[string]any{"kid": "rsa1"}, good, testEdKey()),
			ErrTokenAlgorithm},
		{"unknown kid", signRaw(t, jwt.SigningMethodHS256, map[string]any{"kid": "nope"}, good, hsSecret),
			ErrTokenKeyUnknown},
		{"kid not a string", signRaw(t, jwt.SigningMethodHS256, map[string]any{"kid": 7}, good, hsSecret),
			ErrTokenKeyUnknown},
		{"RS256 without kid", signRaw(t, jwt.SigningMethodRS256, nil, good, testRSAKey()), ErrTokenAlgorithm},
		{"tampered payload", tamperPayload(t, issue(t, hs, good)), ErrTokenSignature},
		{"exp missing", signRaw(t, jwt.SigningMethodHS256, map[string]any{"kid": "hs1"}, noExp, hsSecret),
			ErrTokenClaims},
		{"sub missing", signRaw(t, jwt.SigningMethodHS256, map[string]any{"kid": "hs1"}, noSub, hsSecret),
			ErrTokenClaims},
		{"unknown role", signRaw(t, jwt.SigningMethodHS256, map[string]any{"kid": "hs1"}, badRole, hsSecret),
			ErrTokenClaims},
		{"bad queue pattern", signRaw(t, jwt.SigningMethodHS256, map[string]any{"kid": "hs1"}, badPattern, hsSecret),
			ErrTokenClaims},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := VerifyToken(keys, tc.token, testNow, 0)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if tc.token != "" && strings.Contains(err.Error(), tc.token) {
				t.Fatalf("error text leaks the token")
			}
		})
	}

	// Wrong project, and a queue outside the token's patterns.
	c := good
	c.Queues = []string{"telemetry-*"}
	claims, err := VerifyToken(keys, issue(t, hs, c), testNow, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := claims.Authorize("campus-2", ""); !errors.Is(err, ErrTokenWrongProject) {
		t.Fatalf("wrong project: %v", err)
	}
	if err := claims.Authorize("campus-1", "cmd-ac-12"); !errors.Is(err, ErrTokenQueueNotAllowed) {
		t.Fatalf("queue outside patterns: %v", err)
	}
	// An admin acts in any project; its queues claim still limits it.
	admin := good
	admin.Roles = []string{RoleMember, RoleAdmin}
	claims, _ = VerifyToken(keys, issue(t, hs, admin), testNow, 0)
	if err := claims.Authorize("campus-2", "anything"); err != nil {
		t.Fatalf("admin of campus-1 in campus-2: %v", err)
	}
	admin.Queues = []string{"ops-*"}
	claims, _ = VerifyToken(keys, issue(t, hs, admin), testNow, 0)
	if err := claims.Authorize("campus-2", "ops-1"); err != nil {
		t.Fatalf("queue-limited admin in campus-2: %v", err)
	}
	if err := claims.Authorize("campus-2", "telemetry-1"); !errors.Is(err, ErrTokenQueueNotAllowed) {
		t.Fatalf("queue-limited admin outside its queues: %v", err)
	}
}

func tamperPayload(t testing.TB, tok string) string {
	parts := strings.Split(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(raw), "campus-1", "campus-2", 1)))
	return strings.Join(parts, ".")
}

func TestTokenLeeway(t *testing.T) {
	keys := testTokenKeys(t)
	hs, _ := NewHS256Signer("hs1", hsSecret)
	tok := issue(t, hs, testClaims(t)) // iat = nbf = testNow, exp = testNow+1h
	for _, tc := range []struct {
		now    time.Time
		leeway time.Duration
		want   error
	}{
		{testNow.Add(time.Hour + 20*time.Second), 30 * time.Second, nil},
		{testNow.Add(time.Hour + 40*time.Second), 30 * time.Second, ErrTokenExpired},
		{testNow.Add(time.Hour), 0, ErrTokenExpired},
		{testNow.Add(-20 * time.Second), 30 * time.Second, nil},
		{testNow.Add(-40 * time.Second), 30 * time.Second, ErrTokenNotYetValid},
	} {
		_, err := VerifyToken(keys, tok, tc.now, tc.leeway)
		if !errors.Is(err, tc.want) && !(tc.want == nil && err == nil) {
			t.Errorf("now %v leeway %v: err = %v, want %v", tc.now.Sub(testNow), tc.leeway, err, tc.want)
		}
	}
}

func TestTokenWithoutKid(t *testing.T) {
	c := testClaims(t)
	tok := signRaw(t, jwt.SigningMethodHS256, nil, c, hsSecret)
	single, _ := NewTokenKeys(HS256Key("only", hsSecret), RS256Key("rsa1", &testRSAKey().PublicKey))
	if _, err := VerifyToken(single, tok, testNow, 0); err != nil {
		t.Fatalf("single HS256 key must verify a kid-less token: %v", err)
	}
	two, _ := NewTokenKeys(HS256Key("a", hsSecret), HS256Key("b", hsSecret))
	if _, err := VerifyToken(two, tok, testNow, 0); !errors.Is(err, ErrTokenKeyUnknown) {
		t.Fatalf("two HS256 keys, no kid: %v", err)
	}
	if _, err := VerifyToken(nil, tok, testNow, 0); !errors.Is(err, ErrTokenKeyUnknown) {
		t.Fatalf("no keys: %v", err)
	}
}

func TestIssueTokenRefuses(t *testing.T) {
	hs, _ := NewHS256Signer("hs1", hsSecret)
	c := testClaims(t)
	c.ExpiresAt = nil
	if _, err := IssueToken(hs, c); !errors.Is(err, ErrTokenClaims) {
		t.Fatalf("no exp: %v", err)
	}
	c = testClaims(t)
	c.Queues = []string{}
	if _, err := IssueToken(hs, c); !errors.Is(err, ErrTokenClaims) {
		t.Fatalf("empty queues: %v", err)
	}
	c = testClaims(t)
	c.ProjectID = ""
	if _, err := IssueToken(hs, c); !errors.Is(err, ErrTokenClaims) {
		t.Fatalf("no project: %v", err)
	}
	if _, err := IssueToken(nil, testClaims(t)); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("nil signer: %v", err)
	}
}

func TestTokenKeyChecks(t *testing.T) {
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	for name, keys := range map[string][]TokenKey{
		"short secret":  {HS256Key("a", []byte("short"))},
		"no kid":        {HS256Key("", hsSecret)},
		"duplicate kid": {HS256Key("a", hsSecret), EdDSAKey("a", testEdKey().Public().(ed25519.PublicKey))},
		"small RSA":     {RS256Key("r", &small.PublicKey)},
		"nil RSA":       {RS256Key("r", nil)},
		"bad Ed25519":   {EdDSAKey("e", ed25519.PublicKey{1, 2, 3})},
		"zero key":      {{}},
	} {
		if _, err := NewTokenKeys(keys...); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if _, err := NewRS256Signer("r", small); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("small RSA signer: %v", err)
	}
	if _, err := NewEdDSASigner("e", ed25519.PrivateKey{1}); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("bad Ed25519 signer: %v", err)
	}
}

func TestGlobMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, name string
		want          bool
	}{
		{"telemetry-*", "telemetry-b1", true},
		{"telemetry-*", "telemetry-", true},
		{"telemetry-*", "telemetry", false},
		{"telemetry-*", "xtelemetry-b1", false},
		{"*-b1", "telemetry-b1", true},
		{"*", "anything", true},
		{"cmd-*-12", "cmd-ac-12", true},
		{"cmd-*-12", "cmd-ac-123", false},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
		{"a**", "a", true},
		{"exact", "exact", true},
		{"exact", "exac", false},
		{"a.b", "axb", false},
		{strings.Repeat("*a", 30), strings.Repeat("a", 60) + "b", false},
	} {
		if got := globMatch(tc.pattern, tc.name); got != tc.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tc.pattern, tc.name, got, tc.want)
		}
	}
	none := &Claims{Queues: []string{}}
	if none.AllowsQueue("q") {
		t.Error("an empty queues claim allows nothing")
	}
	all := &Claims{}
	if !all.AllowsQueue("q") {
		t.Error("an absent queues claim allows every queue")
	}
}

func TestPEMKeys(t *testing.T) {
	rsaPriv := testRSAKey()
	edPriv := testEdKey()
	pkcs8RSA, _ := x509.MarshalPKCS8PrivateKey(rsaPriv)
	pkcs8Ed, _ := x509.MarshalPKCS8PrivateKey(edPriv)
	pubRSA, _ := x509.MarshalPKIXPublicKey(&rsaPriv.PublicKey)
	pubEd, _ := x509.MarshalPKIXPublicKey(edPriv.Public())
	enc := func(typ string, der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}) }

	for _, tc := range []struct {
		name    string
		priv    []byte
		pub     []byte
		wantAlg string
	}{
		{"RSA PKCS#8 / PKIX", enc("PRIVATE KEY", pkcs8RSA), enc("PUBLIC KEY", pubRSA), AlgRS256},
		{"RSA PKCS#1", enc("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaPriv)),
			enc("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&rsaPriv.PublicKey)), AlgRS256},
		{"Ed25519", enc("PRIVATE KEY", pkcs8Ed), enc("PUBLIC KEY", pubEd), AlgEdDSA},
	} {
		signer, err := TokenSignerFromPEM("k", tc.priv)
		if err != nil {
			t.Fatalf("%s: private: %v", tc.name, err)
		}
		pub, err := PublicTokenKeyFromPEM("k", tc.pub)
		if err != nil {
			t.Fatalf("%s: public: %v", tc.name, err)
		}
		if pub.Alg() != tc.wantAlg || signer.VerificationKey().Alg() != tc.wantAlg || pub.ID() != "k" {
			t.Fatalf("%s: algs %s / %s", tc.name, pub.Alg(), signer.VerificationKey().Alg())
		}
		keys, _ := NewTokenKeys(pub)
		if _, err := VerifyToken(keys, issue(t, signer, testClaims(t)), testNow, 0); err != nil {
			t.Fatalf("%s: verify: %v", tc.name, err)
		}
	}
	for name, text := range map[string][]byte{
		"not PEM":        []byte("hello"),
		"wrong block":    enc("CERTIFICATE REQUEST", []byte{1}),
		"garbage DER":    enc("PUBLIC KEY", []byte{1, 2, 3}),
		"private as pub": enc("PRIVATE KEY", pkcs8Ed),
	} {
		if _, err := PublicTokenKeyFromPEM("k", text); !errors.Is(err, ErrInvalidPEM) {
			t.Errorf("public %s: %v", name, err)
		}
	}
	if _, err := TokenSignerFromPEM("k", enc("PUBLIC KEY", pubEd)); !errors.Is(err, ErrInvalidPEM) {
		t.Errorf("public as private: %v", err)
	}
}
