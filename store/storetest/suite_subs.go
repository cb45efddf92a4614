package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/zedge-io/zedge/store"
)

func newSub(queue, subscriber string, ttl time.Duration) store.Subscription {
	return store.Subscription{Queue: queue, Subscriber: subscriber, TTL: ttl, Options: []byte(`{"k":"v"}`)}
}

func testSubscriptionCRUD(t *testing.T, s store.Store) {
	c := newClock()
	in := newSub("q", "http://127.0.0.1:8899/hook", time.Hour)
	in.ID = "ignored"
	got, err := s.CreateSubscription(ctx, proj, in, c.now)
	must(t, err)
	if got.ID == "" || got.ID == "ignored" {
		t.Fatalf("subscription id %q was not set by the store", got.ID)
	}
	eq(t, "queue", got.Queue, "q")
	eq(t, "subscriber", got.Subscriber, in.Subscriber)
	eq(t, "ttl", got.TTL, time.Hour)
	eqJSON(t, "options", got.Options, `{"k":"v"}`)
	eq(t, "confirmed", got.Confirmed, false)
	eqTime(t, "created", got.Created, c.now)
	eqTime(t, "expires", got.Expires, c.now.Add(time.Hour))
	// The queue is created with empty metadata.
	q, err := s.GetQueue(ctx, proj, "q")
	must(t, err)
	eqJSON(t, "auto-created queue", q.Metadata, `{}`)

	read, err := s.GetSubscription(ctx, proj, "q", got.ID, c.now)
	must(t, err)
	if fmt.Sprint(read) != fmt.Sprint(got) {
		t.Fatalf("GetSubscription = %+v, want %+v", read, got)
	}
	_, err = s.GetSubscription(ctx, proj, "q", "nope", c.now)
	wantErr(t, err, store.ErrNotFound)
	_, err = s.GetSubscription(ctx, proj, "other-queue", got.ID, c.now)
	wantErr(t, err, store.ErrNotFound)

	// Update: only the given fields; a new ttl restarts from now.
	c.advance(time.Minute)
	sub2 := "mailto:ops@example.com"
	ttl := 2 * time.Hour
	confirmed := true
	upd, err := s.UpdateSubscription(ctx, proj, "q", got.ID, store.SubscriptionUpdate{Subscriber: &sub2, TTL: &ttl, Confirmed: &confirmed}, c.now)
	must(t, err)
	eq(t, "updated subscriber", upd.Subscriber, sub2)
	eq(t, "updated ttl", upd.TTL, 2*time.Hour)
	eqTime(t, "updated expires", upd.Expires, c.now.Add(2*time.Hour))
	eqTime(t, "created kept", upd.Created, c.now.Add(-time.Minute))
	eqJSON(t, "options kept", upd.Options, `{"k":"v"}`)
	eq(t, "updated confirmed", upd.Confirmed, true)
	upd, err = s.UpdateSubscription(ctx, proj, "q", got.ID, store.SubscriptionUpdate{Options: []byte(`[]`), Subscriber: &sub2}, c.now)
	must(t, err)
	eqJSON(t, "options replaced", upd.Options, `[]`)
	eq(t, "own subscriber is no conflict", upd.Subscriber, sub2)
	read, err = s.GetSubscription(ctx, proj, "q", got.ID, c.now)
	must(t, err)
	eqJSON(t, "stored options", read.Options, `[]`)
	eqTime(t, "stored expires", read.Expires, c.now.Add(2*time.Hour))

	_, err = s.UpdateSubscription(ctx, proj, "q", "nope", store.SubscriptionUpdate{TTL: &ttl}, c.now)
	wantErr(t, err, store.ErrNotFound)

	// Taking another subscription's subscriber conflicts.
	second, err := s.CreateSubscription(ctx, proj, newSub("q", "http://127.0.0.1:1/two", time.Hour), c.now)
	must(t, err)
	_, err = s.UpdateSubscription(ctx, proj, "q", second.ID, store.SubscriptionUpdate{Subscriber: &sub2}, c.now)
	wantErr(t, err, store.ErrConflict)
	read, err = s.GetSubscription(ctx, proj, "q", second.ID, c.now)
	must(t, err)
	eq(t, "unchanged after conflict", read.Subscriber, "http://127.0.0.1:1/two")

	must(t, s.DeleteSubscription(ctx, proj, "q", got.ID))
	_, err = s.GetSubscription(ctx, proj, "q", got.ID, c.now)
	wantErr(t, err, store.ErrNotFound)
	must(t, s.DeleteSubscription(ctx, proj, "q", got.ID))
	must(t, s.DeleteSubscription(ctx, proj, "missing", "x"))
}

func testSubscriptionDuplicate(t *testing.T, s store.Store) {
	c := newClock()
	first, err := s.CreateSubscription(ctx, proj, newSub("q", "http://h/1", time.Hour), c.now)
	must(t, err)
	dup := newSub("q", "http://h/1", 2*time.Hour)
	dup.Options = []byte(`{"other":true}`)
	got, err := s.CreateSubscription(ctx, proj, dup, c.advance(time.Second))
	wantErr(t, err, store.ErrConflict)
	eq(t, "existing returned", got.ID, first.ID)
	eq(t, "existing ttl kept", got.TTL, time.Hour)
	eqJSON(t, "existing options kept", got.Options, `{"k":"v"}`)
	// The same subscriber on another queue or project is fine.
	_, err = s.CreateSubscription(ctx, proj, newSub("q2", "http://h/1", time.Hour), c.now)
	must(t, err)
	_, err = s.CreateSubscription(ctx, other, newSub("q", "http://h/1", time.Hour), c.now)
	must(t, err)
	list, err := s.ListSubscriptions(ctx, proj, "q", "", 10, c.now)
	must(t, err)
	eq(t, "subscriptions after the duplicate", len(list), 1)
}

func testSubscriptionExpiry(t *testing.T, s store.Store) {
	c := newClock()
	sub, err := s.CreateSubscription(ctx, proj, newSub("q", "http://h/1", time.Minute), c.now)
	must(t, err)
	c.advance(59 * time.Second)
	_, err = s.GetSubscription(ctx, proj, "q", sub.ID, c.now)
	must(t, err)
	c.advance(time.Second)
	_, err = s.GetSubscription(ctx, proj, "q", sub.ID, c.now)
	wantErr(t, err, store.ErrNotFound)
	list, err := s.ListSubscriptions(ctx, proj, "q", "", 10, c.now)
	must(t, err)
	eq(t, "expired not listed", len(list), 0)
	ttl := time.Hour
	_, err = s.UpdateSubscription(ctx, proj, "q", sub.ID, store.SubscriptionUpdate{TTL: &ttl}, c.now)
	wantErr(t, err, store.ErrNotFound)
	// An expired subscription no longer blocks its subscriber.
	again, err := s.CreateSubscription(ctx, proj, newSub("q", "http://h/1", time.Minute), c.now)
	must(t, err)
	if again.ID == sub.ID {
		t.Fatal("expired subscription came back")
	}
}

func testSubscriptionList(t *testing.T, s store.Store) {
	c := newClock()
	var want []string
	for i := range 7 {
		sub, err := s.CreateSubscription(ctx, proj, newSub("q", fmt.Sprintf("http://h/%d", i), time.Hour), c.now)
		must(t, err)
		want = append(want, sub.ID)
		c.advance(time.Millisecond)
	}
	short, err := s.CreateSubscription(ctx, proj, newSub("q", "http://h/short", time.Minute), c.now)
	must(t, err)
	all, err := s.ListSubscriptions(ctx, proj, "q", "", 100, c.now)
	must(t, err)
	gotIDs := func(subs []store.Subscription) []string {
		out := make([]string, len(subs))
		for i, s := range subs {
			out[i] = s.ID
		}
		return out
	}
	// Ordered by id, which is creation order.
	eqSlice(t, "all subscriptions", gotIDs(all), append(append([]string{}, want...), short.ID))
	for i := 1; i < len(all); i++ {
		if all[i-1].ID >= all[i].ID {
			t.Fatalf("subscriptions not ordered by id: %q then %q", all[i-1].ID, all[i].ID)
		}
	}
	c.advance(time.Minute)
	var paged []string
	marker := ""
	for range 10 {
		page, err := s.ListSubscriptions(ctx, proj, "q", marker, 3, c.now)
		must(t, err)
		if len(page) == 0 {
			break
		}
		paged = append(paged, gotIDs(page)...)
		marker = page[len(page)-1].ID
	}
	eqSlice(t, "paged subscriptions (expired skipped)", paged, want)
	list, err := s.ListSubscriptions(ctx, proj, "missing", "", 10, c.now)
	must(t, err)
	eq(t, "missing queue", len(list), 0)
	if list == nil {
		t.Fatal("nil list")
	}
}

func testSubscriptionPurge(t *testing.T, s store.Store) {
	c := newClock()
	for i := range 15 {
		_, err := s.CreateSubscription(ctx, proj, newSub("q", fmt.Sprintf("http://h/%d", i), time.Hour), c.now)
		must(t, err)
	}
	keep, err := s.CreateSubscription(ctx, proj, newSub("q2", "http://h/0", time.Hour), c.now)
	must(t, err)
	must(t, s.PurgeSubscriptions(ctx, proj, "q"))
	list, err := s.ListSubscriptions(ctx, proj, "q", "", 100, c.now)
	must(t, err)
	eq(t, "after purge (all, not one page)", len(list), 0)
	_, err = s.GetSubscription(ctx, proj, "q2", keep.ID, c.now)
	must(t, err)
	must(t, s.PurgeSubscriptions(ctx, proj, "missing"))
	// The subscriber can subscribe again.
	_, err = s.CreateSubscription(ctx, proj, newSub("q", "http://h/0", time.Hour), c.now)
	must(t, err)
}
