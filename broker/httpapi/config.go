package httpapi

import (
	"errors"
	"fmt"
	"net"
	"time"
)

// Client-ID modes (Zaqar's client_id_uuid_safe).
const (
	ClientIDStrict = "strict" // the Client-ID must be a UUID in any spelling Python's uuid.UUID accepts
	ClientIDOff    = "off"    // any string of MinClientIDLength..MaxClientIDLength bytes (as Zaqar counts them)
)

// Config configures the REST transport. The application embeds it as `http:`.
type Config struct {
	// Addr is the host:port the application listens on.
	Addr string `yaml:"addr"`
	// AdminMode enables GET /v2/health for callers whose X-Roles contains admin (Zaqar's admin_mode).
	AdminMode bool `yaml:"admin_mode"`

	// ClientIDMode is "strict" (default) or "off".
	ClientIDMode string `yaml:"client_id_mode"`
	// MinClientIDLength and MaxClientIDLength bound the Client-ID in "off" mode.
	MinClientIDLength int `yaml:"min_client_id_length"`
	MaxClientIDLength int `yaml:"max_client_id_length"`

	// ReadTimeout bounds reading one request (headers and body); WriteTimeout writing one response;
	// IdleTimeout how long a keep-alive connection waits for its next request.
	ReadTimeout  time.Duration `yaml:"read_timeout"`
	WriteTimeout time.Duration `yaml:"write_timeout"`
	IdleTimeout  time.Duration `yaml:"idle_timeout"`

	// MaxConnsPerIP limits concurrent connections from one client address (0: no limit).
	MaxConnsPerIP int `yaml:"max_conns_per_ip"`
	// Concurrency limits the requests served at once (0: fasthttp's default, 256 Ki).
	Concurrency int `yaml:"concurrency"`
	// Metrics serves Prometheus metrics at GET /metrics on this port (open like /healthz: no headers, no token).
	Metrics bool `yaml:"metrics"`
	// ReadBufferSize is the per-connection read buffer; it also bounds the size of the request headers.
	ReadBufferSize int `yaml:"read_buffer_size"`
	// MaxBodySize bounds request bodies of the routes for which Zaqar sets no limit of its own (claims,
	// subscriptions, purge, share). Message posts and queue metadata use the broker Limits.
	MaxBodySize int `yaml:"max_body_size"`
	// Name is sent in the Server header ("" sends none).
	Name string `yaml:"name"`
	// CORS lets browser pages of other origins call the API; off unless it names allowed origins.
	CORS CORSConfig `yaml:"cors"`
}

// DefaultConfig returns the defaults: Zaqar's address and Client-ID rules.
func DefaultConfig() Config {
	return Config{
		Addr:              "127.0.0.1:8888",
		ClientIDMode:      ClientIDStrict,
		MinClientIDLength: 10,
		MaxClientIDLength: 36,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		ReadBufferSize:    8192,
		MaxBodySize:       65536,
		Name:              "zedge",
		Metrics:           true,
		CORS:              DefaultCORSConfig(),
	}
}

// Validate checks the configuration.
func (c Config) Validate() error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("http.addr %q: %w", c.Addr, err))
	}
	check(c.ClientIDMode == ClientIDStrict || c.ClientIDMode == ClientIDOff,
		"http.client_id_mode must be %q or %q, not %q", ClientIDStrict, ClientIDOff, c.ClientIDMode)
	check(c.MinClientIDLength >= 1 && c.MinClientIDLength <= c.MaxClientIDLength,
		"need 1 <= http.min_client_id_length <= http.max_client_id_length")
	check(c.ReadTimeout >= 0 && c.WriteTimeout >= 0 && c.IdleTimeout >= 0, "http timeouts must not be negative")
	check(c.MaxConnsPerIP >= 0, "http.max_conns_per_ip must not be negative")
	check(c.Concurrency >= 0, "http.concurrency must not be negative")
	check(c.ReadBufferSize >= 1024, "http.read_buffer_size must be at least 1024")
	check(c.MaxBodySize >= 1, "http.max_body_size must be positive")
	if err := c.CORS.Validate(); err != nil {
		if joined, ok := err.(interface{ Unwrap() []error }); ok {
			errs = append(errs, joined.Unwrap()...) // one problem per line
		} else {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
