package badgerstore

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/zedge-io/zedge/store"
)

// holdCommits keeps every group from being written until the returned release is called.
func holdCommits(t *testing.T, s *Store) (release func()) {
	t.Helper()
	held, done := make(chan struct{}), make(chan struct{})
	go func() {
		_ = s.log.paused(func() error {
			close(held)
			<-done
			return nil
		})
	}()
	<-held
	return func() { close(done) }
}

// enteredCtx reports, by closing entered, the first time a call asks it for Err: the engine does that at its
// entry gate, after checking that the store has not failed, so the call is then past that check.
type enteredCtx struct {
	context.Context
	once    sync.Once
	entered chan struct{}
}

func (c *enteredCtx) Err() error {
	c.once.Do(func() { close(c.entered) })
	return c.Context.Err()
}

// A call that succeeds without writing anything must not do so on the strength of a change that is not yet
// durable: here a second call finds its work already done in memory, by a first call whose commit then fails.
// If the second call reported success, the change would be undone by a restart although a client was told it
// was made (a deleted message, queue or subscription back, a released claim still hiding its messages).
func TestNoAcknowledgementOfAChangeNotYetDurable(t *testing.T) {
	ctx := context.Background()
	type target struct{ msg, claim, sub string }
	type call struct {
		name string
		// first changes memory and waits for its commit; second then finds nothing left to do.
		first, second func(ctx context.Context, s *Store, tg target) error
		// present reports whether the state the calls remove is there (in memory, or after a restart).
		present func(s *Store, tg target) bool
	}
	deleteMsg := func(ctx context.Context, s *Store, tg target) error {
		return s.DeleteMessage(ctx, "p", "q", tg.msg, "", time.Now())
	}
	msgPresent := func(s *Store, tg target) bool {
		got, err := s.GetMessages(ctx, "p", "q", []string{tg.msg}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return len(got) > 0
	}
	release := func(ctx context.Context, s *Store, tg target) error {
		return s.ReleaseClaim(ctx, "p", "q", tg.claim, time.Now())
	}
	createSub := func(ctx context.Context, s *Store, _ target) error {
		_, err := s.CreateSubscription(ctx, "p", store.Subscription{Queue: "q", Subscriber: "http://dup/", TTL: time.Hour}, time.Now())
		return err
	}
	purge := func(ctx context.Context, s *Store, _ target) error { return s.PurgeMessages(ctx, "p", "q") }
	deleteSub := func(ctx context.Context, s *Store, tg target) error {
		return s.DeleteSubscription(ctx, "p", "q", tg.sub)
	}
	calls := []call{
		{"DeleteMessage", deleteMsg, deleteMsg, msgPresent},
		{"DeleteMessages", deleteMsg, func(ctx context.Context, s *Store, tg target) error {
			return s.DeleteMessages(ctx, "p", "q", []string{tg.msg}, time.Now())
		}, msgPresent},
		{"DeleteQueue", func(ctx context.Context, s *Store, _ target) error { return s.DeleteQueue(ctx, "p", "q") },
			func(ctx context.Context, s *Store, _ target) error { return s.DeleteQueue(ctx, "p", "q") },
			func(s *Store, _ target) bool {
				_, err := s.GetQueue(ctx, "p", "q")
				return err == nil
			}},
		{"PurgeMessages", purge, purge, msgPresent},
		{"ReleaseClaim", release, release, func(s *Store, tg target) bool {
			_, _, err := s.GetClaim(ctx, "p", "q", tg.claim, time.Now())
			return err == nil
		}},
		{"DeleteSubscription", deleteSub, deleteSub, func(s *Store, tg target) bool {
			_, err := s.GetSubscription(ctx, "p", "q", tg.sub, time.Now())
			return err == nil
		}},
		{"PurgeSubscriptions", deleteSub, func(ctx context.Context, s *Store, _ target) error {
			return s.PurgeSubscriptions(ctx, "p", "q")
		}, func(s *Store, tg target) bool {
			_, err := s.GetSubscription(ctx, "p", "q", tg.sub, time.Now())
			return err == nil
		}},
		// What a creation removes is the absence of its subscription. The second creation finds a duplicate and
		// reports it with ErrConflict and the existing subscription, which the broker answers as a success.
		{"CreateSubscriptionDuplicate", createSub, createSub, func(s *Store, _ target) bool {
			subs, err := s.ListSubscriptions(ctx, "p", "q", "", 10, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			for _, sub := range subs {
				if sub.Subscriber == "http://dup/" {
					return false
				}
			}
			return true
		}},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			cfg := DefaultConfig(t.TempDir())
			cfg.GCInterval = 0
			s, err := Open(cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			// The first message is claimed (the claim under test), the second is the message under test.
			new := []store.NewMessage{{Body: []byte(`"c"`), TTL: time.Hour}, {Body: []byte(`"m"`), TTL: time.Hour}}
			ids, err := s.PostMessages(ctx, "p", "q", new, now)
			if err != nil {
				t.Fatal(err)
			}
			cl, err := s.CreateClaim(ctx, "p", "q", store.ClaimSpec{TTL: time.Hour, Grace: time.Hour, Limit: 1}, now)
			if err != nil || len(cl.Messages) != 1 || cl.Messages[0].ID != ids[0] {
				t.Fatalf("claim: %+v, %v", cl, err)
			}
			sub, err := s.CreateSubscription(ctx, "p", store.Subscription{Queue: "q", Subscriber: "http://h/", TTL: time.Hour}, now)
			if err != nil {
				t.Fatal(err)
			}
			tg := target{msg: ids[1], claim: cl.Claim.ID, sub: sub.ID}
			if !c.present(s, tg) {
				t.Fatal("nothing to remove")
			}

			injected := errors.New("injected: the write failed")
			s.log.beforeTxnCommit = func() error { return injected }
			releaseCommits := holdCommits(t, s)
			first := make(chan error, 1)
			go func() { first <- c.first(ctx, s, tg) }()
			for c.present(s, tg) { // until the first call's change is in memory
			}
			second := make(chan error, 1)
			ectx := &enteredCtx{Context: ctx, entered: make(chan struct{})}
			go func() { second <- c.second(ectx, s, tg) }()
			// Past its entry gate, the second call finds nothing to do: it either returns (acknowledging) or
			// waits for the held commit.
			<-ectx.entered
			releaseCommits()
			if err := <-first; !errors.Is(err, store.ErrUnavailable) {
				t.Fatalf("first call: %v, want ErrUnavailable", err)
			}
			err2 := <-second
			acked := err2 == nil || errors.Is(err2, store.ErrConflict)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}

			s, err = Open(cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if !c.present(s, tg) {
				t.Fatal("the failed first call's change survived a restart: the test's fault injection is off")
			}
			if acked {
				t.Fatalf("%s reported success, but after the failed commit and a restart its work is undone", c.name)
			}
		})
	}
}
