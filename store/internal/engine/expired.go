package engine

import "sync/atomic"

// ExpiryObserver is told how many messages of a queue expired, as the engine drops them from memory (by the
// reaper or by an operation on the queue). It is called with the queue's lock held: it must be quick and must
// not call the store.
type ExpiryObserver = func(project, queue string, n int)

// expiryCount counts expired messages for the whole engine and passes them on to the observer, if any.
type expiryCount struct {
	total    atomic.Uint64
	observer atomic.Pointer[ExpiryObserver]
}

func (c *expiryCount) add(project, queue string, n int) {
	c.total.Add(uint64(n))
	if fn := c.observer.Load(); fn != nil {
		(*fn)(project, queue, n)
	}
}

// ExpiredMessages is the number of messages that expired (were dropped from memory at or after their
// expiry) since the engine was built; messages deleted, popped or dead-lettered are not counted. A message
// that expires unnoticed because its queue is deleted first is not counted either.
func (e *Engine) ExpiredMessages() uint64 { return e.expired.total.Load() }

// SetExpiryObserver installs fn (nil removes it); it sees only the expiries after the call.
func (e *Engine) SetExpiryObserver(fn ExpiryObserver) {
	if fn == nil {
		e.expired.observer.Store(nil)
		return
	}
	e.expired.observer.Store(&fn)
}
