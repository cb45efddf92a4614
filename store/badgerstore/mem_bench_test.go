package badgerstore_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/zedge-io/zedge/store"
	"github.com/zedge-io/zedge/store/badgerstore"
)

// liveMessages is how many messages the memory benchmarks keep live: enough that per-message costs dwarf fixed
// ones (Badger's memtables and caches are reported separately as heap/store at zero messages).
const liveMessages = 200_000

// BenchmarkLiveMemory reports the Go heap held per live message after posting liveMessages ~100-byte messages
// in batches of 10 (the post10 workload): heap-B/msg is the live heap after a GC, minus the heap of the empty
// store, divided by the messages. It is a measurement, not an assertion. Badger's memtable arenas are
// allocated outside the Go heap (jemalloc-free z.Calloc), so sys-B/msg (the Go runtime's whole footprint) and
// heap-B/msg differ by what the runtime holds for reuse; RSS in production also counts Badger's mmapped files.
func BenchmarkLiveMemory(b *testing.B) {
	for _, mode := range []string{"sync", "sync-bodies-on-disk"} {
		b.Run(mode, func(b *testing.B) {
			for b.Loop() {
				s := openStore(b, modes()[mode](b.TempDir()))
				measureLive(b, s)
				_ = s.Close()
			}
		})
	}
	// Badger's memtable arenas and table builders are allocated on the Go heap: the memtable size is a fixed
	// cost that the figures above include, and it drove the MemTableSize default (see doc.go).
	for _, mib := range []int64{8, 16, 32, 64} {
		b.Run(fmt.Sprintf("sync-memtable-%dMiB", mib), func(b *testing.B) {
			for b.Loop() {
				cfg := badgerstore.DefaultConfig(b.TempDir())
				cfg.MemTableSize = mib << 20
				s := openStore(b, cfg)
				measureLive(b, s)
				_ = s.Close()
			}
		})
	}
}

// heapLive returns the live heap after a full collection.
func heapLive() (heap, sys uint64) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc, ms.Sys
}

func measureLive(b *testing.B, s store.Store) {
	ctx := context.Background()
	body := []byte(`{"sensor":"b1/r101/temp","value":21.5,"unit":"C","ts":1767225600,"seq":123456,"ok":true,"x":1}`)
	now := time.Now()
	if _, err := s.CreateQueue(ctx, "p", "q", nil, now); err != nil {
		b.Fatal(err)
	}
	h0, _ := heapLive()
	batch := make([]store.NewMessage, 10)
	for i := range batch {
		batch[i] = store.NewMessage{Body: body, TTL: time.Hour}
	}
	for i := 0; i < liveMessages; i += len(batch) {
		if _, err := s.PostMessages(ctx, "p", "q", batch, now); err != nil {
			b.Fatal(err)
		}
	}
	h1, sys := heapLive()
	writeHeapProfile(b)
	b.ReportMetric(float64(h1-h0)/liveMessages, "heap-B/msg")
	b.ReportMetric(float64(sys)/liveMessages, "sys-B/msg")
	b.ReportMetric(float64(h0)/(1<<20), "heap-MiB-empty")
	page, err := s.ListMessages(ctx, "p", "q", store.MessageQuery{Limit: 1, Echo: true}, now)
	if err != nil || len(page.Messages) != 1 {
		b.Fatalf("list after filling: %v, %d messages", err, len(page.Messages))
	}
}

// writeHeapProfile writes the live heap to the file named by ZEDGE_HEAP_PROFILE, if set (go test's
// -memprofile is written after the store is closed, when nothing is live any more).
func writeHeapProfile(b *testing.B) {
	path := os.Getenv("ZEDGE_HEAP_PROFILE")
	if path == "" {
		return
	}
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		b.Fatal(err)
	}
}
