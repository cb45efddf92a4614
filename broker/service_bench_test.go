package broker

import (
	"context"
	"fmt"
	"testing"

	"github.com/zedge-io/zedge/store/memstore"
)

// BenchmarkPostMessages measures a post through the whole service (decode, validate, memstore, one observer).
func BenchmarkPostMessages(b *testing.B) {
	for _, n := range []int{1, 10} {
		body := postBody(n)
		b.Run(fmt.Sprintf("memstore/msgs=%d", n), func(b *testing.B) {
			st := memstore.New()
			defer st.Close()
			svc, err := New(st, DefaultConfig(), WithObserver(&countingObserver{}))
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			_, err = svc.CreateQueue(ctx, proj, "bench", []byte(`{"_default_message_ttl": 300}`))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if _, err := svc.PostMessages(ctx, producer, "bench", body, len(body)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

type countingObserver struct{ n int }

func (o *countingObserver) MessagesPosted(ev PostEvent) { o.n += len(ev.Messages) }
