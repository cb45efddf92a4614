package wsapi

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/zedge-io/zedge/broker"
	"github.com/zedge-io/zedge/signing"
)

// interleaver is an observer registered after the Server: told of a socket subscription's creation, it runs a
// change of that subscription at once, inside CreateSubscription, before subscription_create has returned to
// the socket's action. That is the interleaving of a REST client acting on a socket subscription the instant
// it is stored.
type interleaver struct {
	armed  atomic.Bool
	change func(ctx context.Context, ev broker.SubscriptionEvent) error
	err    atomic.Value
}

func (i *interleaver) MessagesPosted(broker.PostEvent) {}

func (i *interleaver) SubscriptionChanged(ev broker.SubscriptionEvent) {
	if ev.Kind != broker.SubscriptionCreated || !strings.HasPrefix(ev.Subscription.Subscriber, SubscriberScheme+":") ||
		!i.armed.CompareAndSwap(true, false) {
		return
	}
	if err := i.change(context.Background(), ev); err != nil {
		i.err.Store(err)
	}
}

// TestSocketSubscriptionChangedWhileCreated: a socket subscription deleted, purged or re-pointed elsewhere
// between its creation in the store and its registration for pushing stops pushing, as one changed later
// does (before the fix the change found nothing to remove and the socket was pushed every post until it
// closed).
func TestSocketSubscriptionChangedWhileCreated(t *testing.T) {
	var svc *broker.Service
	cases := []struct {
		name    string
		change  func(ctx context.Context, ev broker.SubscriptionEvent) error
		advance time.Duration // the clock moves on before the post
	}{
		{"deleted", func(ctx context.Context, ev broker.SubscriptionEvent) error {
			return svc.DeleteSubscription(ctx, ev.Project, ev.Subscription.Queue, ev.Subscription.ID)
		}, 0},
		{"purged", func(ctx context.Context, ev broker.SubscriptionEvent) error {
			return svc.PurgeQueue(ctx, ev.Project, ev.Subscription.Queue, []byte(`{"resource_types": ["subscriptions"]}`))
		}, 0},
		{"re-pointed", func(ctx context.Context, ev broker.SubscriptionEvent) error {
			return svc.UpdateSubscription(ctx, ev.Project, ev.Subscription.Queue, ev.Subscription.ID,
				[]byte(`{"subscriber": "http://127.0.0.1:9/hook"}`))
		}, 0},
		{"given a shorter ttl", func(ctx context.Context, ev broker.SubscriptionEvent) error {
			return svc.UpdateSubscription(ctx, ev.Project, ev.Subscription.Queue, ev.Subscription.ID, []byte(`{"ttl": 60}`))
		}, 2 * time.Minute},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			svc = e.svc
			il := &interleaver{change: tc.change}
			e.svc.AddObserver(il)
			c := e.dial()
			il.armed.Store(true)
			c.mustDo(201, "subscription_create", map[string]any{"queue_name": "raceq", "ttl": 3600})
			if il.armed.Load() {
				t.Fatal("the interleaved change did not run")
			}
			if err, _ := il.err.Load().(error); err != nil {
				t.Fatalf("interleaved change: %v", err)
			}
			e.clock.Advance(tc.advance)
			e.post(t, "raceq", `1`)
			// A push would be queued before this answer: the post returned before the request was sent.
			if m := c.nextAfter(`{"action": "queue_get", "headers": {"Client-ID": "` + testClient +
				`", "X-Project-ID": "` + testProject + `"}, "body": {"queue_name": "raceq"}}`); m["Message_Type"] != nil {
				t.Fatalf("a subscription %s while it was created still pushes: %v", tc.name, m)
			}
		})
	}
}

// nextAfter sends a request frame and returns the next frame: its answer, or a push queued before it.
func (c *client) nextAfter(frame string) map[string]any {
	c.t.Helper()
	c.sendRaw(websocket.TextMessage, []byte(frame))
	return c.readJSON()
}

// lockedRevoked is a revocation list safe to change while sockets consult it.
type lockedRevoked struct {
	mu   sync.Mutex
	jtis []string
}

func (r *lockedRevoked) SignatureRevoked(string) bool { return false }

func (r *lockedRevoked) TokenRevoked(jti, _ string, _ time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Contains(r.jtis, jti)
}

func (r *lockedRevoked) revoke(jti string) {
	r.mu.Lock()
	r.jtis = append(r.jtis, jti)
	r.mu.Unlock()
}

// TestRevokedTokenStopsPushes: a socket subscribed with a token that is then revoked gets no more pushes,
// whether it sends a request or only listens, and its socket subscriptions end once the revocation is seen
// (before the fix they pushed until the socket closed, and seeing the revocation also cancelled the 4003
// close at the token's expiry, so they pushed past it).
func TestRevokedTokenStopsPushes(t *testing.T) {
	f := newAuthFixture(t)
	rev := &lockedRevoked{}
	auth := f.auth
	auth.Revoked = rev
	e := newEnv(t, envOption{opts: []Option{WithAuth(auth)}})
	claims := mustClaims(t, f, e.clock.Now())
	tok, err := signing.IssueToken(f.signer, claims)
	if err != nil {
		t.Fatal(err)
	}
	c := e.dial()
	c.mustDo(200, "authenticate", nil, "X-Auth-Token", tok)
	b := c.mustDo(201, "subscription_create", map[string]any{"queue_name": "revq", "ttl": 3600})
	sid := b.(map[string]any)["subscription_id"].(string)
	e.post(t, "revq", `1`)
	if _, data := c.read(); !strings.Contains(string(data), `"Message_Type": "Notification"`) {
		t.Fatalf("push before the revocation: %s", data)
	}

	rev.revoke(claims.ID)
	// A listening socket: the post comes before its next request, whose answer must be the next frame.
	e.post(t, "revq", `2`)
	resp := c.nextAfter(`{"action": "queue_list", "headers": {"Client-ID": "` + testClient + `", "X-Project-ID": "` +
		testProject + `"}}`)
	if resp["Message_Type"] != nil {
		t.Fatalf("a socket with a revoked token was pushed: %v", resp)
	}
	if st, body := status(t, resp), resp["body"]; st != 403 || errorText(t, body) != "Not authentified." {
		t.Fatalf("request with a revoked token: %d %v", st, body)
	}
	// The request saw the revocation: the socket's subscriptions are gone, from the store too.
	if _, err := e.svc.GetSubscription(t.Context(), testProject, "revq", sid); !errors.Is(err, broker.ErrNotFound) {
		t.Fatalf("the socket subscription of a revoked token is still stored: %v", err)
	}
	// With a new token, the socket acts again, without the old subscription's pushes.
	c.mustDo(200, "authenticate", nil, "X-Auth-Token", f.token(t, e.clock.Now(), testProject, time.Hour))
	e.post(t, "revq", `3`)
	if resp := c.nextAfter(`{"action": "queue_list", "headers": {"Client-ID": "` + testClient + `", "X-Project-ID": "` +
		testProject + `"}}`); resp["Message_Type"] != nil {
		t.Fatalf("the subscription made with a revoked token pushed: %v", resp)
	}
}
