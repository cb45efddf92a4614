package signing

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestDefaultConfigValid(t *testing.T) {
	c := DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	ring, err := c.KeyRing()
	if ring != nil || err != nil {
		t.Fatalf("default: no url keys, got %v %v", ring, err)
	}
	keys, err := c.TokenKeys()
	if keys != nil || err != nil {
		t.Fatalf("default: no token keys, got %v %v", keys, err)
	}
}

func TestConfigBuildsKeys(t *testing.T) {
	der, _ := x509.MarshalPKCS8PrivateKey(testEdKey())
	edPEM := Secret(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	c := DefaultConfig()
	c.URLKeys = []SecretKeyConfig{{ID: "old", Secret: "s1"}, {ID: "new", Secret: "s2"}}
	c.URLPrimaryKey = "new"
	c.Token.Secrets = []SecretKeyConfig{{ID: "hs", Secret: Secret(hsSecret)}}
	c.Token.PrivateKeys = []PEMKeyConfig{{ID: "ed", PEM: edPEM}}
	c.Token.SigningKey = "ed"
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	ring, _ := c.KeyRing()
	if ring.PrimaryID() != "new" || strings.Join(ring.IDs(), ",") != "new,old" {
		t.Fatalf("ring ids %v", ring.IDs())
	}
	keys, _ := c.TokenKeys()
	signer, _ := c.TokenSigner()
	claims, err := VerifyToken(keys, issue(t, signer, testClaims(t)), testNow, c.Token.Leeway)
	if err != nil || claims.Subject != "sensor-17" {
		t.Fatalf("config-built signer and keys disagree: %v", err)
	}
}

// TestShortURLKeysAccepted: Zaqar's URL secrets are arbitrary strings (its documentation uses test-secret), so a
// short one is valid and only listed for a warning; token secrets keep their minimum.
func TestShortURLKeysAccepted(t *testing.T) {
	c := DefaultConfig()
	c.URLKeys = []SecretKeyConfig{{ID: "zaqar", Secret: "test-secret"}, {ID: "long", Secret: Secret(strings.Repeat("k", RecommendedURLKeyLength))}}
	if err := c.Validate(); err != nil {
		t.Fatalf("short url secret refused: %v", err)
	}
	if got := c.ShortURLKeys(); len(got) != 1 || got[0] != "zaqar" {
		t.Fatalf("ShortURLKeys = %v", got)
	}
	ring, _ := c.KeyRing()
	g := URLGrant{Paths: []string{"/v2/queues/fizbit/messages"}, Methods: []string{"POST", "GET"},
		Project: "7e7b1ee1b1e445e6bc79ab3e76c4e6c3", Expires: time.Date(2099, 12, 31, 23, 59, 59, 0, time.UTC)}
	su, err := ring.Sign(g)
	if err != nil || su.Signature != "570f25a4008b45ec380945e5e0de63efbd5c7e39a6ccbad45698bce8bea956d8" {
		t.Fatalf("spec example with the configured short key: %v %s", err, su.Signature)
	}
}

func TestConfigValidateRejects(t *testing.T) {
	for name, edit := range map[string]func(*Config){
		"negative leeway":       func(c *Config) { c.Token.Leeway = -time.Second },
		"huge leeway":           func(c *Config) { c.Token.Leeway = time.Hour },
		"zero ttl":              func(c *Config) { c.Token.TTL = 0 },
		"primary not found":     func(c *Config) { c.URLKeys = []SecretKeyConfig{{ID: "a", Secret: "s"}}; c.URLPrimaryKey = "b" },
		"primary without keys":  func(c *Config) { c.URLPrimaryKey = "b" },
		"empty url secret":      func(c *Config) { c.URLKeys = []SecretKeyConfig{{ID: "a"}} },
		"short token secret":    func(c *Config) { c.Token.Secrets = []SecretKeyConfig{{ID: "a", Secret: "short"}} },
		"bad public pem":        func(c *Config) { c.Token.PublicKeys = []PEMKeyConfig{{ID: "a", PEM: "nope"}} },
		"bad private pem":       func(c *Config) { c.Token.PrivateKeys = []PEMKeyConfig{{ID: "a", PEM: "nope"}} },
		"signing key not found": func(c *Config) { c.Token.SigningKey = "nope" },
	} {
		c := DefaultConfig()
		edit(&c)
		err := c.Validate()
		if !errors.Is(err, ErrInvalidConfig) && !errors.Is(err, ErrInvalidKey) && !errors.Is(err, ErrInvalidPEM) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestSecretNeverPrinted(t *testing.T) {
	s := SecretKeyConfig{ID: "k", Secret: "hunter2-hunter2"}
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("cfg", "key", s.Secret, "all", s)
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%+v %#v %s %v", s, s, s.Secret, s.Secret), b.String()} {
		if strings.Contains(out, "hunter2") {
			t.Fatalf("secret printed: %s", out)
		}
	}
	text, _ := s.Secret.MarshalText()
	if string(text) != "[redacted]" {
		t.Fatalf("MarshalText = %s", text)
	}
	var back Secret
	_ = back.UnmarshalText([]byte("x"))
	if string(back) != "x" {
		t.Fatal("UnmarshalText lost the value")
	}
}
