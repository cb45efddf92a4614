package memstore_test

import (
	"testing"

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
