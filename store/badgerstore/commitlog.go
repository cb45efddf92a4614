package badgerstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/zedge-io/zedge/store"
	"github.com/zedge-io/zedge/store/internal/engine"
)

// commitLog is the engine's Log over Badger with group commit. Operations append encoded records to the
// current group while holding mu; one committer goroutine takes the whole group, writes it as one Badger
// transaction (split only when Badger says it is too big) and completes the group's ticket. With SyncWrites
// (sync durability) that is one WAL fsync for everything submitted while the previous group was being written.
//
// A group holding only deferred batches (CommitDeferred) is not committed until a batch that is not deferred
// joins it or deferMax has passed since its first deferred batch, so deferred writes share the fsyncs of others.
type commitLog struct {
	db       *badger.DB
	deferMax time.Duration // 0: CommitDeferred is Commit

	mu       sync.Mutex
	wake     sync.Cond // signalled when the current group gets records or the log closes
	cur      *group
	last     *group // the group the committer took last (nil before the first)
	batch    batch  // handed out between Begin and Commit, while mu is held
	closed   bool
	failed   error  // the first commit error; every later group fails with it
	leaseEnd uint64 // every message sequence below it is covered by the stored lease

	// commitMu is held while a group is written; Compact holds it to keep commits out while Badger blocks
	// writes.
	commitMu sync.Mutex
	exited   chan struct{}

	// beforeTxnCommit, for tests, runs before each Badger transaction of a group (one, or several when Badger
	// split the group) is committed; an error fails the group there, as a crash or an I/O error would.
	beforeTxnCommit func() error

	groups  atomic.Int64 // committed groups (one fsync each in sync mode)
	records atomic.Int64 // records in them
	hist    *commitObserver
}

// leaseStep is how far the stored sequence lease runs ahead of the sequences in use: a restart skips at most
// this many IDs, and the lease is rewritten once per leaseStep messages, inside the group that needs it.
const leaseStep = 1 << 20

// group is one batch of records committed together; it is also the Ticket of every operation in it.
type group struct {
	buf  []byte
	recs []record
	// starts holds the index of the first record of each batch, in order: Badger's transactions are cut there.
	starts []int
	done   chan struct{}
	err    error

	// ready: the committer may take the group (a batch that is not deferred joined it, or deferMax passed).
	ready bool
	timer *time.Timer // started by the group's first deferred batch
}

type record struct {
	off, klen, vlen uint32
	expiresAt       uint64
	del             bool
}

func (g *group) Wait() error {
	<-g.done
	return g.err
}

func (g *group) Done() bool {
	select {
	case <-g.done:
		return true
	default:
		return false
	}
}

var groupBufs = sync.Pool{New: func() any { return &group{} }}

func newGroup() *group {
	g := groupBufs.Get().(*group)
	return &group{buf: g.buf[:0], recs: g.recs[:0], starts: g.starts[:0], done: make(chan struct{})}
}

func newCommitLog(db *badger.DB, leaseEnd uint64, deferMax time.Duration) *commitLog {
	l := &commitLog{db: db, deferMax: deferMax, cur: newGroup(), leaseEnd: leaseEnd, exited: make(chan struct{}),
		hist: newCommitObserver()}
	l.wake.L = &l.mu
	l.batch.l = l
	go l.run()
	return l
}

// Begin implements engine.Log.
func (l *commitLog) Begin() engine.Batch {
	l.mu.Lock()
	l.batch.start = len(l.cur.recs)
	l.batch.startBuf = len(l.cur.buf)
	return &l.batch
}

// batch records into the current group; l.mu is held from Begin to Commit.
type batch struct {
	l               *commitLog
	start, startBuf int
}

func (b *batch) put(key func([]byte) []byte, val func([]byte) []byte, exp uint64) {
	g := b.l.cur
	off := len(g.buf)
	g.buf = key(g.buf)
	klen := len(g.buf) - off
	g.buf = val(g.buf)
	g.recs = append(g.recs, record{off: uint32(off), klen: uint32(klen), vlen: uint32(len(g.buf) - off - klen), expiresAt: exp})
}

func (b *batch) del(key func([]byte) []byte) {
	g := b.l.cur
	off := len(g.buf)
	g.buf = key(g.buf)
	g.recs = append(g.recs, record{off: uint32(off), klen: uint32(len(g.buf) - off), del: true})
}

func (b *batch) PutQueue(project, queue string, rec *engine.QueueRec) {
	b.put(func(k []byte) []byte { return appendScope(k, kindQueue, project, queue) },
		func(v []byte) []byte { return appendQueueValue(v, rec) }, 0)
}

func (b *batch) DeleteQueue(project, queue string) {
	b.del(func(k []byte) []byte { return appendScope(k, kindQueue, project, queue) })
}

func (b *batch) PutMessage(project, queue string, m *engine.Msg, body []byte) {
	if m.Seq >= b.l.leaseEnd {
		b.l.leaseEnd = m.Seq + leaseStep
		end := b.l.leaseEnd
		b.put(func(k []byte) []byte { return append(k, keyLease...) },
			func(v []byte) []byte { return binary.BigEndian.AppendUint64(v, end) }, 0)
	}
	b.put(func(k []byte) []byte { return appendMessageKey(k, project, queue, m.Seq) },
		func(v []byte) []byte { return appendMessageValue(v, m, body) }, expiresAt(m.Expires))
}

func (b *batch) DeleteMessage(project, queue string, seq uint64) {
	b.del(func(k []byte) []byte { return appendMessageKey(k, project, queue, seq) })
}

func (b *batch) PutClaim(project, queue string, c *engine.ClaimRec) {
	b.put(func(k []byte) []byte { return append(appendScope(k, kindClaim, project, queue), c.ID...) },
		func(v []byte) []byte { return appendClaimValue(v, c) }, expiresAt(c.Expires))
}

func (b *batch) DeleteClaim(project, queue, id string) {
	b.del(func(k []byte) []byte { return append(appendScope(k, kindClaim, project, queue), id...) })
}

func (b *batch) PutSubscription(project string, s *engine.SubRec) {
	b.put(func(k []byte) []byte { return append(appendScope(k, kindSub, project, s.Queue), s.ID...) },
		func(v []byte) []byte { return appendSubValue(v, s) }, expiresAt(s.Expires))
}

func (b *batch) DeleteSubscription(project, queue, id string) {
	b.del(func(k []byte) []byte { return append(appendScope(k, kindSub, project, queue), id...) })
}

var closedTicket = engine.FailedTicket{Err: fmt.Errorf("badgerstore: %w", store.ErrClosed)}

type doneTicket struct{}

func (doneTicket) Wait() error { return nil }
func (doneTicket) Done() bool  { return true }

// Commit implements engine.Batch.
func (b *batch) Commit() engine.Ticket { return b.commit(false) }

// CommitDeferred implements engine.Batch.
func (b *batch) CommitDeferred() engine.Ticket { return b.commit(b.l.deferMax > 0) }

func (b *batch) commit(deferred bool) engine.Ticket {
	l := b.l
	g := l.cur
	defer l.mu.Unlock()
	if l.closed {
		g.recs, g.buf = g.recs[:b.start], g.buf[:b.startBuf]
		return closedTicket
	}
	if len(g.recs) == b.start {
		return doneTicket{}
	}
	g.starts = append(g.starts, b.start)
	switch {
	case !deferred:
		g.ready = true
		l.wake.Signal()
	case !g.ready && g.timer == nil:
		g.timer = time.AfterFunc(l.deferMax, func() { l.deferElapsed(g) })
	}
	return g
}

// Barrier implements engine.Log: the current group when it holds records, else the group being (or last)
// committed; tickets complete in order, so either completes after everything committed before.
func (l *commitLog) Barrier(deferred bool) engine.Ticket {
	l.mu.Lock()
	defer l.mu.Unlock()
	g := l.cur
	if len(g.recs) > 0 {
		// The group already has its timer (deferred batches) or is ready.
		if !deferred && !g.ready {
			g.ready = true
			l.wake.Signal()
		}
		return g
	}
	if l.last != nil {
		return l.last
	}
	return doneTicket{}
}

// deferElapsed makes g ready once its first deferred batch has waited deferMax for company.
func (l *commitLog) deferElapsed(g *group) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cur == g && !g.ready {
		g.ready = true
		l.wake.Signal()
	}
}

func (l *commitLog) run() {
	defer close(l.exited)
	for {
		l.mu.Lock()
		for !(len(l.cur.recs) > 0 && l.cur.ready) && !l.closed {
			l.wake.Wait()
		}
		if len(l.cur.recs) == 0 {
			l.mu.Unlock()
			return
		}
		g := l.cur
		if g.timer != nil {
			g.timer.Stop()
		}
		l.cur = newGroup()
		l.last = g
		failed := l.failed
		l.mu.Unlock()

		err := failed
		if err == nil {
			started := time.Now()
			if err = l.commit(g); err == nil {
				l.hist.observe(len(g.recs), time.Since(started))
			} else {
				err = fmt.Errorf("badgerstore: write: %w: %w", store.ErrUnavailable, err)
				l.mu.Lock()
				l.failed = err
				l.mu.Unlock()
			}
		}
		g.err = err
		groupBufs.Put(&group{buf: g.buf, recs: g.recs, starts: g.starts})
		g.buf, g.recs, g.starts = nil, nil, nil
		close(g.done)
	}
}

// commit writes g as one transaction, or as several in order when Badger finds it too big.
func (l *commitLog) commit(g *group) error {
	l.commitMu.Lock()
	defer l.commitMu.Unlock()
	entries := make([]badger.Entry, len(g.recs))
	for from := 0; from < len(g.recs); {
		next, err := l.commitPart(g, entries, from)
		if err != nil {
			return err
		}
		from = next
	}
	l.records.Add(int64(len(g.recs)))
	return nil
}

// commitPart commits the records of g from from on as one transaction: all of them if they fit, else the whole
// batches that fit, and returns where the next part starts. A cut inside a batch would let a failure between
// the parts (a crash, an I/O error) leave an operation half done, such as a pop whose messages are deleted
// though it failed; only a batch too big for a transaction on its own is cut inside.
//
// A batch that would not fit is seen coming: before its first record, its size is reckoned as Badger will
// reckon it (txnEstimate, never less), and the transaction ends there. Only a batch whose size was misjudged
// makes Badger refuse a record; the transaction is then built again without that batch's first records. Under
// a flood, when every group outgrows a transaction, waiting for the refusal rebuilt every other one.
func (l *commitLog) commitPart(g *group, entries []badger.Entry, from int) (next int, err error) {
	txn := l.db.NewTransaction(true)
	defer func() { txn.Discard() }()
	maxSize, maxCount := l.db.MaxBatchSize(), l.db.MaxBatchCount()
	size, count := int64(txnBaseSize), int64(1) // what Badger counts in a new transaction
	k, _ := slices.BinarySearch(g.starts, from+1)
	k-- // g.starts[k] is the start of the batch holding record from
	next = len(g.recs)
	for i := from; i < len(g.recs); i++ {
		if k+1 < len(g.starts) && g.starts[k+1] == i {
			k++
			end := len(g.recs)
			if k+1 < len(g.starts) {
				end = g.starts[k+1]
			}
			batchSize := int64(0)
			for j := i; j < end; j++ {
				batchSize += txnEstimate(g.recs[j])
			}
			if size+batchSize >= maxSize || count+int64(end-i) >= maxCount {
				next = i
				break
			}
		}
		err := setRecord(txn, g, entries, i)
		if err == nil {
			size += txnEstimate(g.recs[i])
			count++
			continue
		}
		if !errors.Is(err, badger.ErrTxnTooBig) || i == from {
			return 0, err
		}
		next = i
		// The start of the batch that did not fit: redo the transaction without its first records.
		if cut := g.starts[k]; cut > from && cut < i {
			txn.Discard()
			txn = l.db.NewTransaction(true)
			for j := from; j < cut; j++ {
				if err := setRecord(txn, g, entries, j); err != nil {
					return 0, err
				}
			}
			next = cut
		}
		break
	}
	return next, l.commitTxn(txn)
}

// txnBaseSize is at least what a new Badger transaction counts before its first entry (its commit mark's key).
const txnBaseSize = 64

// txnEstimate is at least what Badger counts against a transaction's size for a record: the key, the value
// or its 12-byte pointer, 2 bytes of metadata and 10 for the version.
func txnEstimate(r record) int64 {
	return int64(r.klen) + int64(max(r.vlen, 12)) + 12
}

// setRecord adds record i of g to txn, using entries[i] for its entry.
func setRecord(txn *badger.Txn, g *group, entries []badger.Entry, i int) error {
	r := g.recs[i]
	k := g.buf[r.off : r.off+r.klen : r.off+r.klen]
	if r.del {
		return txn.Delete(k)
	}
	v := g.buf[r.off+r.klen : r.off+r.klen+r.vlen : r.off+r.klen+r.vlen]
	entries[i] = badger.Entry{Key: k, Value: v, ExpiresAt: r.expiresAt}
	return txn.SetEntry(&entries[i])
}

func (l *commitLog) commitTxn(txn *badger.Txn) error {
	if l.beforeTxnCommit != nil {
		if err := l.beforeTxnCommit(); err != nil {
			return err
		}
	}
	if err := txn.Commit(); err != nil {
		return err
	}
	l.groups.Add(1)
	return nil
}

// close stops accepting batches, lets the committer write what was submitted, and waits for it.
func (l *commitLog) close() {
	l.mu.Lock()
	l.closed = true
	l.wake.Signal()
	l.mu.Unlock()
	<-l.exited
}

// paused runs fn while no group is being committed.
func (l *commitLog) paused(fn func() error) error {
	l.commitMu.Lock()
	defer l.commitMu.Unlock()
	return fn()
}
