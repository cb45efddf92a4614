package wsapi

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/zedge-io/zedge/broker"
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
			c.sendRaw(websocket.TextMessage, []byte(`{"action": "queue_get", "headers": {"Client-ID": "`+testClient+
				`", "X-Project-ID": "`+testProject+`"}, "body": {"queue_name": "raceq"}}`))
			if m := c.readJSON(); m["Message_Type"] != nil {
				t.Fatalf("a subscription %s while it was created still pushes: %v", tc.name, m)
			}
		})
	}
}
