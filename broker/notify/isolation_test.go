package notify

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// hangingHooks is one webhook server for several subscribers (by path): requests to the hanging path wait
// until release, the others are recorded.
type hangingHooks struct {
	srv     *httptest.Server
	mu      sync.Mutex
	hanging string
	got     map[string]int
	release chan struct{}
	once    sync.Once
}

// unblock lets the hanging requests return.
func (h *hangingHooks) unblock() { h.once.Do(func() { close(h.release) }) }

func newHangingHooks(t *testing.T) *hangingHooks {
	h := &hangingHooks{got: map[string]int{}, release: make(chan struct{})}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		h.mu.Lock()
		hang := req.URL.Path == h.hanging
		h.mu.Unlock()
		if hang {
			select {
			case <-h.release:
			case <-req.Context().Done():
			}
			return
		}
		h.mu.Lock()
		h.got[req.URL.Path]++
		h.mu.Unlock()
	}))
	t.Cleanup(h.srv.Close)
	t.Cleanup(h.unblock)
	return h
}

func (h *hangingHooks) count(path string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.got[path]
}

// TestHangingWebhookDoesNotDelayOthers: a subscriber that never answers does not hold back the other
// subscribers of the same post while workers are free (before the fix one worker delivered a post to its
// subscribers one after the other, so a subscriber listed after a hanging one waited for every attempt of
// the hanging one: (1 + retries_with_no_delay) × http_timeout per message).
func TestHangingWebhookDoesNotDelayOthers(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Workers = 4
	cfg.HTTPTimeout = time.Hour // the hanging subscriber is never cut by its timeout during the test
	e := newEnv(t, cfg)
	h := newHangingHooks(t) // its cleanups run before the Notifier's Close
	for _, p := range []string{"/a", "/b", "/c"} {
		e.subscribe("q", `{"subscriber": "`+h.srv.URL+p+`"}`)
	}
	subs, err := e.svc.ListSubscriptions(context.Background(), project, "q", "", 10)
	if err != nil || len(subs) != 3 {
		t.Fatalf("subscriptions %v %v", subs, err)
	}
	// The first listed subscriber hangs: the others come after it in the fan-out.
	h.mu.Lock()
	h.hanging = subs[0].Subscriber[len(h.srv.URL):]
	h.mu.Unlock()
	e.post("q", `{"messages": [{"body": 1}, {"body": 2}]}`)
	for _, s := range subs[1:] {
		path := s.Subscriber[len(h.srv.URL):]
		waitFor(t, "delivery to "+path+" beside a hanging subscriber", func() bool { return h.count(path) == 2 })
	}
}

// TestHangingWebhookHoldsFewWorkers: deliveries to a subscriber that never answers take at most a quarter of
// the workers (at least one); the others keep delivering to the rest (before the fix every worker ended up
// waiting on the hanging subscriber, one post each, and the other subscribers' notifications waited behind
// them until the queue filled and posts were dropped).
func TestHangingWebhookHoldsFewWorkers(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Workers = 2 // one of them for the hanging subscriber
	cfg.HTTPTimeout = time.Hour
	e := newEnv(t, cfg)
	h := newHangingHooks(t)
	h.mu.Lock()
	h.hanging = "/hang"
	h.mu.Unlock()
	e.subscribe("q", `{"subscriber": "`+h.srv.URL+`/hang"}`)
	e.subscribe("q", `{"subscriber": "`+h.srv.URL+`/ok"}`)
	const posts = 6
	for range posts {
		e.post("q", `{"messages": [{"body": 1}]}`)
	}
	waitFor(t, "every post delivered beside a hanging subscriber", func() bool { return h.count("/ok") == posts })
}
