package badgerstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/zedge-io/zedge/store"
)

// Deleting a queue deletes every record of it, including those of messages that expired and were dropped from
// memory by an operation but whose delete records the reaper has not written yet: otherwise their records
// outlive the queue record (Badger keeps them until their ExpiresAt, rounded up to the second, and here until the
// wall clock reaches the callers' clock), and a restart makes the deleted queue up again to hold them.
func TestDeletedQueueStaysDeletedWithExpiredMessagesNotYetReaped(t *testing.T) {
	cfg := DefaultConfig(t.TempDir())
	cfg.GCInterval = 0
	cfg.ReapInterval = time.Hour // the reaper does not run during the test
	s, err := Open(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := time.Now()
	if _, err := s.PostMessages(ctx, "p", "q", []store.NewMessage{{Body: []byte(`1`), TTL: time.Minute}}, now); err != nil {
		t.Fatal(err)
	}
	// A listing after the message expired drops it from memory.
	later := now.Add(2 * time.Minute)
	page, err := s.ListMessages(ctx, "p", "q", store.MessageQuery{Limit: 10, Echo: true}, later)
	if err != nil || len(page.Messages) != 0 {
		t.Fatalf("listing after expiry: %+v, %v", page, err)
	}
	if err := s.DeleteQueue(ctx, "p", "q"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if q, err := s.GetQueue(ctx, "p", "q"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted queue after a restart: %+v, %v; want ErrNotFound", q, err)
	}
}

// The same for a claim that ended and was dropped from memory by the reaper: its record must not outlive the
// deleted queue's.
func TestDeletedQueueStaysDeletedWithAnEndedClaim(t *testing.T) {
	cfg := DefaultConfig(t.TempDir())
	cfg.GCInterval = 0
	cfg.ReapInterval = time.Hour // the test reaps by hand
	s, err := Open(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := time.Now()
	if _, err := s.PostMessages(ctx, "p", "q", []store.NewMessage{{Body: []byte(`1`), TTL: time.Hour}}, now); err != nil {
		t.Fatal(err)
	}
	cl, err := s.CreateClaim(ctx, "p", "q", store.ClaimSpec{TTL: time.Minute, Limit: 1}, now)
	if err != nil || len(cl.Messages) != 1 {
		t.Fatalf("claim: %+v, %v", cl, err)
	}
	// The claim has ended by the callers' clock, which the reaper follows.
	later := now.Add(2 * time.Minute)
	if _, err := s.Stats(ctx, "p", "q", later); err != nil {
		t.Fatal(err)
	}
	s.Reap()
	if err := s.DeleteQueue(ctx, "p", "q"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if q, err := s.GetQueue(ctx, "p", "q"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted queue after a restart: %+v, %v; want ErrNotFound", q, err)
	}
}
