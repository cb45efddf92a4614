package badgerstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/zedge-io/zedge/store"
)

// A dead-letter move is one atomic step of the store, but Badger may split the group that carries it into
// several transactions (ErrTxnTooBig). If the group fails after a part was committed (a crash or an I/O error
// between the parts), each moved message must survive in its source queue or in the dead-letter queue (or
// both): it was posted and acknowledged, and no acknowledged message may be lost by a write that failed.
func TestDeadLetterSurvivesAGroupSplitThatFailsPartWay(t *testing.T) {
	dir := t.TempDir()
	cfg := DefaultConfig(dir)
	cfg.MemTableSize = 1 << 20 // a transaction holds at most 15% of it, about 150 KiB
	cfg.GCInterval = 0
	cfg.ReapInterval = time.Hour
	s, err := Open(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := time.Now()
	const n = 100
	msgs := make([]store.NewMessage, n)
	want := map[string]bool{}
	for i := range msgs {
		// Bodies under the value threshold stay inline, so each moved message adds 3 KiB to the transaction:
		// the move of all n needs two or three transactions.
		body := fmt.Sprintf(`"%04d%s"`, i, strings.Repeat("x", 3000))
		msgs[i] = store.NewMessage{Body: []byte(body), TTL: time.Hour}
		want[body] = true
	}
	for i := 0; i < n; i += 10 {
		if _, err := s.PostMessages(ctx, "p", "src", msgs[i:i+10], now); err != nil {
			t.Fatal(err)
		}
	}
	first, err := s.CreateClaim(ctx, "p", "src", store.ClaimSpec{TTL: time.Minute, Grace: time.Minute, Limit: n}, now)
	if err != nil || len(first.Messages) != n {
		t.Fatalf("first claim: %d messages, %v", len(first.Messages), err)
	}
	if err := s.ReleaseClaim(ctx, "p", "src", first.Claim.ID, now); err != nil {
		t.Fatal(err)
	}

	injected := errors.New("injected: the machine stopped between two transactions of one group")
	parts := 0
	s.log.beforeTxnCommit = func() error {
		if parts++; parts > 1 {
			return injected
		}
		return nil
	}
	dl := store.ClaimSpec{TTL: time.Minute, Grace: time.Minute, Limit: n, MaxClaimCount: 1, DeadLetterQueue: "dlq"}
	if _, err := s.CreateClaim(ctx, "p", "src", dl, now); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("claim whose group failed part-way: %v, want ErrUnavailable", err)
	}
	if parts != 2 {
		t.Fatalf("the dead-letter move's group failed at transaction %d, want 2 (the test's sizes are off)", parts)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	all := store.MessageQuery{Limit: 1000, Echo: true, IncludeClaimed: true, IncludeDelayed: true}
	found := map[string]bool{}
	for _, q := range []string{"src", "dlq"} {
		page, err := s.ListMessages(ctx, "p", q, all, now)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page.Messages {
			found[string(m.Body)] = true
		}
	}
	lost := 0
	for body := range want {
		if !found[body] {
			lost++
			if lost <= 3 {
				t.Errorf("message %s... is in neither queue after the failed move", body[:6])
			}
		}
	}
	if lost > 0 {
		t.Fatalf("%d of %d acknowledged messages lost", lost, n)
	}
}

// Badger splits a group too big for one transaction; the split must fall between the operations of the group,
// never inside one, or a failure between the parts (a crash, an I/O error) leaves an operation half done. Here a
// pop shares a group with a large post and the group fails after its first transaction: had the split fallen
// inside the pop, part of its deletions would be durable although the pop failed and its messages were never
// delivered: lost.
func TestGroupSplitKeepsEachOperationWhole(t *testing.T) {
	cfg := DefaultConfig(t.TempDir())
	cfg.MemTableSize = 1 << 20 // a transaction holds at most 15% of it, about 150 KiB
	cfg.GCInterval = 0
	cfg.ReapInterval = time.Hour
	s, err := Open(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := time.Now()
	const popped = 2000 // about 60 KiB of delete records
	for i := 0; i < popped; i += 100 {
		batch := make([]store.NewMessage, 100)
		for j := range batch {
			batch[j] = store.NewMessage{Body: []byte(`1`), TTL: time.Hour}
		}
		if _, err := s.PostMessages(ctx, "p", "q", batch, now); err != nil {
			t.Fatal(err)
		}
	}
	groupRecs := func() (int, *group) {
		s.log.mu.Lock()
		defer s.log.mu.Unlock()
		return len(s.log.cur.recs), s.log.last
	}

	// The queues exist beforehand, so that each post below is one batch (creating a queue is a batch of its own).
	for _, q := range []string{"other", "big"} {
		if _, err := s.CreateQueue(ctx, "p", q, nil, now); err != nil {
			t.Fatal(err)
		}
	}
	// Keep the committer busy with a first group while the second one gathers a large post and the pop.
	release := holdCommits(t, s)
	_, before := groupRecs()
	results := make(chan error, 3)
	go func() {
		_, err := s.PostMessages(ctx, "p", "other", []store.NewMessage{{Body: []byte(`0`), TTL: time.Hour}}, now)
		results <- err
	}()
	for n, last := groupRecs(); n > 0 || last == before; n, last = groupRecs() {
	}
	big := make([]store.NewMessage, 100) // about 100 KiB inline: the post and the pop do not fit in one transaction
	for i := range big {
		big[i] = store.NewMessage{Body: []byte(`"` + strings.Repeat("b", 1000) + `"`), TTL: time.Hour}
	}
	go func() {
		_, err := s.PostMessages(ctx, "p", "big", big, now)
		results <- err
	}()
	n0 := 0
	for n0 == 0 {
		n0, _ = groupRecs()
	}
	go func() {
		_, err := s.PopMessages(ctx, "p", "q", popped, now)
		results <- err
	}()
	for n, _ := groupRecs(); n == n0; n, _ = groupRecs() {
	}

	calls := 0
	injected := errors.New("injected: the machine stopped between two transactions of one group")
	s.log.beforeTxnCommit = func() error {
		// The first group is one transaction; the second fails at its second.
		if calls++; calls == 3 {
			return injected
		}
		return nil
	}
	release()
	for range 3 {
		<-results
	}
	if calls != 3 {
		t.Fatalf("%d transactions, want 3 (the test's sizes are off)", calls)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st, err := s.Stats(ctx, "p", "q", now)
	if err != nil {
		t.Fatal(err)
	}
	if st.Total != popped {
		t.Fatalf("%d of the %d messages of a failed pop are left after a restart", st.Total, popped)
	}
}
