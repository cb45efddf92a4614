package memstore_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/zedge-io/zedge/store"
	"github.com/zedge-io/zedge/store/memstore"
	"github.com/zedge-io/zedge/store/storetest"
)

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) store.Store {
		s := memstore.New()
		b.Cleanup(func() { _ = s.Close() })
		return s
	})
}

// BenchmarkLiveMemory reports the engine's Go heap per live message (no Badger): the live heap after a GC,
// minus the empty store's, divided by the messages, after posting ~100-byte messages in batches of 1 and 10.
func BenchmarkLiveMemory(b *testing.B) {
	const live = 200_000
	body := []byte(`{"sensor":"b1/r101/temp","value":21.5,"unit":"C","ts":1767225600,"seq":123456,"ok":true,"x":1}`)
	for _, n := range []int{1, 10} {
		b.Run(fmt.Sprintf("batch=%d", n), func(b *testing.B) {
			for b.Loop() {
				s := memstore.New()
				ctx, now := context.Background(), time.Now()
				h0 := heapLive()
				batch := make([]store.NewMessage, n)
				for i := range batch {
					batch[i] = store.NewMessage{Body: body, TTL: time.Hour}
				}
				for i := 0; i < live; i += n {
					if _, err := s.PostMessages(ctx, "p", "q", batch, now); err != nil {
						b.Fatal(err)
					}
				}
				h1 := heapLive()
				b.ReportMetric(float64(h1-h0)/live, "heap-B/msg")
				page, err := s.ListMessages(ctx, "p", "q", store.MessageQuery{Limit: 1, Echo: true}, now)
				if err != nil || len(page.Messages) != 1 {
					b.Fatalf("list after filling: %v, %d messages", err, len(page.Messages))
				}
				_ = s.Close()
			}
		})
	}
}

func heapLive() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
