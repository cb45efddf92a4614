package redisstore

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"
)

// Config configures the Redis store. The YAML tags are the keys under store.redis in zedge's configuration.
type Config struct {
	// Addrs are the Redis addresses (host:port): the one server, or seed nodes of a cluster.
	Addrs []string `yaml:"addrs"`
	// Cluster selects Redis Cluster (the client follows MOVED/ASK redirects and routes each queue's script to
	// the node holding its slot).
	Cluster bool `yaml:"cluster"`
	// Username and Password authenticate (ACL user, or only a password for requirepass).
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// TLS connects with TLS; TLSCAFile (PEM) replaces the system roots, and TLSInsecureSkipVerify disables
	// certificate verification (tests only).
	TLS                   bool   `yaml:"tls"`
	TLSCAFile             string `yaml:"tls_ca_file"`
	TLSInsecureSkipVerify bool   `yaml:"tls_insecure_skip_verify"`
	// PoolSize is the number of connections per Redis node; zero means go-redis's default (10 per CPU).
	PoolSize int `yaml:"pool_size"`
	// DialTimeout, ReadTimeout and WriteTimeout bound one connection attempt and one command's I/O.
	DialTimeout  time.Duration `yaml:"dial_timeout"`
	ReadTimeout  time.Duration `yaml:"read_timeout"`
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// KeyPrefix starts every key, so several zedge deployments (or tests) can share one Redis. It must not
	// contain '{' or '}', which would break the hash tags.
	KeyPrefix string `yaml:"key_prefix"`
}

// DefaultConfig returns a configuration for a local single Redis.
func DefaultConfig() Config {
	return Config{
		Addrs:        []string{"127.0.0.1:6379"},
		DialTimeout:  5 * time.Second,
		ReadTimeout:  3 * time.Second,
		WriteTimeout: 3 * time.Second,
		KeyPrefix:    "zedge",
	}
}

// Validate checks the configuration (it does not contact Redis).
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if len(c.Addrs) == 0 {
		bad("redis: addrs: at least one address is required")
	}
	for _, a := range c.Addrs {
		if host, port, err := net.SplitHostPort(a); err != nil || host == "" || port == "" {
			bad("redis: addrs: %q is not host:port", a)
		}
	}
	if !c.Cluster && len(c.Addrs) > 1 {
		bad("redis: addrs: %d addresses without cluster: true (a single Redis has one address)", len(c.Addrs))
	}
	if c.PoolSize < 0 {
		bad("redis: pool_size %d: want 0 (default) or more", c.PoolSize)
	}
	if c.DialTimeout <= 0 {
		bad("redis: dial_timeout must be positive")
	}
	if c.ReadTimeout <= 0 || c.WriteTimeout <= 0 {
		bad("redis: read_timeout and write_timeout must be positive")
	}
	if strings.ContainsAny(c.KeyPrefix, "{}") {
		bad("redis: key_prefix %q must not contain '{' or '}'", c.KeyPrefix)
	}
	if !c.TLS && (c.TLSCAFile != "" || c.TLSInsecureSkipVerify) {
		bad("redis: tls_ca_file and tls_insecure_skip_verify need tls: true")
	}
	return errors.Join(errs...)
}

// TLSConfig returns the TLS configuration, or nil without TLS (the relay's client uses it too).
func (c Config) TLSConfig() (*tls.Config, error) {
	if !c.TLS {
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: c.TLSInsecureSkipVerify} //nolint:gosec // opt-in, documented as tests only
	if c.TLSCAFile != "" {
		pem, err := os.ReadFile(c.TLSCAFile)
		if err != nil {
			return nil, fmt.Errorf("redis: tls_ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("redis: tls_ca_file %s: no PEM certificate found", c.TLSCAFile)
		}
		tc.RootCAs = pool
	}
	return tc, nil
}
