package redisstore_test

import (
	"testing"

	"github.com/zedge-io/zedge/store"
	"github.com/zedge-io/zedge/store/redisstore/redistest"
	"github.com/zedge-io/zedge/store/storetest"
)

// BenchmarkStore runs the shared store benchmarks against a single Redis and a 3-master Redis Cluster (private
// servers on loopback, no persistence). Each benchmark posts to one queue, so on the cluster one master does
// the queue's work and the figures show the client's routing cost, not the cluster's aggregate capacity.
func BenchmarkStore(b *testing.B) {
	b.Run("single", func(b *testing.B) {
		addr := redistest.SharedSingle(b)
		storetest.Bench(b, func(b *testing.B) store.Store { return open(b, config([]string{addr}, false)) })
	})
	b.Run("cluster", func(b *testing.B) {
		addrs := redistest.SharedCluster(b)
		storetest.Bench(b, func(b *testing.B) store.Store { return open(b, config(addrs, true)) })
	})
}
