package broker

import (
	"fmt"
	"testing"
	"time"
)

func TestSubscriptions(t *testing.T) {
	e := newEnv(t)
	ctx, s := e.ctx, e.svc
	const conflict = "Such subscription already exists.Subscriptions are unique by project + queue + subscriber URI."

	sub, created, err := s.CreateSubscription(ctx, proj, "q", []byte(`{"subscriber": "http://127.0.0.1:8899/hook"}`))
	must(t, err)
	if !created || sub.ID == "" || sub.TTL != time.Hour || string(sub.Options) != "{}" || sub.Confirmed || sub.Queue != "q" {
		t.Fatalf("created: %+v %v", sub, created)
	}
	// The queue was auto-created.
	if list, _ := s.ListQueues(ctx, proj, QueueListOptions{}); len(list.Queues) != 1 {
		t.Errorf("queue not created: %+v", list)
	}

	// An unconfirmed duplicate returns the existing one, unchanged.
	dup, created, err := s.CreateSubscription(ctx, proj, "q", []byte(`{"subscriber": "http://127.0.0.1:8899/hook", "ttl": 120, "options": {"a": 1}}`))
	must(t, err)
	if created || dup.ID != sub.ID || dup.TTL != time.Hour {
		t.Errorf("unconfirmed duplicate: %+v %v", dup, created)
	}

	// Confirm, then a duplicate conflicts.
	for body, desc := range map[string]string{``: "", `{"confirmed": "yes"}`: ""} {
		_, err := s.ConfirmSubscription(ctx, proj, "q", sub.ID, []byte(body))
		_ = desc
		wantErr(t, "confirm "+body, err, ErrInvalid, "The 'confirmed' should be boolean.")
	}
	_, err = s.ConfirmSubscription(ctx, proj, "q", "nope", []byte(`{"confirmed": true}`))
	wantErr(t, "confirm missing", err, ErrNotFound, "Subscription nope does not exist")
	confirmed, err := s.ConfirmSubscription(ctx, proj, "q", sub.ID, []byte(`{"confirmed": true}`))
	must(t, err)
	if !confirmed.Confirmed {
		t.Error("not confirmed")
	}
	_, _, err = s.CreateSubscription(ctx, proj, "q", []byte(`{"subscriber": "http://127.0.0.1:8899/hook"}`))
	wantErr(t, "confirmed duplicate", err, ErrConflict, conflict)
	_, err = s.ConfirmSubscription(ctx, proj, "q", sub.ID, []byte(`{"confirmed": false}`))
	must(t, err)

	// Validation.
	_, _, err = s.CreateSubscription(ctx, proj, "q", []byte(`{"subscriber": "ws://x"}`))
	wantErr(t, "scheme", err, ErrInvalid,
		"The subscriber type of subscription must be supported in the list ['http', 'https', 'mailto', 'trust+http', 'trust+https'].")
	_, _, err = s.CreateSubscription(ctx, proj, "q", nil)
	wantErr(t, "no body", err, ErrInvalid, "Missing parameter subscriber in body.")

	// Get and list.
	got, err := s.GetSubscription(ctx, proj, "q", sub.ID)
	must(t, err)
	if got.Subscriber != "http://127.0.0.1:8899/hook" {
		t.Errorf("get: %+v", got)
	}
	_, err = s.GetSubscription(ctx, proj, "q", "nope")
	wantErr(t, "get missing", err, ErrNotFound, "Subscription nope does not exist")
	var all []string
	all = append(all, sub.ID)
	for i := 0; i < 11; i++ {
		sb, _, err := s.CreateSubscription(ctx, proj, "q", []byte(fmt.Sprintf(`{"subscriber": "mailto:u%d@example.com", "ttl": 600}`, i)))
		must(t, err)
		all = append(all, sb.ID)
	}
	page, err := s.ListSubscriptions(ctx, proj, "q", "", 0)
	must(t, err)
	if len(page) != 10 {
		t.Errorf("default page: %d", len(page))
	}
	rest, err := s.ListSubscriptions(ctx, proj, "q", page[len(page)-1].ID, 20)
	must(t, err)
	if len(rest) != 2 {
		t.Errorf("second page: %d", len(rest))
	}
	for _, limit := range []int{ZeroLimit, 21} {
		_, err := s.ListSubscriptions(ctx, proj, "q", "", limit)
		wantErr(t, fmt.Sprint("limit ", limit), err, ErrInvalid, "Limit must be at least 1 and may not be greater than 20.")
	}
	if none, err := s.ListSubscriptions(ctx, proj, "missing", "", 0); err != nil || none == nil || len(none) != 0 {
		t.Errorf("missing queue: %v %v", none, err)
	}

	// Update.
	upd := func(body string) error { return s.UpdateSubscription(ctx, proj, "q", sub.ID, []byte(body)) }
	wantErr(t, "empty", upd(``), ErrInvalid, "No subscription to create.")
	wantErr(t, "{}", upd(`{}`), ErrInvalid, "No subscription to create.")
	wantErr(t, "unknown keys", upd(`{"foo": 1}`), ErrCannotUpdateSub, fmt.Sprintf("Subscription %s could not be updated.", sub.ID))
	wantErr(t, "bad ttl", upd(`{"ttl": 10}`), ErrInvalid, "The TTL for a subscription must be at least 60 seconds long.")
	wantErr(t, "missing", s.UpdateSubscription(ctx, proj, "q", "nope", []byte(`{"ttl": 120}`)), ErrNotFound, "Subscription nope does not exist")
	wantErr(t, "subscriber clash", upd(`{"subscriber": "mailto:u1@example.com"}`), ErrConflict, conflict)

	e.clock.Advance(time.Minute)
	must(t, upd(`{"foo": 1, "ttl": 120, "options": {"post_headers": {"X": "y"}}}`))
	got, _ = s.GetSubscription(ctx, proj, "q", sub.ID)
	if got.TTL != 120*time.Second || !got.Expires.Equal(e.clock.Now().Add(120*time.Second)) ||
		string(got.Options) != `{"post_headers": {"X": "y"}}` {
		t.Errorf("after update: %+v options %s", got, got.Options)
	}
	must(t, upd(`{"options": {"b": 2}, "subscriber": "https://example.com/new"}`))
	got, _ = s.GetSubscription(ctx, proj, "q", sub.ID)
	if string(got.Options) != `{"b": 2}` || got.Subscriber != "https://example.com/new" {
		t.Errorf("options not replaced wholesale: %+v %s", got, got.Options)
	}

	// Expiry follows the ttl.
	e.clock.Advance(121 * time.Second)
	_, err = s.GetSubscription(ctx, proj, "q", sub.ID)
	wantErr(t, "expired", err, ErrNotFound, fmt.Sprintf("Subscription %s does not exist", sub.ID))

	// Delete is idempotent.
	must(t, s.DeleteSubscription(ctx, proj, "q", all[1]))
	must(t, s.DeleteSubscription(ctx, proj, "q", all[1]))
	if _, err := s.GetSubscription(ctx, proj, "q", all[1]); err == nil {
		t.Error("deleted subscription still there")
	}
}
