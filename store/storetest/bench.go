package storetest

import (
	"fmt"

	"sync/atomic"
	"testing"
	"time"

	"github.com/zedge-io/zedge/store"
)

// NewBenchStore opens a fresh, empty store for one benchmark; it registers its own cleanup.
type NewBenchStore func(b *testing.B) store.Store

// commitCounter is implemented by backends that group writes (badgerstore): committed groups (one fsync each
// in sync mode) and records written.
type commitCounter interface {
	CommitStats() (groups, records int64)
}

// benchParallelism multiplies GOMAXPROCS for the parallel benchmarks: a server has many connections in
// flight, and group commit only shows with many concurrent callers.
const benchParallelism = 32

// Bench runs the shared store benchmarks: posting 1 and 10 messages per call (serial and parallel), claiming 10
// and deleting each, and listing 10.
func Bench(b *testing.B, newStore NewBenchStore) {
	body := []byte(`{"sensor":"b1/r101/temp","value":21.5,"unit":"C","ts":1767225600,"seq":123456,"ok":true}`)
	for _, n := range []int{1, 10} {
		b.Run(fmt.Sprintf("PostMessages/%d/serial", n), func(b *testing.B) {
			s := newStore(b)
			batch := benchBatch(body, n)
			now := time.Now()
			b.SetBytes(int64(n * len(body)))
			b.ReportAllocs()
			g0 := commits(s)
			b.ResetTimer()
			for b.Loop() {
				if _, err := s.PostMessages(ctx, proj, "q", batch, now); err != nil {
					b.Fatal(err)
				}
			}
			reportRates(b, s, g0, n)
		})
		b.Run(fmt.Sprintf("PostMessages/%d/parallel", n), func(b *testing.B) {
			s := newStore(b)
			now := time.Now()
			b.SetBytes(int64(n * len(body)))
			b.ReportAllocs()
			b.SetParallelism(benchParallelism)
			g0 := commits(s)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				batch := benchBatch(body, n)
				for pb.Next() {
					if _, err := s.PostMessages(ctx, proj, "q", batch, now); err != nil {
						b.Error(err)
						return
					}
				}
			})
			reportRates(b, s, g0, n)
		})
	}
	for _, parallel := range []bool{false, true} {
		name := "ClaimDelete/10/serial"
		if parallel {
			name = "ClaimDelete/10/parallel"
		}
		b.Run(name, func(b *testing.B) {
			s := newStore(b)
			now := time.Now()
			fill(b, s, body, b.N*10+100, now)
			sp := store.ClaimSpec{TTL: time.Minute, Grace: time.Minute, Limit: 10}
			b.SetBytes(int64(10 * len(body)))
			b.ReportAllocs()
			g0 := commits(s)
			var empty atomic.Int64
			op := func() bool {
				res, err := s.CreateClaim(ctx, proj, "q", sp, now)
				if err != nil {
					b.Error(err)
					return false
				}
				if len(res.Messages) == 0 {
					empty.Add(1)
				}
				for _, m := range res.Messages {
					if err := s.DeleteMessage(ctx, proj, "q", m.ID, res.Claim.ID, now); err != nil {
						b.Error(err)
						return false
					}
				}
				return true
			}
			b.ResetTimer()
			if parallel {
				b.SetParallelism(benchParallelism)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() && op() {
					}
				})
			} else {
				for i := 0; i < b.N && op(); i++ {
				}
			}
			if empty.Load() > 0 {
				b.Fatalf("%d claims found nothing", empty.Load())
			}
			reportRates(b, s, g0, 10)
		})
	}
	b.Run("ListMessages/10", func(b *testing.B) {
		s := newStore(b)
		now := time.Now()
		fill(b, s, body, 10_000, now)
		q := store.MessageQuery{Limit: 10, Echo: true}
		b.SetBytes(int64(10 * len(body)))
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			page, err := s.ListMessages(ctx, proj, "q", q, now)
			if err != nil {
				b.Fatal(err)
			}
			q.Marker = page.Marker // wraps to the head after the last page
		}
		b.ReportMetric(float64(b.N*10)/b.Elapsed().Seconds(), "msgs/s")
	})
}

func benchBatch(body []byte, n int) []store.NewMessage {
	batch := make([]store.NewMessage, n)
	for i := range batch {
		batch[i] = store.NewMessage{Body: body, TTL: time.Hour, ClientID: alice}
	}
	return batch
}

func fill(b *testing.B, s store.Store, body []byte, n int, now time.Time) {
	b.Helper()
	batch := benchBatch(body, 100)
	for i := 0; i < n; i += len(batch) {
		if _, err := s.PostMessages(ctx, proj, "q", batch, now); err != nil {
			b.Fatal(err)
		}
	}
}

func commits(s store.Store) int64 {
	if c, ok := s.(commitCounter); ok {
		g, _ := c.CommitStats()
		return g
	}
	return 0
}

// reportRates reports messages per second and, for grouping backends, operations per commit (per fsync in sync
// mode).
func reportRates(b *testing.B, s store.Store, groups0 int64, perCall int) {
	b.ReportMetric(float64(b.N*perCall)/b.Elapsed().Seconds(), "msgs/s")
	if c, ok := s.(commitCounter); ok {
		g, _ := c.CommitStats()
		if g > groups0 {
			b.ReportMetric(float64(b.N)/float64(g-groups0), "ops/commit")
		}
	}
}
