package memstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/zedge-io/zedge/store"
	"github.com/zedge-io/zedge/store/memstore"
	"github.com/zedge-io/zedge/store/storetest"
)

func newStore(t *testing.T) store.Store {
	s := memstore.New()
	t.Cleanup(func() {
		if err := s.Close(); err != nil && !errors.Is(err, store.ErrClosed) {
			t.Error(err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, newStore)
}

func TestCapabilities(t *testing.T) {
	c := memstore.New().Capabilities()
	if c.Name != "memory" || c.Durable {
		t.Fatalf("capabilities = %+v", c)
	}
}

// The background reaper judges expiry by the callers' clock, not the wall clock, so a fake clock far in the
// past keeps its messages; once callers' time passes their expiry they leave memory.
func TestReaperFollowsCallersClock(t *testing.T) {
	ctx := context.Background()
	s := memstore.New(memstore.WithReapInterval(0))
	t.Cleanup(func() { _ = s.Close() })
	past := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := s.PostMessages(ctx, "p", "q", []store.NewMessage{{Body: []byte(`1`), TTL: time.Hour}}, past); err != nil {
		t.Fatal(err)
	}
	s.Reap()
	st, err := s.Stats(ctx, "p", "q", past)
	if err != nil || st.Total != 1 {
		t.Fatalf("after reaping at the callers' time: total %d, %v; want 1", st.Total, err)
	}
	// Another queue's call moves the callers' clock past the expiry; the reaper then drops the message
	// from memory even for a reader that still uses the old time.
	if _, err := s.Stats(ctx, "p", "other", past.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	s.Reap()
	st, err = s.Stats(ctx, "p", "q", past)
	if err != nil || st.Total != 0 {
		t.Fatalf("after the callers' clock passed the expiry: total %d, %v; want 0", st.Total, err)
	}
}
