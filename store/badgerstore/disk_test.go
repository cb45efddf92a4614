package badgerstore_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zedge-io/zedge/store"
	"github.com/zedge-io/zedge/store/badgerstore"
)

// TestDiskReclaimed posts a burst of messages with a 1 s TTL (the store does not enforce Zaqar's 60 s minimum),
// waits them out, compacts, and checks that the disk usage (bytes allocated by every file of the database,
// see DiskUsage) comes back close to where it started. Small and large bodies are mixed so both the LSM tree
// (inlined values) and the value log (values above ValueThreshold) are exercised.
func TestDiskReclaimed(t *testing.T) {
	ctx := context.Background()
	cfg := badgerstore.DefaultConfig(t.TempDir())
	cfg.ValueLogFileSize = 1 << 20 // rotate value-log files quickly so GC can reclaim them in a short test
	cfg.GCInterval = 0             // only Compact collects, so the test sees its effect
	s := openStore(t, cfg)
	start, err := s.DiskUsage()
	if err != nil {
		t.Fatal(err)
	}

	small := bytes.Repeat([]byte("s"), 200)
	large := append(append([]byte(`"`), bytes.Repeat([]byte("L"), 8<<10)...), '"')
	small = append(append([]byte(`"`), small...), '"')
	now := time.Now()
	batch := make([]store.NewMessage, 100)
	for round := range 150 {
		for i := range batch {
			body := small
			if i%10 == 0 {
				body = large
			}
			batch[i] = store.NewMessage{Body: body, TTL: time.Second}
		}
		if _, err := s.PostMessages(ctx, "p", "telemetry", batch, now); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
	}
	peak, err := s.DiskUsage()
	if err != nil {
		t.Fatal(err)
	}
	if peak < start+10<<20 {
		t.Fatalf("disk grew only from %d to %d bytes for ~15 MB of messages", start, peak)
	}

	time.Sleep(time.Until(now.Add(2 * time.Second)))
	if err := s.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	end, err := s.DiskUsage()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("disk usage: start %d, after posting %d, after expiry and Compact %d bytes", start, peak, end)
	// What may remain: the active value-log file (at most ValueLogFileSize) and small LSM/manifest files.
	if slack := int64(2 << 20); end > start+slack {
		t.Fatalf("disk usage %d after Compact, want at most %d (start %d + %d)", end, start+slack, start, slack)
	}
	st, err := s.Stats(ctx, "p", "telemetry", time.Now())
	if err != nil || st.Total != 0 {
		t.Fatalf("stats after expiry: %+v, %v", st, err)
	}
}

// Compact blocks Badger's writes while it flushes the memtables; writes arriving meanwhile must wait, not fail.
func TestCompactUnderLoad(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, badgerstore.DefaultConfig(t.TempDir()))
	stop := make(chan struct{})
	errs := make(chan error, 4)
	var posted atomic.Int64
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				now := time.Now()
				ids, err := s.PostMessages(ctx, "p", "q", []store.NewMessage{{Body: []byte(`{"w":1}`), TTL: time.Hour}}, now)
				if err == nil {
					_, err = s.CreateClaim(ctx, "p", "q", store.ClaimSpec{TTL: time.Minute, Grace: time.Minute, Limit: 1}, now)
				}
				if err != nil {
					errs <- fmt.Errorf("worker %d: %w", w, err)
					return
				}
				posted.Add(int64(len(ids)))
			}
		})
	}
	for range 3 {
		if err := s.Compact(ctx); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if err := s.Health(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := s.Stats(ctx, "p", "q", time.Now())
	if err != nil || int64(st.Total) != posted.Load() {
		t.Fatalf("stats total %d (%v), want %d posted", st.Total, err, posted.Load())
	}
}
