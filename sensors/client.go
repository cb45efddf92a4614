package sensors

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client errors.
var (
	// ErrRejected: the server answered with a status that a retry cannot change (a 4xx other than 408 and
	// 429). Nothing was stored.
	ErrRejected = errors.New("sensors: post rejected")
	// ErrGaveUp: every attempt failed with a retryable error (connection, timeout, 408, 429, 5xx); the last
	// cause is wrapped too. The readings may or may not be stored.
	ErrGaveUp = errors.New("sensors: post failed after retries")
	// ErrConfig: the Config is unusable.
	ErrConfig = errors.New("sensors: bad config")
)

// Config configures a Client.
type Config struct {
	// URL is the queue's messages resource, .../v2/queues/{q}/messages: in zedge's query form it carries the
	// signature, expires, methods, paths and project parameters; in Zaqar's header form it is plain and the
	// credentials are in Headers.
	URL string `yaml:"url"`
	// Headers are sent with every post: URL-Signature, URL-Expires, URL-Methods, URL-Paths and X-Project-ID
	// for the header form, or nothing.
	Headers http.Header `yaml:"-"`
	// ClientID is the Client-ID header (a UUID). Empty: a random one per Client.
	ClientID string `yaml:"client_id"`
	// TTL of the posted messages in seconds; 0 leaves it to the queue's default.
	TTL int `yaml:"ttl"`
	// MaxAttempts bounds the tries of one Post (at least 1).
	MaxAttempts int `yaml:"max_attempts"`
	// InitialBackoff is the wait before the first retry; it doubles up to MaxBackoff, with full jitter.
	InitialBackoff time.Duration `yaml:"initial_backoff"`
	// MaxBackoff caps the wait between retries.
	MaxBackoff time.Duration `yaml:"max_backoff"`
	// AttemptTimeout bounds one HTTP exchange.
	AttemptTimeout time.Duration `yaml:"attempt_timeout"`
	// MaxBatch is the most readings one Post sends (Zaqar bounds a post by bytes, 256 KiB by default; a
	// reading is under 200 bytes).
	MaxBatch int `yaml:"max_batch"`
}

// DefaultConfig returns a Config with the retry settings filled in; URL must still be set.
func DefaultConfig() Config {
	return Config{MaxAttempts: 8, InitialBackoff: 100 * time.Millisecond, MaxBackoff: 5 * time.Second,
		AttemptTimeout: 10 * time.Second, MaxBatch: 100}
}

// Validate reports what is wrong with c.
func (c Config) Validate() error {
	u, err := url.Parse(c.URL)
	switch {
	case c.URL == "":
		return fmt.Errorf("%w: url is empty", ErrConfig)
	case err != nil:
		return fmt.Errorf("%w: url: %v", ErrConfig, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("%w: url scheme %q is not http or https", ErrConfig, u.Scheme)
	case !strings.HasSuffix(u.Path, "/messages"):
		return fmt.Errorf("%w: url path %q is not a queue's messages resource", ErrConfig, u.Path)
	case c.TTL < 0:
		return fmt.Errorf("%w: ttl %d is negative", ErrConfig, c.TTL)
	case c.MaxAttempts < 1:
		return fmt.Errorf("%w: max_attempts %d is below 1", ErrConfig, c.MaxAttempts)
	case c.InitialBackoff <= 0 || c.MaxBackoff < c.InitialBackoff:
		return fmt.Errorf("%w: backoff %s..%s", ErrConfig, c.InitialBackoff, c.MaxBackoff)
	case c.AttemptTimeout <= 0:
		return fmt.Errorf("%w: attempt_timeout %s", ErrConfig, c.AttemptTimeout)
	case c.MaxBatch < 1:
		return fmt.Errorf("%w: max_batch %d is below 1", ErrConfig, c.MaxBatch)
	}
	return nil
}

// Client posts readings to one queue through a signed URL. It is safe for concurrent use.
type Client struct {
	cfg  Config
	http *http.Client
	log  *slog.Logger
	// now is the sensor's clock, used to validate readings before they are sent.
	now func() time.Time
}

// Option adjusts a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (its connection pool is shared by whoever shares it).
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithLogger sets the logger for retries and refusals (debug level); the default discards.
func WithLogger(l *slog.Logger) Option { return func(c *Client) { c.log = l } }

// WithClock sets the clock readings are validated against (a sensor's skewed clock, say).
func WithClock(now func() time.Time) Option { return func(c *Client) { c.now = now } }

// NewClient checks cfg and returns a Client.
func NewClient(cfg Config, opts ...Option) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.ClientID == "" {
		cfg.ClientID = randomUUID()
	}
	c := &Client{cfg: cfg, http: http.DefaultClient, log: slog.New(slog.DiscardHandler), now: time.Now}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// Result tells how a successful Post went.
type Result struct {
	// IDs are the message ids the queue gave the readings, in order.
	IDs []string
	// Attempts is the number of HTTP exchanges it took (1 when the first succeeded).
	Attempts int
}

// Post validates the readings and posts them in one request, retrying as the package comment says. On
// error nothing is known to be stored (ErrRejected: nothing is; ErrGaveUp: maybe), and the caller keeps the
// readings. Invalid readings are refused before anything is sent, with the error of Validate.
func (c *Client) Post(ctx context.Context, readings ...Reading) (Result, error) {
	if len(readings) == 0 {
		return Result{}, fmt.Errorf("%w: no readings", ErrInvalid)
	}
	if len(readings) > c.cfg.MaxBatch {
		return Result{}, fmt.Errorf("%w: %d readings exceed max_batch %d", ErrInvalid, len(readings), c.cfg.MaxBatch)
	}
	now := c.now()
	body := append(make([]byte, 0, 64+200*len(readings)), `{"messages":[`...)
	for i, r := range readings {
		if err := r.Validate(now); err != nil {
			return Result{}, fmt.Errorf("reading %d (%s): %w", i, r.Sensor, err)
		}
		if i > 0 {
			body = append(body, ',')
		}
		body = append(body, `{"body":`...)
		var err error
		if body, err = r.AppendJSON(body); err != nil {
			return Result{}, err
		}
		if c.cfg.TTL > 0 {
			body = append(body, `,"ttl":`...)
			body = fmt.Appendf(body, "%d", c.cfg.TTL)
		}
		body = append(body, '}')
	}
	body = append(body, "]}"...)

	var last error
	backoff := c.cfg.InitialBackoff
	for attempt := 1; ; attempt++ {
		ids, retry, err := c.once(ctx, body)
		if err == nil {
			if len(ids) != len(readings) {
				// A 201 stored them all; a short resource list is the server's fault, not a reason to resend.
				c.log.Warn("sensor post: resource list does not match the readings", "want", len(readings), "got", len(ids))
			}
			return Result{IDs: ids, Attempts: attempt}, nil
		}
		if !retry {
			return Result{Attempts: attempt}, err
		}
		last = err
		if attempt >= c.cfg.MaxAttempts {
			break
		}
		wait := time.Duration(mrand.Int64N(int64(backoff) + 1))
		c.log.Debug("sensor post failed; retrying", "attempt", attempt, "wait", wait, "error", err)
		select {
		case <-ctx.Done():
			return Result{Attempts: attempt}, fmt.Errorf("%w: %w (last: %v)", ErrGaveUp, ctx.Err(), last)
		case <-time.After(wait):
		}
		backoff = min(2*backoff, c.cfg.MaxBackoff)
	}
	return Result{Attempts: c.cfg.MaxAttempts}, fmt.Errorf("%w: %d attempts: %w", ErrGaveUp, c.cfg.MaxAttempts, last)
}

// once makes one exchange; retry reports whether a failure is worth another try.
func (c *Client) once(ctx context.Context, body []byte) (ids []string, retry bool, err error) {
	if ctx.Err() != nil {
		return nil, false, fmt.Errorf("%w: %w", ErrGaveUp, ctx.Err())
	}
	actx, cancel := context.WithTimeout(ctx, c.cfg.AttemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, c.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return nil, false, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	for k, vs := range c.cfg.Headers {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.Header.Set("Client-ID", c.cfg.ClientID)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		// The parent context ending is the caller's decision, not the network's: stop.
		if ctx.Err() != nil {
			return nil, false, fmt.Errorf("%w: %w", ErrGaveUp, ctx.Err())
		}
		return nil, true, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	switch {
	case resp.StatusCode == http.StatusCreated:
		if err != nil {
			// Stored, but the answer was cut: resending would duplicate, so report success without ids.
			return nil, false, nil
		}
		return resourceIDs(raw), false, nil
	case resp.StatusCode == http.StatusRequestTimeout, resp.StatusCode == http.StatusTooManyRequests,
		resp.StatusCode >= 500:
		return nil, true, fmt.Errorf("status %d: %s", resp.StatusCode, bytes.TrimSpace(raw))
	default:
		return nil, false, fmt.Errorf("%w: status %d: %s", ErrRejected, resp.StatusCode, bytes.TrimSpace(raw))
	}
}

// resourceIDs takes the message ids from a post's {"resources": [".../messages/<id>", ...]}.
func resourceIDs(raw []byte) []string {
	var out struct {
		Resources []string `json:"resources"`
	}
	if json.Unmarshal(raw, &out) != nil {
		return nil
	}
	ids := make([]string, len(out.Resources))
	for i, r := range out.Resources {
		ids[i] = r[strings.LastIndexByte(r, '/')+1:]
	}
	return ids
}

func randomUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// SignedHeaders is Zaqar's header form of a signed URL's credentials, for Config.Headers with a plain URL:
// the values exactly as the share call returned them (methods and paths comma-joined, no spaces) and the
// project the URL was signed for.
func SignedHeaders(signature, expires, methods, paths, project string) http.Header {
	h := http.Header{}
	h.Set("URL-Signature", signature)
	h.Set("URL-Expires", expires)
	h.Set("URL-Methods", methods)
	h.Set("URL-Paths", paths)
	h.Set("X-Project-ID", project)
	return h
}
