package sensors

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func fastConfig(url string) Config {
	c := DefaultConfig()
	c.URL = url
	c.InitialBackoff, c.MaxBackoff = time.Millisecond, 5*time.Millisecond
	c.MaxAttempts = 4
	c.TTL = 300
	return c
}

func reading(i int) Reading {
	return New("b1-f1-o3-temp", Temperature, 20+float64(i)/10, "b1", "b1-f1-o3", time.Now().Add(time.Duration(i)*time.Millisecond))
}

// postedBody is what the fake server saw.
type postedBody struct {
	Messages []struct {
		Body json.RawMessage `json:"body"`
		TTL  int             `json:"ttl"`
	} `json:"messages"`
}

func TestPostSendsTheSignedRequestAndReturnsIDs(t *testing.T) {
	var got *http.Request
	var body postedBody
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		raw, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(raw, &body); err != nil {
			t.Errorf("body %s: %v", raw, err)
		}
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"resources": ["/v2/queues/readings-b1/messages/0000000000000007", "/v2/queues/readings-b1/messages/0000000000000008"]}`))
	}))
	defer srv.Close()
	cfg := fastConfig(srv.URL + "/v2/queues/readings-b1/messages?signature=abc&expires=2099-01-01T00%3A00%3A00&methods=POST&paths=%2Fv2%2Fqueues%2Freadings-b1%2Fmessages&project=campus")
	cfg.Headers = http.Header{"X-Extra": {"1"}}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Post(context.Background(), reading(0), reading(1))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.IDs) != 2 || res.IDs[0] != "0000000000000007" || res.IDs[1] != "0000000000000008" || res.Attempts != 1 {
		t.Errorf("result %+v", res)
	}
	if got.Method != http.MethodPost || got.URL.Query().Get("signature") != "abc" || got.URL.Query().Get("project") != "campus" ||
		got.Header.Get("Client-ID") == "" || got.Header.Get("X-Extra") != "1" || got.Header.Get("Content-Type") != "application/json" {
		t.Errorf("request %s %s %v", got.Method, got.URL, got.Header)
	}
	if len(body.Messages) != 2 || body.Messages[0].TTL != 300 {
		t.Fatalf("posted %+v", body)
	}
	r, err := Decode(body.Messages[1].Body)
	if err != nil || r.ID() != reading(1).ID() && r.Value != 20.1 {
		t.Errorf("second body %s: %v", body.Messages[1].Body, err)
	}
}

func TestPostRetriesServerErrorsAndConnectionFailures(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) {
		case 1:
			w.WriteHeader(http.StatusServiceUnavailable)
		case 2:
			w.WriteHeader(http.StatusTooManyRequests)
		case 3:
			// Drop the connection without an answer.
			hj, _ := w.(http.Hijacker)
			conn, _, _ := hj.Hijack()
			conn.Close()
		default:
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write([]byte(`{"resources": ["/v2/queues/q/messages/1"]}`))
		}
	}))
	defer srv.Close()
	c, err := NewClient(fastConfig(srv.URL + "/v2/queues/q/messages"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Post(context.Background(), reading(0))
	if err != nil {
		t.Fatal(err)
	}
	if res.Attempts != 4 || calls.Load() != 4 || len(res.IDs) != 1 {
		t.Errorf("result %+v after %d calls", res, calls.Load())
	}
}

func TestPostGivesUpLoudly(t *testing.T) {
	// A port nobody listens on: every attempt is a connection error.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c, err := NewClient(fastConfig("http://" + addr + "/v2/queues/q/messages"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Post(context.Background(), reading(0))
	if !errors.Is(err, ErrGaveUp) || res.Attempts != 4 {
		t.Errorf("err = %v after %d attempts, want ErrGaveUp after 4", err, res.Attempts)
	}
}

func TestPostDoesNotRetryRefusals(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"title": "404 Not Found"}`))
	}))
	defer srv.Close()
	c, err := NewClient(fastConfig(srv.URL + "/v2/queues/q/messages"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Post(context.Background(), reading(0))
	if !errors.Is(err, ErrRejected) || calls.Load() != 1 {
		t.Errorf("err = %v after %d calls, want ErrRejected after 1", err, calls.Load())
	}
}

func TestPostRefusesInvalidReadingsBeforeSending(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls.Add(1) }))
	defer srv.Close()
	c, err := NewClient(fastConfig(srv.URL + "/v2/queues/q/messages"))
	if err != nil {
		t.Fatal(err)
	}
	bad := reading(0)
	bad.Unit = Percent
	if _, err := c.Post(context.Background(), reading(1), bad); !errors.Is(err, ErrWrongUnit) {
		t.Errorf("err = %v, want ErrWrongUnit", err)
	}
	if _, err := c.Post(context.Background()); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty post: %v", err)
	}
	if calls.Load() != 0 {
		t.Errorf("%d requests sent for invalid input", calls.Load())
	}
}

func TestPostStopsWhenTheContextEnds(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer srv.Close()
	cfg := fastConfig(srv.URL + "/v2/queues/q/messages")
	cfg.MaxAttempts = 1000
	cfg.InitialBackoff, cfg.MaxBackoff = 50*time.Millisecond, 50*time.Millisecond
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(100 * time.Millisecond); cancel() }()
	_, err = c.Post(ctx, reading(0))
	if !errors.Is(err, ErrGaveUp) || !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want ErrGaveUp and context.Canceled", err)
	}
}

func TestConfigValidate(t *testing.T) {
	for name, f := range map[string]func(*Config){
		"empty url":      func(c *Config) { c.URL = "" },
		"ftp":            func(c *Config) { c.URL = "ftp://x/v2/queues/q/messages" },
		"not messages":   func(c *Config) { c.URL = "http://x/v2/queues/q/stats" },
		"negative ttl":   func(c *Config) { c.TTL = -1 },
		"no attempts":    func(c *Config) { c.MaxAttempts = 0 },
		"backoff order":  func(c *Config) { c.MaxBackoff = c.InitialBackoff / 2 },
		"attempt time":   func(c *Config) { c.AttemptTimeout = 0 },
		"no batch":       func(c *Config) { c.MaxBatch = 0 },
		"zero backoff":   func(c *Config) { c.InitialBackoff = 0 },
		"bad url syntax": func(c *Config) { c.URL = "http://[::1/v2/queues/q/messages" },
	} {
		c := DefaultConfig()
		c.URL = "http://127.0.0.1:8888/v2/queues/q/messages"
		if err := c.Validate(); err != nil {
			t.Fatalf("base config: %v", err)
		}
		f(&c)
		if err := c.Validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: err = %v, want ErrConfig", name, err)
		}
	}
}

func TestSignedHeaders(t *testing.T) {
	h := SignedHeaders("abc", "2099-01-01T00:00:00", "GET,POST", "/v2/queues/q/messages", "campus")
	if h.Get("URL-Signature") != "abc" || h.Get("URL-Expires") != "2099-01-01T00:00:00" || h.Get("URL-Methods") != "GET,POST" ||
		h.Get("URL-Paths") != "/v2/queues/q/messages" || h.Get("X-Project-ID") != "campus" {
		t.Errorf("%v", h)
	}
}
