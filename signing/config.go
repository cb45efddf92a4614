package signing

import (
	"fmt"
	"log/slog"
	"slices"
	"time"
)

// Secret is configuration text that must never be printed: fmt, slog, JSON and YAML output show
// "[redacted]". Use string(s) where the value itself is needed.
type Secret string

const redacted = "[redacted]"

func (s Secret) String() string                { return redacted }
func (s Secret) GoString() string              { return redacted }
func (s Secret) LogValue() slog.Value          { return slog.StringValue(redacted) }
func (s Secret) MarshalText() ([]byte, error)  { return []byte(redacted), nil }
func (s *Secret) UnmarshalText(b []byte) error { *s = Secret(b); return nil }

// SecretKeyConfig is a key id and its shared secret.
type SecretKeyConfig struct {
	ID     string `yaml:"id"`
	Secret Secret `yaml:"secret"`
}

// PEMKeyConfig is a key id and a PEM-encoded key (the text itself, not a file name).
type PEMKeyConfig struct {
	ID  string `yaml:"id"`
	PEM Secret `yaml:"pem"`
}

// Config is the signing configuration: URL-signing secrets and token keys.
type Config struct {
	// URLKeys are the URL-signing secrets ([signed_url] secret_key in Zaqar). Empty means signed URLs are off:
	// share answers "The `key` can't be None" and no signed request verifies.
	URLKeys []SecretKeyConfig `yaml:"url_keys"`
	// URLPrimaryKey is the id of the key that signs; empty means the first of URLKeys.
	URLPrimaryKey string `yaml:"url_primary_key"`
	// Token configures JWT verification and issuing.
	Token TokenConfig `yaml:"token"`
}

// TokenConfig configures tokens.
type TokenConfig struct {
	// Leeway is the clock skew allowed on exp, nbf and iat.
	Leeway time.Duration `yaml:"leeway"`
	// TTL is the lifetime of tokens zedge issues.
	TTL time.Duration `yaml:"ttl"`
	// Secrets are HS256 shared secrets by kid (at least MinHS256SecretLength bytes each).
	Secrets []SecretKeyConfig `yaml:"secrets"`
	// PublicKeys are RSA (RS256) or Ed25519 (EdDSA) verification keys by kid.
	PublicKeys []PEMKeyConfig `yaml:"public_keys"`
	// PrivateKeys are RSA or Ed25519 keys zedge may issue with; their public halves verify too.
	PrivateKeys []PEMKeyConfig `yaml:"private_keys"`
	// SigningKey is the kid zedge issues tokens with: one of Secrets or PrivateKeys. Empty: zedge issues none.
	SigningKey string `yaml:"signing_key"`
}

// Limits of the configurable durations.
const (
	MaxTokenLeeway = 10 * time.Minute
	MaxTokenTTL    = 366 * 24 * time.Hour
)

// DefaultConfig has no keys (signed URLs and tokens off), a 30 s token leeway and a one-hour token lifetime.
func DefaultConfig() Config {
	return Config{Token: TokenConfig{Leeway: 30 * time.Second, TTL: time.Hour}}
}

// Validate checks the durations and builds every key once, so that a bad secret or PEM is reported at start.
func (c Config) Validate() error {
	if c.Token.Leeway < 0 || c.Token.Leeway > MaxTokenLeeway {
		return fmt.Errorf("%w: token leeway %v outside 0..%v", ErrInvalidConfig, c.Token.Leeway, MaxTokenLeeway)
	}
	if c.Token.TTL <= 0 || c.Token.TTL > MaxTokenTTL {
		return fmt.Errorf("%w: token ttl %v outside (0, %v]", ErrInvalidConfig, c.Token.TTL, MaxTokenTTL)
	}
	if _, err := c.KeyRing(); err != nil {
		return err
	}
	if _, err := c.TokenKeys(); err != nil {
		return err
	}
	_, err := c.TokenSigner()
	return err
}

// RecommendedURLKeyLength is the shortest URL-signing secret that does not draw a warning. Shorter secrets are
// accepted, because Zaqar deployments use arbitrary [signed_url] secret_key strings and their URLs must keep
// verifying, but an HMAC key shorter than its hash (RFC 2104) is easier to guess than the signature is to forge.
const RecommendedURLKeyLength = 32

// ShortURLKeys lists the ids of the URL-signing secrets shorter than RecommendedURLKeyLength, for a warning at
// start.
func (c Config) ShortURLKeys() []string {
	var ids []string
	for _, k := range c.URLKeys {
		if len(k.Secret) < RecommendedURLKeyLength {
			ids = append(ids, k.ID)
		}
	}
	return ids
}

// KeyRing builds the URL key ring, or returns nil when no URL key is configured.
func (c Config) KeyRing() (*KeyRing, error) {
	if len(c.URLKeys) == 0 {
		if c.URLPrimaryKey != "" {
			return nil, fmt.Errorf("%w: url_primary_key %q names no url key", ErrInvalidConfig, c.URLPrimaryKey)
		}
		return nil, nil
	}
	primary := 0
	if c.URLPrimaryKey != "" {
		primary = slices.IndexFunc(c.URLKeys, func(k SecretKeyConfig) bool { return k.ID == c.URLPrimaryKey })
		if primary < 0 {
			return nil, fmt.Errorf("%w: url_primary_key %q names no url key", ErrInvalidConfig, c.URLPrimaryKey)
		}
	}
	others := make([]URLKey, 0, len(c.URLKeys)-1)
	for i, k := range c.URLKeys {
		if i != primary {
			others = append(others, URLKey{ID: k.ID, Secret: []byte(k.Secret)})
		}
	}
	p := c.URLKeys[primary]
	return NewKeyRing(URLKey{ID: p.ID, Secret: []byte(p.Secret)}, others...)
}

// TokenKeys builds the token verification keys: the HS256 secrets, the public keys, and the public halves of
// the private keys. It returns nil when none is configured.
func (c Config) TokenKeys() (*TokenKeys, error) {
	t := c.Token
	var keys []TokenKey
	for _, s := range t.Secrets {
		keys = append(keys, HS256Key(s.ID, []byte(s.Secret)))
	}
	for _, p := range t.PublicKeys {
		k, err := PublicTokenKeyFromPEM(p.ID, []byte(p.PEM))
		if err != nil {
			return nil, fmt.Errorf("token public key %q: %w", p.ID, err)
		}
		keys = append(keys, k)
	}
	for _, p := range t.PrivateKeys {
		s, err := TokenSignerFromPEM(p.ID, []byte(p.PEM))
		if err != nil {
			return nil, fmt.Errorf("token private key %q: %w", p.ID, err)
		}
		keys = append(keys, s.VerificationKey())
	}
	if len(keys) == 0 {
		return nil, nil
	}
	return NewTokenKeys(keys...)
}

// TokenSigner builds the signer named by SigningKey, or returns nil when SigningKey is empty.
func (c Config) TokenSigner() (*TokenSigner, error) {
	t := c.Token
	if t.SigningKey == "" {
		return nil, nil
	}
	for _, s := range t.Secrets {
		if s.ID == t.SigningKey {
			return NewHS256Signer(s.ID, []byte(s.Secret))
		}
	}
	for _, p := range t.PrivateKeys {
		if p.ID == t.SigningKey {
			return TokenSignerFromPEM(p.ID, []byte(p.PEM))
		}
	}
	return nil, fmt.Errorf("%w: token signing_key %q names no secret or private key", ErrInvalidConfig, t.SigningKey)
}
