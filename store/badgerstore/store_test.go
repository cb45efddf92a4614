package badgerstore_test

import (
	"errors"
	"testing"

	"github.com/zedge-io/zedge/store"
	"github.com/zedge-io/zedge/store/badgerstore"
	"github.com/zedge-io/zedge/store/storetest"
)

func openStore(t testing.TB, cfg badgerstore.Config) *badgerstore.Store {
	s, err := badgerstore.Open(cfg, nil)
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

func modes() map[string]func(dir string) badgerstore.Config {
	return map[string]func(string) badgerstore.Config{
		"sync": badgerstore.DefaultConfig,
		"async": func(dir string) badgerstore.Config {
			c := badgerstore.DefaultConfig(dir)
			c.Durability = badgerstore.DurabilityAsync
			return c
		},
		"sync-bodies-on-disk": func(dir string) badgerstore.Config {
			c := badgerstore.DefaultConfig(dir)
			c.BodyMemoryMax = 0
			return c
		},
		// Bodies of up to 8 bytes in memory, longer ones on disk: the suite's bodies fall on both sides.
		"async-bodies-mixed": func(dir string) badgerstore.Config {
			c := badgerstore.DefaultConfig(dir)
			c.Durability = badgerstore.DurabilityAsync
			c.BodyMemoryMax = 8
			return c
		},
		"sync-bodies-in-memory": func(dir string) badgerstore.Config {
			c := badgerstore.DefaultConfig(dir)
			c.BodyMemoryMax = -1
			return c
		},
	}
}

func TestConformance(t *testing.T) {
	for name, cfg := range modes() {
		t.Run(name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) store.Store { return openStore(t, cfg(t.TempDir())) })
		})
	}
}

func TestDurable(t *testing.T) {
	for name, cfg := range modes() {
		t.Run(name, func(t *testing.T) {
			storetest.RunDurable(t, func(t *testing.T, dir string) store.Store { return openStore(t, cfg(dir)) })
		})
	}
}
