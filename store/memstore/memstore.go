package memstore

import (
	"time"

	"github.com/zedge-io/zedge/store"
	"github.com/zedge-io/zedge/store/internal/engine"
)

// Store is an in-memory store.Store. It is safe for concurrent use.
type Store struct {
	*engine.Engine
}

var _ store.Store = (*Store)(nil)

// Option configures a Store.
type Option func(*engine.Options)

// WithReapInterval sets how often expired entries are dropped from memory (default 1s; zero or less disables the
// background reaper, leaving it to the operations on each queue). Expiry is judged by the latest now passed to
// the store, so a fake clock in tests is honoured.
func WithReapInterval(d time.Duration) Option {
	return func(o *engine.Options) { o.ReapInterval = max(d, 0) }
}

// New returns an empty store.
func New(opts ...Option) *Store {
	o := engine.Options{ReapInterval: time.Second}
	for _, opt := range opts {
		opt(&o)
	}
	return &Store{Engine: engine.New(o)}
}

// Capabilities implements store.Store.
func (s *Store) Capabilities() store.Capabilities {
	return store.Capabilities{Name: "memory", Durable: false}
}
