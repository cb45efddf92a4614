package broker

import (
	"errors"
	"testing"

	"github.com/zedge-io/zedge/store"
)

// TestStoreFailures checks that every store failure becomes ErrUnavailable with Zaqar's 503 wording, the cause
// wrapped.
func TestStoreFailures(t *testing.T) {
	e := newEnv(t)
	ctx, s := e.ctx, e.svc
	ids := e.post(t, producer, "q", "1", "2")
	c, _, err := s.CreateClaim(ctx, proj, "q", ClaimOptions{Limit: 1})
	must(t, err)
	sub, _, err := s.CreateSubscription(ctx, proj, "q", []byte(`{"subscriber": "http://x"}`))
	must(t, err)

	tests := []struct {
		method string // the store method that fails
		call   func() error
		desc   string
	}{
		{"ListQueues", func() error { _, err := s.ListQueues(ctx, proj, QueueListOptions{}); return err }, "Queues could not be listed."},
		{"CountQueues", func() error { _, err := s.ListQueues(ctx, proj, QueueListOptions{WithCount: true}); return err }, "Queues could not be listed."},
		{"CreateQueue", func() error { _, err := s.CreateQueue(ctx, proj, "n", nil); return err }, "Queue could not be created."},
		{"GetQueue", func() error { _, err := s.GetQueue(ctx, proj, "q"); return err }, "Queue metadata could not be retrieved."},
		{"UpdateQueue", func() error { _, err := s.PatchQueue(ctx, proj, "q", []byte(`[]`)); return err }, "Queue could not be updated."},
		{"DeleteQueue", func() error { return s.DeleteQueue(ctx, proj, "q") }, "Queue could not be deleted."},
		{"Stats", func() error { _, err := s.QueueStats(ctx, proj, "q"); return err }, "Queue stats could not be read."},
		{"PurgeMessages", func() error { return s.PurgeQueue(ctx, proj, "q", nil) }, "Queue could not be purged."},
		{"PurgeSubscriptions", func() error {
			return s.PurgeQueue(ctx, proj, "q", []byte(`{"resource_types": ["subscriptions"]}`))
		}, "Queue could not be purged."},
		{"GetQueue", func() error {
			_, err := s.PostMessages(ctx, producer, "q", []byte(`{"messages":[{"body":1}]}`), 0)
			return err
		}, "Messages could not be enqueued."},
		{"PostMessages", func() error {
			_, err := s.PostMessages(ctx, producer, "q", []byte(`{"messages":[{"body":1}]}`), 0)
			return err
		}, "Messages could not be enqueued."},
		{"ListMessages", func() error { _, err := s.ListMessages(ctx, consumer, "q", MessageListOptions{}); return err }, "Messages could not be listed."},
		{"GetMessages", func() error { _, err := s.GetMessage(ctx, proj, "q", ids[0]); return err }, "Message could not be retrieved."},
		{"GetMessages", func() error { _, err := s.GetMessages(ctx, proj, "q", ids); return err }, "Message could not be retrieved."},
		{"DeleteMessage", func() error { return s.DeleteMessage(ctx, proj, "q", ids[1], "") }, "Message could not be deleted."},
		{"DeleteMessages", func() error { return s.DeleteMessages(ctx, proj, "q", ids) }, "Messages could not be deleted."},
		{"PopMessages", func() error { _, err := s.PopMessages(ctx, proj, "q", 1); return err }, "Messages could not be popped."},
		{"CreateClaim", func() error { _, _, err := s.CreateClaim(ctx, proj, "q", ClaimOptions{}); return err }, "Claim could not be created."},
		{"GetClaim", func() error { _, _, err := s.GetClaim(ctx, proj, "q", c.ID); return err }, "Claim could not be queried."},
		{"RenewClaim", func() error { return s.UpdateClaim(ctx, proj, "q", c.ID, ClaimOptions{}) }, "Claim could not be updated."},
		{"ReleaseClaim", func() error { return s.ReleaseClaim(ctx, proj, "q", c.ID) }, "Claim could not be deleted."},
		{"CreateSubscription", func() error {
			_, _, err := s.CreateSubscription(ctx, proj, "q", []byte(`{"subscriber": "http://y"}`))
			return err
		}, "Subscription could not be created."},
		{"ListSubscriptions", func() error { _, err := s.ListSubscriptions(ctx, proj, "q", "", 0); return err }, "Subscriptions could not be listed."},
		{"GetSubscription", func() error { _, err := s.GetSubscription(ctx, proj, "q", sub.ID); return err }, "Subscription could not be retrieved."},
		{"UpdateSubscription", func() error { return s.UpdateSubscription(ctx, proj, "q", sub.ID, []byte(`{"ttl": 120}`)) }, "Subscription could not be updated."},
		{"UpdateSubscription", func() error {
			_, err := s.ConfirmSubscription(ctx, proj, "q", sub.ID, []byte(`{"confirmed": true}`))
			return err
		}, "Subscription could not be confirmed."},
		{"DeleteSubscription", func() error { return s.DeleteSubscription(ctx, proj, "q", sub.ID) }, "Subscription could not be deleted."},
	}
	for _, tc := range tests {
		e.st.FailOn(tc.method)
		err := tc.call()
		e.st.Heal()
		wantErr(t, tc.method+": "+tc.desc, err, ErrUnavailable, tc.desc+" Please try again in a few seconds.")
		if !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s: the store cause is not wrapped: %v", tc.method, err)
		}
	}
	// Nothing was lost: the healed store still holds the messages, the claim and the subscription.
	st, err := s.QueueStats(ctx, proj, "q")
	must(t, err)
	if st.Total != 2 || st.Claimed != 1 {
		t.Errorf("after failures: %+v", st)
	}
	if _, err := s.GetSubscription(ctx, proj, "q", sub.ID); err != nil {
		t.Errorf("subscription lost: %v", err)
	}
}
