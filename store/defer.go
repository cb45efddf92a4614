package store

import "context"

type deferKey struct{}

// WithDeferredCommit marks the writes made with the returned context as willing to wait for company: a backend
// that commits in groups (badgerstore in sync durability) lets such a write join the next commit that another
// write starts, or start one itself after a short bound, rather than pay for a commit (an fsync) of its own.
// The write is exactly as durable when the call returns as any other; only its latency may grow, by up to that
// bound. It suits writes whose latency nobody waits on but whose rate adds commits, such as acknowledgements
// applied on a device's behalf. Backends without group commits ignore it.
func WithDeferredCommit(ctx context.Context) context.Context {
	return context.WithValue(ctx, deferKey{}, true)
}

// DeferredCommit reports whether ctx carries WithDeferredCommit.
func DeferredCommit(ctx context.Context) bool {
	v, _ := ctx.Value(deferKey{}).(bool)
	return v
}
