package badgerstore_test

import (
	"fmt"
	"testing"

	"github.com/zedge-io/zedge/store"
	"github.com/zedge-io/zedge/store/badgerstore"
	"github.com/zedge-io/zedge/store/storetest"
)

// BenchmarkStore runs the shared store benchmarks in each durability mode, and with bodies on disk.
// ops/commit is the number of benchmark operations (one post, or one claim with its 10 deletes) per Badger
// transaction, i.e. per fsync in sync mode.
func BenchmarkStore(b *testing.B) {
	for _, name := range []string{"sync", "async", "sync-bodies-on-disk"} {
		cfg := modes()[name]
		b.Run(name, func(b *testing.B) {
			storetest.Bench(b, func(b *testing.B) store.Store { return openStore(b, cfg(b.TempDir())) })
		})
	}
	// Memtable sizes around the default, for the figures in doc.go.
	for _, mib := range []int64{16, 64} {
		b.Run(fmt.Sprintf("sync-memtable-%dMiB", mib), func(b *testing.B) {
			storetest.Bench(b, func(b *testing.B) store.Store {
				cfg := badgerstore.DefaultConfig(b.TempDir())
				cfg.MemTableSize = mib << 20
				return openStore(b, cfg)
			})
		})
	}
}
