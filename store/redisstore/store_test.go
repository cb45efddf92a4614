package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zedge-io/zedge/store"
	"github.com/zedge-io/zedge/store/redisstore"
	"github.com/zedge-io/zedge/store/redisstore/redistest"
	"github.com/zedge-io/zedge/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }

// prefixes gives every store of the test binary its own key prefix on the shared servers.
var prefixes atomic.Int64

func config(addrs []string, cluster bool) redisstore.Config {
	cfg := redisstore.DefaultConfig()
	cfg.Addrs, cfg.Cluster = addrs, cluster
	cfg.KeyPrefix = fmt.Sprintf("t%d-%d", os.Getpid(), prefixes.Add(1))
	return cfg
}

func open(t testing.TB, cfg redisstore.Config) *redisstore.Store {
	t.Helper()
	s, err := redisstore.Open(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil && !errors.Is(err, store.ErrClosed) {
			t.Error(err)
		}
	})
	return s
}

func TestConformanceSingle(t *testing.T) {
	addr := redistest.SharedSingle(t)
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, config([]string{addr}, false)) })
}

func TestConformanceCluster(t *testing.T) {
	addrs := redistest.SharedCluster(t)
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, config(addrs, true)) })
}

// TestStateIsInRedis runs storetest.RunDurable with "reopen" meaning a new Store (a new process, or another
// zedge node) on the same Redis and key prefix: nothing the store promises lives in the Go process. (Surviving
// a Redis restart is Redis's persistence; see TestAOFRestart.)
func TestStateIsInRedis(t *testing.T) {
	for _, cluster := range []bool{false, true} {
		t.Run(fmt.Sprintf("cluster=%v", cluster), func(t *testing.T) {
			var addrs []string
			if cluster {
				addrs = redistest.SharedCluster(t)
			} else {
				addrs = []string{redistest.SharedSingle(t)}
			}
			prefixOf := map[string]string{}
			storetest.RunDurable(t, func(t *testing.T, dir string) store.Store {
				cfg := config(addrs, cluster)
				if p, ok := prefixOf[dir]; ok {
					cfg.KeyPrefix = p
				} else {
					prefixOf[dir] = cfg.KeyPrefix
				}
				return open(t, cfg)
			})
		})
	}
}

// Two stores on one cluster (two zedge nodes) claiming from the same queue never hand out a message twice.
func TestTwoNodesClaimDisjoint(t *testing.T) {
	cfg := config(redistest.SharedCluster(t), true)
	nodes := []*redisstore.Store{open(t, cfg), open(t, cfg)}
	ctx, now := context.Background(), time.Now()
	const total = 300
	batch := make([]store.NewMessage, 30)
	for i := range batch {
		batch[i] = store.NewMessage{Body: []byte(`1`), TTL: time.Hour}
	}
	for i := 0; i < total; i += len(batch) {
		if _, err := nodes[i/len(batch)%2].PostMessages(ctx, "p", "q", batch, now); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for w := range 8 {
		s := nodes[w%2]
		wg.Go(func() {
			for {
				res, err := s.CreateClaim(ctx, "p", "q", store.ClaimSpec{TTL: time.Minute, Grace: time.Minute, Limit: 7}, now)
				if err != nil {
					t.Error(err)
					return
				}
				if len(res.Messages) == 0 {
					return
				}
				mu.Lock()
				for _, m := range res.Messages {
					seen[m.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != total {
		t.Fatalf("%d distinct messages claimed, want %d", len(seen), total)
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("message %s claimed %d times", id, n)
		}
	}
}
