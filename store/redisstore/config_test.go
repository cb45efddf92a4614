package redisstore

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
	cases := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"no address", func(c *Config) { c.Addrs = nil }, "at least one address"},
		{"not host:port", func(c *Config) { c.Addrs = []string{"localhost"} }, "not host:port"},
		{"empty host", func(c *Config) { c.Addrs = []string{":6379"} }, "not host:port"},
		{"two addresses without cluster", func(c *Config) { c.Addrs = []string{"a:1", "b:2"} }, "cluster: true"},
		{"negative pool", func(c *Config) { c.PoolSize = -1 }, "pool_size"},
		{"no dial timeout", func(c *Config) { c.DialTimeout = 0 }, "dial_timeout"},
		{"no read timeout", func(c *Config) { c.ReadTimeout = 0 }, "read_timeout"},
		{"brace in prefix", func(c *Config) { c.KeyPrefix = "a{b" }, "key_prefix"},
		{"tls options without tls", func(c *Config) { c.TLSInsecureSkipVerify = true }, "tls: true"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := DefaultConfig()
			c.edit(&cfg)
			err := cfg.Validate()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Validate() = %v, want an error mentioning %q", err, c.want)
			}
		})
	}
	cluster := DefaultConfig()
	cluster.Addrs, cluster.Cluster = []string{"127.0.0.1:7000", "127.0.0.1:7001"}, true
	cluster.PoolSize, cluster.DialTimeout = 20, time.Second
	if err := cluster.Validate(); err != nil {
		t.Fatalf("cluster config: %v", err)
	}
}

func TestTLSConfig(t *testing.T) {
	cfg := DefaultConfig()
	if tc, err := cfg.TLSConfig(); tc != nil || err != nil {
		t.Fatalf("tls off: %v, %v", tc, err)
	}
	cfg.TLS = true
	tc, err := cfg.TLSConfig()
	if err != nil || tc == nil || tc.InsecureSkipVerify || tc.RootCAs != nil {
		t.Fatalf("tls on: %+v, %v", tc, err)
	}
	cfg.TLSCAFile = filepath.Join(t.TempDir(), "missing.pem")
	if _, err := cfg.TLSConfig(); err == nil {
		t.Fatal("a missing CA file was accepted")
	}
	if err := os.WriteFile(cfg.TLSCAFile, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.TLSConfig(); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Fatalf("a CA file without certificates: %v", err)
	}
}
