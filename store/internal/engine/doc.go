// Package engine holds the queue semantics shared by zedge's single-node stores: all state lives in memory,
// and a backend that wants durability plugs in a Log that persists the engine's changes in the engine's order.
// memstore is the engine with no Log; badgerstore is the engine with a Badger Log.
//
// # State
//
// Per project: a map and a name-ordered B-tree of queues (ListQueues pages by name). Per queue: a mutex, the
// metadata, the messages in a B-tree ordered by a uint64 sequence (the post order), a min-heap of the same
// messages ordered by expiry (reaping is O(expired · log n), never a scan), the live claims, and a cursor that
// remembers how far from the head every message is known to be unclaimable (so claims and pops do not rescan a
// claimed head). Subscriptions live apart from queues, keyed by (project, queue name), because deleting a queue
// keeps them.
//
// # Locks
//
// Lock order: Engine.mu (the project/queue maps) may be taken while holding a queue mutex, but Engine.mu is never
// held while waiting for a queue mutex (except to lock a queue that is not yet published). Two queue mutexes are
// only held together by a dead-lettering claim, which takes the second with TryLock or, failing that, releases the
// first and takes both in name order. The Log's own mutex (Log.Begin .. Batch.Commit) is innermost: nothing else
// is locked while it is held, and no engine code other than encoding runs under it. subMu guards subscriptions
// and is never held together with a queue mutex.
//
// # Persistence and visibility
//
// Every change is written to the Log while the queue mutex is held, so the Log sees changes in the same order as
// memory; the caller then waits on the returned Ticket after unlocking. Tickets complete in submission order. A
// posted message enters the in-memory index only when its Ticket completes successfully (a per-queue FIFO of
// pending posts is flushed in order), so nothing is listed or claimed that a crash could take back, and a marker
// never skips a message that becomes visible later. Claims, deletes and pops change memory first and persist under
// the same lock. A call that succeeds without writing anything (deleting a message, queue, claim or subscription
// already gone from memory, or finding a duplicate subscription) first waits for Log.Barrier: what it found may be
// another call's change that is not yet persisted, and success must not be reported on the strength of a change a
// failed write undoes. A failed write makes the engine fail every later call with store.ErrUnavailable: memory and
// disk may then disagree, and only a restart (which rebuilds memory from disk) is safe.
//
// # Time
//
// Times are unix nanoseconds taken from the callers' now. A message, claim or subscription is gone once now >=
// its expiry. Expired messages are dropped from memory lazily by the operations on their queue and by a reaper
// goroutine; the reaper's clock is the latest now seen by any call (so tests with a fake clock are not reaped by
// the wall clock), or at least the wall clock when the backend's storage itself expires data by wall time. With
// Options.DeleteExpired the reaper also writes a delete record for each message that expired (badgerstore: so
// that compactions reclaim its disk promptly), and for each ended claim it drops; DeleteQueue writes those still
// owed, so no record outlives its queue's. Expiries are counted (ExpiredMessages) and reported per queue to
// an optional observer (metrics per queue class).
package engine
