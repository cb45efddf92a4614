package badgerstore_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/zedge-io/zedge/store"
	"github.com/zedge-io/zedge/store/badgerstore"
)

// The commit histograms count every committed group once, with its records, and their totals agree with
// CommitStats.
func TestCommitHistograms(t *testing.T) {
	s := openStore(t, badgerstore.DefaultConfig(t.TempDir()))
	_, before := s.CommitStats()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				msgs := []store.NewMessage{{Body: []byte(`{"n":1}`), TTL: time.Minute}, {Body: []byte(`2`), TTL: time.Minute}}
				if _, err := s.PostMessages(context.Background(), "p", "q-"+string(rune('a'+i)), msgs, time.Now()); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	groups, records := s.CommitStats()
	recs, secs := s.CommitHistograms()
	if recs.Count == 0 || recs.Count != secs.Count {
		t.Fatalf("histograms count %d and %d groups, want the same non-zero count", recs.Count, secs.Count)
	}
	// Groups Badger split count once in the histograms but once per part in CommitStats.
	if recs.Count > uint64(groups) {
		t.Errorf("%d groups in the histogram, more than the %d commits", recs.Count, groups)
	}
	if int64(recs.Sum) != records || records-before < 8*20*2 {
		t.Errorf("histogram holds %v records, CommitStats %d (posted 320 messages after %d records)", recs.Sum, records, before)
	}
	for i := 1; i < len(recs.Buckets); i++ {
		if recs.Buckets[i] < recs.Buckets[i-1] {
			t.Fatalf("buckets not cumulative: %v", recs.Buckets)
		}
	}
	if last := recs.Buckets[len(recs.Buckets)-1]; last != recs.Count {
		t.Errorf("%d of %d groups in the buckets (no group holds over 4096 records here)", last, recs.Count)
	}
	if secs.Sum <= 0 {
		t.Errorf("commit time sum %v", secs.Sum)
	}
}
