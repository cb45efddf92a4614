package badgerstore_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/zedge-io/zedge/store"
	"github.com/zedge-io/zedge/store/badgerstore"
)

// deferStore opens a sync-mode store with the given commit_defer and one queue holding n messages.
func deferStore(t *testing.T, dir string, commitDefer time.Duration, n int) (*badgerstore.Store, []string) {
	t.Helper()
	cfg := badgerstore.DefaultConfig(dir)
	cfg.CommitDefer = commitDefer
	s := openStore(t, cfg)
	msgs := make([]store.NewMessage, n)
	for i := range msgs {
		msgs[i] = store.NewMessage{Body: []byte(`{"n":1}`), TTL: time.Hour}
	}
	ids, err := s.PostMessages(context.Background(), "p", "q", msgs, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return s, ids
}

// deleteDeferred deletes id with a deferred commit in a goroutine; the channel receives its result.
func deleteDeferred(s store.Store, id string) <-chan error {
	done := make(chan error, 1)
	go func() {
		done <- s.DeleteMessage(store.WithDeferredCommit(context.Background()), "p", "q", id, "", time.Now())
	}()
	return done
}

// waitPending waits until a deferred write in flight has put its records in the commit log's current group,
// or has returned (its bound passed while this goroutine was not scheduled: the caller's checks then fail).
func waitPending(s *badgerstore.Store, done <-chan error) {
	for s.PendingRecords() == 0 && len(done) == 0 {
		runtime.Gosched()
	}
}

// waitResult waits for a deferred call that must have completed by now (its commit has happened); the bound
// only turns a hang into a failure.
func waitResult(t *testing.T, what string, done <-chan error) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: still waiting after the commit that should have carried it", what)
	}
}

// A deferred write waits for company rather than start a commit, and the next ordinary write's commit carries
// it: two writes, one commit (one fsync).
func TestDeferredCommitSharesTheNextCommit(t *testing.T) {
	s, ids := deferStore(t, t.TempDir(), time.Second, 1)
	groups, _ := s.CommitStats()
	done := deleteDeferred(s, ids[0])
	waitPending(s, done)
	select {
	case err := <-done:
		t.Fatalf("a deferred delete with a second's bound returned (%v) before any other write", err)
	default:
	}
	if g, _ := s.CommitStats(); g != groups {
		t.Fatalf("a deferred write alone started a commit (%d groups, had %d)", g, groups)
	}
	if _, err := s.PostMessages(context.Background(), "p", "q", []store.NewMessage{{Body: []byte(`{}`), TTL: time.Minute}}, time.Now()); err != nil {
		t.Fatal(err)
	}
	waitResult(t, "deferred delete", done)
	if g, _ := s.CommitStats(); g != groups+1 {
		t.Fatalf("groups: %d → %d, want one commit for the deferred delete and the post", groups, g)
	}
	if got, err := s.GetMessages(context.Background(), "p", "q", ids, time.Now()); err != nil || len(got) != 0 {
		t.Fatalf("deleted message still there: %d, %v", len(got), err)
	}
}

// With nothing else to share it, a deferred write commits by itself after commit_defer, and what it posted is
// visible when the call returns.
func TestDeferredCommitAloneCommitsAfterTheBound(t *testing.T) {
	s, _ := deferStore(t, t.TempDir(), 20*time.Millisecond, 1)
	groups, _ := s.CommitStats()
	ctx := store.WithDeferredCommit(context.Background())
	ids, err := s.PostMessages(ctx, "p", "q", []store.NewMessage{{Body: []byte(`{"d":1}`), TTL: time.Minute}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if g, _ := s.CommitStats(); g != groups+1 {
		t.Fatalf("groups: %d → %d, want one commit", groups, g)
	}
	got, err := s.GetMessages(context.Background(), "p", "q", ids, time.Now())
	if err != nil || len(got) != 1 || string(got[0].Body) != `{"d":1}` {
		t.Fatalf("deferred post not visible on return: %+v, %v", got, err)
	}
}

// Close commits a deferred write that is still waiting, and the write survives a reopen.
func TestDeferredCommitFlushedByClose(t *testing.T) {
	dir := t.TempDir()
	s, ids := deferStore(t, dir, time.Second, 2)
	done := deleteDeferred(s, ids[0])
	waitPending(s, done)
	select {
	case err := <-done:
		t.Fatalf("a deferred delete with a second's bound returned (%v) before any other write", err)
	default:
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	waitResult(t, "deferred delete at close", done)

	s2 := openStore(t, badgerstore.DefaultConfig(dir))
	got, err := s2.GetMessages(context.Background(), "p", "q", ids, time.Now())
	if err != nil || len(got) != 1 || got[0].ID != ids[1] {
		t.Fatalf("after reopen: %+v, %v; want only %s", got, err, ids[1])
	}
}
