package notify

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/zedge-io/zedge/signing"
)

// SMTP TLS modes.
const (
	TLSNone          = "none"          // plain SMTP
	TLSOpportunistic = "opportunistic" // STARTTLS when the server offers it
	TLSStartTLS      = "starttls"      // STARTTLS required
	TLSImplicit      = "tls"           // SMTP over TLS from the first byte (port 465)
)

// Config configures notification delivery. The application embeds it as `notify:`.
type Config struct {
	// Workers deliver notifications concurrently (Zaqar's max_notifier_workers).
	Workers int `yaml:"workers"`
	// QueueSize bounds the deliveries waiting for a worker. A post whose notifications do not fit is not
	// slowed down: they are dropped, counted and logged.
	QueueSize int `yaml:"queue_size"`
	// HTTPTimeout bounds one webhook POST (Zaqar has none); a timeout is retried like a network error.
	HTTPTimeout time.Duration `yaml:"http_timeout"`
	// MaxPendingRetries bounds the deliveries waiting for a delayed retry; past it a failed delivery is
	// given up at once (counted and logged).
	MaxPendingRetries int `yaml:"max_pending_retries"`
	// RequireConfirmation: a new subscription is sent a confirmation notification with a signed confirm URL
	// and gets nothing else until it is confirmed (Zaqar's [notification] require_confirmation).
	RequireConfirmation bool `yaml:"require_confirmation"`
	// ConfirmationURL is the page a confirmation email links to, with the signed URL's parts as query
	// parameters (Zaqar's external_confirmation_url); empty: the email carries the JSON confirmation.
	ConfirmationURL string `yaml:"external_confirmation_url"`
	// SMTP sends the mailto: notifications.
	SMTP SMTPConfig `yaml:"smtp"`
}

// SMTPConfig is the mail server of mailto: subscribers.
type SMTPConfig struct {
	// Host of the SMTP server; empty: mailto: notifications are not sent (counted as undeliverable).
	Host string `yaml:"host"`
	// Port of the SMTP server.
	Port int `yaml:"port"`
	// Username and Password log in (PLAIN, or the best the server offers); no username: no login.
	Username string         `yaml:"username"`
	Password signing.Secret `yaml:"password"`
	// TLS is none, opportunistic, starttls or tls.
	TLS string `yaml:"tls"`
	// From is the sender of notifications whose subscription sets no options.from.
	From string `yaml:"from"`
	// Timeout bounds one SMTP session.
	Timeout time.Duration `yaml:"timeout"`
}

// DefaultConfig returns Zaqar's defaults (10 workers, no confirmation) with zedge's bounds.
func DefaultConfig() Config {
	return Config{
		Workers:           10,
		QueueSize:         4096,
		HTTPTimeout:       10 * time.Second,
		MaxPendingRetries: 10000,
		SMTP: SMTPConfig{Port: 25, TLS: TLSOpportunistic, From: "zedge notifications <no-reply@localhost>",
			Timeout: 30 * time.Second},
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
	check(c.Workers >= 1 && c.Workers <= 1024, "notify.workers must be within [1, 1024]")
	check(c.QueueSize >= 1, "notify.queue_size must be at least 1")
	check(c.HTTPTimeout > 0, "notify.http_timeout must be positive")
	check(c.MaxPendingRetries >= 0, "notify.max_pending_retries must not be negative")
	if c.ConfirmationURL != "" {
		u, err := url.Parse(c.ConfirmationURL)
		check(err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "",
			"notify.external_confirmation_url must be an http(s) URL")
	}
	check(c.SMTP.Port >= 1 && c.SMTP.Port <= 65535, "notify.smtp.port must be within [1, 65535]")
	switch c.SMTP.TLS {
	case TLSNone, TLSOpportunistic, TLSStartTLS, TLSImplicit:
	default:
		errs = append(errs, fmt.Errorf("notify.smtp.tls must be %s, %s, %s or %s, not %q", TLSNone, TLSOpportunistic,
			TLSStartTLS, TLSImplicit, c.SMTP.TLS))
	}
	check(c.SMTP.Timeout > 0, "notify.smtp.timeout must be positive")
	check(c.SMTP.Password == "" || c.SMTP.Username != "", "notify.smtp.password needs a username")
	return errors.Join(errs...)
}
