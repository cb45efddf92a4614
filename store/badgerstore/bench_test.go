package badgerstore_test

import (
	"testing"

	"github.com/zedge-io/zedge/store"
	"github.com/zedge-io/zedge/store/storetest"
)

// BenchmarkStore runs the shared store benchmarks in each durability mode, with bodies in memory and on disk.
// calls/commit is the number of store calls that shared one Badger transaction (one fsync in sync mode).
func BenchmarkStore(b *testing.B) {
	for name, cfg := range modes() {
		b.Run(name, func(b *testing.B) {
			storetest.Bench(b, func(b *testing.B) store.Store { return openStore(b, cfg(b.TempDir())) })
		})
	}
}
