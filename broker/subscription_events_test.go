package broker

import (
	"sync"
	"testing"
)

// subRecorder is an Observer and SubscriptionObserver that keeps what it is told.
type subRecorder struct {
	mu     sync.Mutex
	posts  []PostEvent
	events []SubscriptionEvent
}

func (r *subRecorder) MessagesPosted(ev PostEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.posts = append(r.posts, ev)
}

func (r *subRecorder) SubscriptionChanged(ev SubscriptionEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
}

func (r *subRecorder) kinds() []SubscriptionEventKind {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]SubscriptionEventKind, len(r.events))
	for i, ev := range r.events {
		out[i] = ev.Kind
	}
	return out
}

// postOnly observes posts only: it must not be offered subscription events (and must not break them).
type postOnly struct{ n int }

func (p *postOnly) MessagesPosted(PostEvent) { p.n++ }

func TestSubscriptionEvents(t *testing.T) {
	rec := &subRecorder{}
	e := newEnv(t, WithObserver(&postOnly{}), WithObserver(rec))
	ctx, s := e.ctx, e.svc

	sub, _, err := s.CreateSubscription(ctx, proj, "q", []byte(`{"subscriber": "http://h/x"}`))
	must(t, err)
	if _, _, err := s.CreateSubscription(ctx, proj, "q", []byte(`{"subscriber": "http://h/x"}`)); err != nil {
		t.Fatal(err)
	}
	must(t, s.UpdateSubscription(ctx, proj, "q", sub.ID, []byte(`{"ttl": 120}`)))
	if _, err := s.ConfirmSubscription(ctx, proj, "q", sub.ID, []byte(`{"confirmed": false}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ConfirmSubscription(ctx, proj, "q", sub.ID, []byte(`{"confirmed": true}`)); err != nil {
		t.Fatal(err)
	}
	// A confirmed duplicate is a conflict: no event.
	if _, _, err := s.CreateSubscription(ctx, proj, "q", []byte(`{"subscriber": "http://h/x"}`)); err == nil {
		t.Fatal("confirmed duplicate accepted")
	}
	// Failures tell nothing.
	if _, _, err := s.CreateSubscription(ctx, proj, "q", []byte(`{"subscriber": "ftp://h/x"}`)); err == nil {
		t.Fatal("ftp accepted")
	}
	if err := s.UpdateSubscription(ctx, proj, "q", "nope", []byte(`{"ttl": 120}`)); err == nil {
		t.Fatal("update of a missing subscription")
	}
	must(t, s.DeleteSubscription(ctx, proj, "q", sub.ID))
	must(t, s.PurgeQueue(ctx, proj, "q", []byte(`{"resource_types": ["messages"]}`)))
	must(t, s.PurgeQueue(ctx, proj, "q", nil))

	want := []SubscriptionEventKind{SubscriptionCreated, SubscriptionCreated, SubscriptionUpdated,
		SubscriptionUnconfirmed, SubscriptionConfirmed, SubscriptionDeleted, SubscriptionsPurged}
	got := rec.kinds()
	if len(got) != len(want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("events %v, want %v", got, want)
		}
	}
	ev := rec.events
	if ev[0].Existing || !ev[1].Existing || ev[0].Subscription.ID != sub.ID || ev[1].Subscription.ID != sub.ID ||
		ev[0].Project != proj || ev[0].Subscription.Subscriber != "http://h/x" {
		t.Errorf("created events: %+v", ev[:2])
	}
	if ev[2].Subscription.TTL.Seconds() != 120 || ev[4].Subscription.Confirmed != true || ev[3].Subscription.Confirmed {
		t.Errorf("update/confirm events: %+v", ev[2:5])
	}
	if ev[5].Subscription.ID != sub.ID || ev[5].Subscription.Queue != "q" || ev[6].Subscription.Queue != "q" {
		t.Errorf("delete/purge events: %+v", ev[5:])
	}
}

func TestTransportSubscriberScheme(t *testing.T) {
	plain := newEnv(t)
	_, _, err := plain.svc.CreateSubscription(plain.ctx, proj, "q", []byte(`{"subscriber": "websocket:abc"}`))
	wantErr(t, "no transport scheme", err, ErrInvalid, "The subscriber type of subscription must be supported in the "+
		"list ['http', 'https', 'mailto', 'trust+http', 'trust+https'].")
	if plain.svc.AcceptsSubscriberScheme("websocket") || !plain.svc.AcceptsSubscriberScheme("mailto") {
		t.Error("AcceptsSubscriberScheme without the option")
	}

	e := newEnv(t, WithTransportSubscriberScheme("websocket"))
	if !e.svc.AcceptsSubscriberScheme("websocket") {
		t.Error("AcceptsSubscriberScheme with the option")
	}
	sub, _, err := e.svc.CreateSubscription(e.ctx, proj, "q", []byte(`{"subscriber": "websocket:abc"}`))
	must(t, err)
	if sub.Subscriber != "websocket:abc" {
		t.Errorf("stored %q", sub.Subscriber)
	}
	// The error text still lists only the configured types.
	_, _, err = e.svc.CreateSubscription(e.ctx, proj, "q", []byte(`{"subscriber": "ftp://x"}`))
	wantErr(t, "ftp", err, ErrInvalid, "The subscriber type of subscription must be supported in the "+
		"list ['http', 'https', 'mailto', 'trust+http', 'trust+https'].")
}

func TestStoredQueue(t *testing.T) {
	e := newEnv(t)
	md, exists, err := e.svc.StoredQueue(e.ctx, proj, "q")
	must(t, err)
	if exists || len(md) != 0 {
		t.Errorf("missing queue: %v %v", md, exists)
	}
	_, err = e.svc.CreateQueue(e.ctx, proj, "q", []byte(`{"a": 1, "_default_message_ttl": 120}`))
	must(t, err)
	md, exists, err = e.svc.StoredQueue(e.ctx, proj, "q")
	must(t, err)
	if !exists || len(md) != 2 || string(md["a"]) != "1" || string(md["_default_message_ttl"]) != "120" {
		t.Errorf("stored: %v %v", md, exists)
	}
	if _, _, err := e.svc.StoredQueue(e.ctx, proj, "bad name"); err == nil {
		t.Error("bad name accepted")
	}
}
