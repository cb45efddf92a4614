package engine

import (
	"context"

	"github.com/zedge-io/zedge/store"
)

// Log persists the engine's changes. Begin locks the log and returns a Batch; the engine records its changes into
// the batch and Commit unlocks and returns the Ticket that completes when the batch is persisted. Batches are
// persisted, and their Tickets completed, in the order of their Commit calls (a batch with no records may complete
// at once). A Log may persist a batch too big for one write in parts, in record order (badgerstore: one Badger
// transaction); if it fails between parts, the batch's ticket fails, so the engine orders each batch's records
// so that any prefix of it loses nothing acknowledged (a dead-letter copy before the deletion of its original).
// Implementations encode the records synchronously: the engine may change them as soon as the
// recording call returns.
type Log interface {
	Begin() Batch
	// Barrier returns a Ticket that completes once every batch committed so far is persisted (at once when
	// all are). deferred is as for CommitDeferred: the barrier may wait for company rather than start a commit.
	Barrier(deferred bool) Ticket
}

// Batch records the changes of one engine operation. Its methods are called between Log.Begin and Commit only.
type Batch interface {
	PutQueue(project, queue string, rec *QueueRec)
	DeleteQueue(project, queue string)
	// PutMessage writes the message with the given body (m.Body may be nil when the engine does not keep bodies).
	PutMessage(project, queue string, m *Msg, body []byte)
	DeleteMessage(project, queue string, seq uint64)
	PutClaim(project, queue string, c *ClaimRec)
	DeleteClaim(project, queue, id string)
	PutSubscription(project string, s *SubRec)
	DeleteSubscription(project, queue, id string)
	Commit() Ticket
	// CommitDeferred is Commit for a batch that may wait, within a bound of the Log's choosing, to share its
	// persistence with later batches instead of starting its own (store.WithDeferredCommit). Order and
	// durability are those of Commit.
	CommitDeferred() Ticket
}

// Ticket is the outcome of a committed batch.
type Ticket interface {
	// Wait blocks until the batch is persisted and returns nil, or an error wrapping store.ErrUnavailable or
	// store.ErrClosed.
	Wait() error
	// Done reports, without blocking, whether Wait would return at once.
	Done() bool
}

// BodyLoader reads message bodies back from storage, for engines that do not keep bodies in memory.
type BodyLoader interface {
	// LoadBodies sets dst[i] to the body of message seqs[i] of the queue, or leaves it nil when the message is
	// not stored (expired by the storage's own clock).
	LoadBodies(project, queue string, seqs []uint64, dst [][]byte) error
}

// nopLog is the Log of an engine without persistence: every ticket is complete at once.
type nopLog struct{}

func (nopLog) Begin() Batch { return nopBatch{} }

func (nopLog) Barrier(bool) Ticket { return doneTicket{} }

type nopBatch struct{}

func (nopBatch) PutQueue(string, string, *QueueRec)        {}
func (nopBatch) DeleteQueue(string, string)                {}
func (nopBatch) PutMessage(string, string, *Msg, []byte)   {}
func (nopBatch) DeleteMessage(string, string, uint64)      {}
func (nopBatch) PutClaim(string, string, *ClaimRec)        {}
func (nopBatch) DeleteClaim(string, string, string)        {}
func (nopBatch) PutSubscription(string, *SubRec)           {}
func (nopBatch) DeleteSubscription(string, string, string) {}
func (nopBatch) Commit() Ticket                            { return doneTicket{} }
func (nopBatch) CommitDeferred() Ticket                    { return doneTicket{} }

type doneTicket struct{}

func (doneTicket) Wait() error { return nil }
func (doneTicket) Done() bool  { return true }

// FailedTicket is a Ticket that has already failed with err.
type FailedTicket struct{ Err error }

// Wait returns the error.
func (t FailedTicket) Wait() error { return t.Err }

// Done reports true.
func (FailedTicket) Done() bool { return true }

var _ Ticket = FailedTicket{Err: store.ErrClosed}

// settled waits until every change already recorded is persisted. A call that succeeds without writing
// anything calls it: what made its work unnecessary (a message or claim already gone from memory) may be
// another call's change that is still being committed, and could yet be lost to a failed write or a crash.
func (e *Engine) settled(ctx context.Context) error {
	return e.wait(e.log.Barrier(store.DeferredCommit(ctx)))
}

// commit commits b, deferred when the caller's context allows it (store.WithDeferredCommit).
func commit(ctx context.Context, b Batch) Ticket {
	if store.DeferredCommit(ctx) {
		return b.CommitDeferred()
	}
	return b.Commit()
}
