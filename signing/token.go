package signing

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Roles a token can carry.
const (
	RoleAdmin  = "admin"
	RoleMember = "member"
	RoleDevice = "device"
)

// Token algorithms zedge accepts, one per key type.
const (
	AlgHS256 = "HS256"
	AlgRS256 = "RS256"
	AlgEdDSA = "EdDSA"
)

// Bounds on token material.
const (
	// MaxTokenLength bounds the token text a verifier parses.
	MaxTokenLength = 8192
	// MinHS256SecretLength is the shortest HS256 secret accepted (RFC 7518 §3.2: at least the hash size).
	MinHS256SecretLength = 32
	// MinRSABits is the smallest RSA modulus accepted.
	MinRSABits = 2048
	// MaxQueuePatterns bounds the queues claim.
	MaxQueuePatterns = 64
	// MaxQueuePatternLength bounds one queue pattern.
	MaxQueuePatternLength = 128
	// MaxProjectIDLength is Zaqar's project id limit.
	MaxProjectIDLength = 256
)

// Claims are zedge's token claims. Subject is the user or device id; ID (jti) and Subject are what a
// revocation list names.
type Claims struct {
	jwt.RegisteredClaims
	// ProjectID is the only project the token is valid for.
	ProjectID string `json:"project_id"`
	// Roles are among admin, member, device.
	Roles []string `json:"roles"`
	// Queues, when present, limits the token to queues matching one of these patterns ("*" matches any run
	// of characters, everything else matches itself). Absent means every queue of the project; a present
	// empty list means none. See AllowsQueue.
	Queues []string `json:"queues,omitempty"`
}

// NewClaims fills claims for a token valid from now for ttl, with a random jti.
func NewClaims(subject, project string, roles []string, now time.Time, ttl time.Duration) (Claims, error) {
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		return Claims{}, fmt.Errorf("signing: token id: %w", err)
	}
	return Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			ID:        hex.EncodeToString(id[:]),
			Subject:   subject,
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
		ProjectID: project,
		Roles:     slices.Clone(roles),
	}, nil
}

// Validate checks zedge's own claims; the parser calls it after the time-based checks.
func (c *Claims) Validate() error {
	switch {
	case c.Subject == "":
		return &claimError{"sub missing"}
	case c.ProjectID == "":
		return &claimError{"project_id missing"}
	case len(c.ProjectID) > MaxProjectIDLength:
		return &claimError{fmt.Sprintf("project_id longer than %d", MaxProjectIDLength)}
	case len(c.Roles) == 0:
		return &claimError{"roles missing"}
	}
	for _, r := range c.Roles {
		if r != RoleAdmin && r != RoleMember && r != RoleDevice {
			return &claimError{"unknown role"}
		}
	}
	if c.Queues != nil {
		if len(c.Queues) > MaxQueuePatterns {
			return &claimError{fmt.Sprintf("more than %d queue patterns", MaxQueuePatterns)}
		}
		for _, p := range c.Queues {
			if !validQueuePattern(p) {
				return &claimError{"invalid queue pattern"}
			}
		}
	}
	return nil
}

// validQueuePattern: 1..MaxQueuePatternLength characters of a queue name ([a-zA-Z0-9_.-]) or "*".
func validQueuePattern(p string) bool {
	if p == "" || len(p) > MaxQueuePatternLength {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' ||
			c == '.' || c == '*') {
			return false
		}
	}
	return true
}

// HasRole reports whether the token carries role.
func (c *Claims) HasRole(role string) bool { return slices.Contains(c.Roles, role) }

// IsAdmin reports whether the token carries the admin role.
func (c *Claims) IsAdmin() bool { return c.HasRole(RoleAdmin) }

// IsDevice reports whether the token carries the device role.
func (c *Claims) IsDevice() bool { return c.HasRole(RoleDevice) }

// AllowsQueue reports whether the queues claim covers queue: always when the claim is absent, otherwise when
// some pattern matches the whole name, "*" standing for any run of characters (queue names have no
// separators, so there is no "**").
func (c *Claims) AllowsQueue(queue string) bool {
	if c.Queues == nil {
		return true
	}
	return slices.ContainsFunc(c.Queues, func(p string) bool { return globMatch(p, queue) })
}

// Authorize checks that the token may act in project and, when queue is not empty, that it covers queue.
// A token is bound to its own project_id, except that the admin role may act in any project (an operator's
// token administers the whole broker). The queues claim limits every role, admin included.
func (c *Claims) Authorize(project, queue string) error {
	if c.ProjectID != project && !c.IsAdmin() {
		return ErrTokenWrongProject
	}
	if queue != "" && !c.AllowsQueue(queue) {
		return ErrTokenQueueNotAllowed
	}
	return nil
}

// globMatch matches name against a pattern where "*" is any run of characters. It backtracks only to the
// last star, so it runs in O(len(pattern)·len(name)) at worst.
func globMatch(pattern, name string) bool {
	p, n := 0, 0
	star, mark := -1, 0
	for n < len(name) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, n
			p++
		case p < len(pattern) && pattern[p] == name[n]:
			p++
			n++
		case star >= 0:
			p = star + 1
			mark++
			n = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// TokenKey is one verification key pinned to one algorithm. Build it with HS256Key, RS256Key or EdDSAKey.
type TokenKey struct {
	id     string
	alg    string
	verify any // []byte, *rsa.PublicKey or ed25519.PublicKey
}

// ID is the key id (kid).
func (k TokenKey) ID() string { return k.id }

// Alg is the algorithm the key is pinned to.
func (k TokenKey) Alg() string { return k.alg }

// HS256Key is a shared secret for HS256 tokens; it is copied.
func HS256Key(kid string, secret []byte) TokenKey {
	return TokenKey{id: kid, alg: AlgHS256, verify: slices.Clone(secret)}
}

// RS256Key is an RSA public key for RS256 tokens.
func RS256Key(kid string, pub *rsa.PublicKey) TokenKey {
	return TokenKey{id: kid, alg: AlgRS256, verify: pub}
}

// EdDSAKey is an Ed25519 public key for EdDSA tokens.
func EdDSAKey(kid string, pub ed25519.PublicKey) TokenKey {
	return TokenKey{id: kid, alg: AlgEdDSA, verify: pub}
}

func (k TokenKey) check() error {
	if k.id == "" {
		return fmt.Errorf("%w: token key without kid", ErrInvalidKey)
	}
	switch v := k.verify.(type) {
	case []byte:
		if len(v) < MinHS256SecretLength {
			return fmt.Errorf("%w: token key %q: HS256 secret shorter than %d bytes", ErrInvalidKey, k.id,
				MinHS256SecretLength)
		}
	case *rsa.PublicKey:
		if v == nil || v.N == nil || v.N.BitLen() < MinRSABits {
			return fmt.Errorf("%w: token key %q: RSA key smaller than %d bits", ErrInvalidKey, k.id, MinRSABits)
		}
	case ed25519.PublicKey:
		if len(v) != ed25519.PublicKeySize {
			return fmt.Errorf("%w: token key %q: bad Ed25519 key size", ErrInvalidKey, k.id)
		}
	default:
		return fmt.Errorf("%w: token key %q has no key material", ErrInvalidKey, k.id)
	}
	return nil
}

// TokenKeys is the set of keys tokens are verified with, selected by kid. Immutable and safe for concurrent
// use.
type TokenKeys struct {
	byID       map[string]TokenKey
	algs       []string // the algorithms configured, for jwt.WithValidMethods
	defaultKey *TokenKey
}

// NewTokenKeys builds a key set. Kids must be unique across all types. When exactly one HS256 key is given it
// also verifies tokens that carry no kid.
func NewTokenKeys(keys ...TokenKey) (*TokenKeys, error) {
	ks := &TokenKeys{byID: make(map[string]TokenKey, len(keys))}
	var hs []TokenKey
	for _, k := range keys {
		if err := k.check(); err != nil {
			return nil, err
		}
		if _, dup := ks.byID[k.id]; dup {
			return nil, fmt.Errorf("%w: token kid %q used twice", ErrInvalidKey, k.id)
		}
		ks.byID[k.id] = k
		if !slices.Contains(ks.algs, k.alg) {
			ks.algs = append(ks.algs, k.alg)
		}
		if k.alg == AlgHS256 {
			hs = append(hs, k)
		}
	}
	if len(hs) == 1 {
		ks.defaultKey = &hs[0]
	}
	return ks, nil
}

// keyFor selects the key for a parsed but unverified token and pins its algorithm.
func (ks *TokenKeys) keyFor(t *jwt.Token) (any, error) {
	var key TokenKey
	switch kid, present := t.Header["kid"]; {
	case !present:
		if ks.defaultKey == nil {
			return nil, ErrTokenKeyUnknown
		}
		key = *ks.defaultKey
	default:
		s, ok := kid.(string)
		if !ok {
			return nil, ErrTokenKeyUnknown
		}
		if key, ok = ks.byID[s]; !ok {
			return nil, ErrTokenKeyUnknown
		}
	}
	if t.Method == nil || t.Method.Alg() != key.alg {
		return nil, ErrTokenAlgorithm
	}
	return key.verify, nil
}

// VerifyToken parses and verifies token against keys at the instant now, allowing leeway of clock skew on
// exp, nbf and iat. It requires exp, a kid naming a configured key (or none, with a single HS256 key), the
// algorithm pinned to that key (so alg "none" and an HS256 token presented under an RSA or Ed25519 kid are
// refused), a valid signature, and zedge's claims (Claims.Validate). Failures are ErrTokenMissing,
// ErrTokenMalformed, ErrTokenAlgorithm, ErrTokenKeyUnknown, ErrTokenSignature, ErrTokenExpired,
// ErrTokenNotYetValid or ErrTokenClaims; their texts never contain the token.
func VerifyToken(keys *TokenKeys, token string, now time.Time, leeway time.Duration) (*Claims, error) {
	switch {
	case token == "":
		return nil, ErrTokenMissing
	case len(token) > MaxTokenLength:
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrTokenMalformed, MaxTokenLength)
	case keys == nil || len(keys.byID) == 0:
		return nil, ErrTokenKeyUnknown
	}
	parser := jwt.NewParser(
		jwt.WithValidMethods(keys.algs),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(func() time.Time { return now }),
	)
	claims := &Claims{}
	parsed, err := parser.ParseWithClaims(token, claims, keys.keyFor)
	if err != nil {
		return nil, classifyTokenError(err, parsed, keys)
	}
	return claims, nil
}

// classifyTokenError maps golang-jwt's errors onto zedge's sentinels, dropping its texts (some quote
// attacker-chosen header values).
func classifyTokenError(err error, t *jwt.Token, keys *TokenKeys) error {
	var claimErr *claimError
	switch {
	case errors.Is(err, ErrTokenAlgorithm):
		return ErrTokenAlgorithm
	case errors.Is(err, ErrTokenKeyUnknown):
		return ErrTokenKeyUnknown
	case errors.Is(err, jwt.ErrTokenMalformed):
		return ErrTokenMalformed
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		// An alg golang-jwt does not know at all.
		return ErrTokenAlgorithm
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		if t != nil && (t.Method == nil || !slices.Contains(keys.algs, t.Method.Alg())) {
			return ErrTokenAlgorithm
		}
		return ErrTokenSignature
	case errors.Is(err, jwt.ErrTokenExpired):
		return ErrTokenExpired
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return ErrTokenNotYetValid
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return &claimError{"exp missing"}
	case errors.As(err, &claimErr):
		return claimErr
	}
	// Claim values of the wrong JSON type (a string exp, a number sub) land here.
	return &claimError{"claim of the wrong type"}
}

// claimError is ErrTokenClaims with the name of the failing claim.
type claimError struct{ detail string }

func (e *claimError) Error() string { return ErrTokenClaims.Error() + ": " + e.detail }
func (e *claimError) Unwrap() error { return ErrTokenClaims }

// TokenSigner issues tokens with one private key (or HS256 secret) under its kid.
type TokenSigner struct {
	kid    string
	method jwt.SigningMethod
	key    any
}

// KeyID is the kid written into issued tokens.
func (s *TokenSigner) KeyID() string { return s.kid }

// NewHS256Signer signs with a shared secret (at least MinHS256SecretLength bytes).
func NewHS256Signer(kid string, secret []byte) (*TokenSigner, error) {
	k := HS256Key(kid, secret)
	if err := k.check(); err != nil {
		return nil, err
	}
	return &TokenSigner{kid: kid, method: jwt.SigningMethodHS256, key: k.verify}, nil
}

// NewRS256Signer signs with an RSA private key of at least MinRSABits bits.
func NewRS256Signer(kid string, key *rsa.PrivateKey) (*TokenSigner, error) {
	if key == nil {
		return nil, fmt.Errorf("%w: token key %q has no key material", ErrInvalidKey, kid)
	}
	if err := RS256Key(kid, &key.PublicKey).check(); err != nil {
		return nil, err
	}
	return &TokenSigner{kid: kid, method: jwt.SigningMethodRS256, key: key}, nil
}

// NewEdDSASigner signs with an Ed25519 private key.
func NewEdDSASigner(kid string, key ed25519.PrivateKey) (*TokenSigner, error) {
	if len(key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("%w: token key %q: bad Ed25519 key size", ErrInvalidKey, kid)
	}
	return &TokenSigner{kid: kid, method: jwt.SigningMethodEdDSA, key: key}, nil
}

// VerificationKey is the public half (or the secret) a TokenKeys needs to verify this signer's tokens.
func (s *TokenSigner) VerificationKey() TokenKey {
	switch k := s.key.(type) {
	case []byte:
		return HS256Key(s.kid, k)
	case *rsa.PrivateKey:
		return RS256Key(s.kid, &k.PublicKey)
	case ed25519.PrivateKey:
		return EdDSAKey(s.kid, k.Public().(ed25519.PublicKey))
	}
	return TokenKey{}
}

// IssueToken signs claims with s, writing s's kid into the header. The claims must pass Claims.Validate and
// carry exp; an empty, non-nil Queues is refused because it would vanish in the JSON and so lift the limit.
func IssueToken(s *TokenSigner, c Claims) (string, error) {
	if s == nil {
		return "", fmt.Errorf("%w: no token signer", ErrInvalidKey)
	}
	if c.ExpiresAt == nil {
		return "", &claimError{"exp missing"}
	}
	if c.Queues != nil && len(c.Queues) == 0 {
		return "", &claimError{"queues present but empty"}
	}
	if err := c.Validate(); err != nil {
		return "", err
	}
	t := jwt.NewWithClaims(s.method, &c)
	t.Header["kid"] = s.kid
	out, err := t.SignedString(s.key)
	if err != nil {
		return "", fmt.Errorf("signing: issue token: %w", err)
	}
	return out, nil
}
