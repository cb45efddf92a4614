package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/btree"
	"github.com/zedge-io/zedge/store"
)

// Options configures an Engine.
type Options struct {
	// Log persists changes; nil keeps everything in memory only.
	Log Log
	// Bodies reads bodies back from storage; nil means the engine keeps every body in memory.
	Bodies BodyLoader
	// BodyMemoryMax is, when Bodies is set, the largest body kept in memory as well; larger ones are read back
	// through Bodies when needed. Zero keeps no body in memory.
	BodyMemoryMax int
	// FirstSeq is the first message sequence to hand out (restored engines pass one past every sequence ever
	// used). Zero means 1.
	FirstSeq uint64
	// ReapInterval is how often expired entries are dropped from memory; zero disables the reaper goroutine
	// (operations still drop the expired messages of the queue they touch).
	ReapInterval time.Duration
	// WallClockExpiry makes the reaper use at least the wall clock, for backends whose storage expires data by
	// wall time anyway.
	WallClockExpiry bool
	// Logger receives reaper diagnostics; nil discards.
	Logger *slog.Logger
	// DeleteExpired makes the reaper write a delete record for each message it found expired (and each claim it
	// found ended), for a backend whose storage would otherwise keep expired data on disk long after it expired
	// (Badger drops an expired key only when a compaction happens to rewrite its table).
	DeleteExpired bool
}

// Engine implements the store.Store semantics in memory. It is safe for concurrent use.
type Engine struct {
	log        Log
	bodies     BodyLoader
	bodyMax    int // bodies up to this size stay in memory; -1: all
	wallClock  bool
	logger     *slog.Logger
	delExpired bool

	seq atomic.Uint64 // the next sequence number

	mu       sync.RWMutex
	projects map[string]*project

	subMu sync.Mutex
	subs  map[subKey]*subSet

	lastNow atomic.Int64
	closed  atomic.Bool
	expired expiryCount
	failed  atomic.Pointer[error]

	stop     chan struct{}
	reaperWG sync.WaitGroup
}

type project struct {
	queues map[string]*queue
	byName *btree.BTreeG[*queue]
}

// msgLess orders a queue's tree by sequence. The tree holds the *Msg itself (8 bytes per entry rather than a
// copied sequence and a pointer): with append-only posts the B-tree's nodes stay about half full, so each byte
// of entry costs about two per message.
func msgLess(a, b *Msg) bool { return a.Seq < b.Seq }

type queue struct {
	mu      sync.Mutex
	project string
	name    string
	created int64
	meta    atomic.Pointer[[]byte]
	deleted bool
	createT Ticket

	msgs    *btree.BTreeG[*Msg]
	probe   Msg // a search key for msgs (only Seq is set); guarded by mu
	expiry  expiryHeap
	claims  map[string]*claim
	pending []pendingPost
	expired *expiryCount // the engine's, shared by its queues
	// reaped holds the sequences of expired messages dropped from memory whose delete records the reaper has
	// yet to write (only with Options.DeleteExpired).
	reaped []uint64
	// reapedClaims likewise holds the ids of ended claims dropped from memory (only with DeleteExpired).
	reapedClaims []string
	delReaped    bool

	// Every message with a sequence below freeFrom is unclaimable until freeUntil (a claim ends or a delay
	// elapses); claims and pops start there. freeFrom 0 means "scan from the head".
	freeFrom  uint64
	freeUntil int64
}

type pendingPost struct {
	t    Ticket
	msgs []*Msg // dead-lettered messages
	recs []Msg  // a post's messages: its record array itself, which saves a slice of pointers per post
}

// each calls fn for every message of p, in order.
func (p *pendingPost) each(fn func(*Msg)) {
	for _, m := range p.msgs {
		fn(m)
	}
	for i := range p.recs {
		fn(&p.recs[i])
	}
}

type claim struct {
	ClaimRec
	msgs []uint64
}

// New builds an engine and starts its reaper.
func New(opts Options) *Engine {
	e := &Engine{
		log:        opts.Log,
		bodies:     opts.Bodies,
		bodyMax:    opts.BodyMemoryMax,
		wallClock:  opts.WallClockExpiry,
		logger:     opts.Logger,
		delExpired: opts.DeleteExpired,
		projects:   make(map[string]*project),
		subs:       make(map[subKey]*subSet),
		stop:       make(chan struct{}),
	}
	if e.log == nil {
		e.log = nopLog{}
	}
	if e.bodies == nil {
		e.bodyMax = -1
	}
	if e.logger == nil {
		e.logger = slog.New(slog.DiscardHandler)
	}
	first := opts.FirstSeq
	if first == 0 {
		first = 1
	}
	e.seq.Store(first)
	StartReaper(e, opts.ReapInterval)
	return e
}

// StartReaper starts e's reaper goroutine (a no-op for a non-positive interval). Backends that restore state
// build the engine without a reaper and start it once restoring is done. (A function rather than a method, so
// that stores embedding *Engine do not export it.)
func StartReaper(e *Engine, every time.Duration) {
	if every <= 0 {
		return
	}
	e.reaperWG.Add(1)
	go e.reapLoop(every)
}

// Close stops the reaper and makes every later call fail with store.ErrClosed. It does not close the Log.
// A second Close returns store.ErrClosed.
func (e *Engine) Close() error {
	if !e.closed.CompareAndSwap(false, true) {
		return store.ErrClosed
	}
	close(e.stop)
	e.reaperWG.Wait()
	return nil
}

// Health reports store.ErrClosed after Close and the persistence failure after a failed write.
func (e *Engine) Health(ctx context.Context) error {
	if e.closed.Load() {
		return store.ErrClosed
	}
	if p := e.failed.Load(); p != nil {
		return *p
	}
	return ctx.Err()
}

// enter is the gate of every call: closed, failed or cancelled calls stop here. It also advances the reaper's
// clock.
func (e *Engine) enter(ctx context.Context, now time.Time) error {
	if e.closed.Load() {
		return store.ErrClosed
	}
	if p := e.failed.Load(); p != nil {
		return *p
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if !now.IsZero() {
		n := now.UnixNano()
		// Only move the shared clock when it is noticeably behind, to keep its cache line quiet.
		if last := e.lastNow.Load(); n > last+int64(10*time.Millisecond) {
			e.lastNow.CompareAndSwap(last, n)
		}
	}
	return nil
}

// wait waits for a ticket; a persistence failure fails the engine for good.
func (e *Engine) wait(t Ticket) error {
	err := t.Wait()
	if err == nil {
		return nil
	}
	if errors.Is(err, store.ErrClosed) {
		return err
	}
	if !errors.Is(err, store.ErrUnavailable) {
		err = fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	e.failed.CompareAndSwap(nil, &err)
	return err
}

func (e *Engine) nextSeq() uint64 { return e.seq.Add(1) - 1 }

func newQueue(project, name string, created int64, meta []byte) *queue {
	q := &queue{
		project: project,
		name:    name,
		created: created,
		msgs:    btree.NewG(32, msgLess),
		claims:  make(map[string]*claim),
		createT: doneTicket{},
	}
	q.meta.Store(&meta)
	return q
}

func (q *queue) metadata() []byte { return *q.meta.Load() }

func (q *queue) export() store.Queue {
	return store.Queue{Name: q.name, Metadata: q.metadata(), Created: unixTime(q.created)}
}

// lookup returns the published queue or nil.
func (e *Engine) lookup(projectName, name string) *queue {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if p := e.projects[projectName]; p != nil {
		return p.queues[name]
	}
	return nil
}

// lockQueue returns the live queue, locked. With create it creates a missing queue with the given metadata
// (persisting it) and reports created; without create a missing queue gives nil.
func (e *Engine) lockQueue(projectName, name string, create bool, meta []byte, now int64) (q *queue, created bool) {
	for {
		if q = e.lookup(projectName, name); q != nil {
			q.mu.Lock()
			if !q.deleted {
				return q, false
			}
			q.mu.Unlock()
			continue
		}
		if !create {
			return nil, false
		}
		if q, created = e.createQueue(projectName, name, meta, now); q != nil {
			return q, created
		}
	}
}

// lockExisting returns the live queue locked, or nil if it does not exist.
func (e *Engine) lockExisting(project, name string) *queue {
	q, _ := e.lockQueue(project, name, false, nil, 0)
	return q
}

// createQueue creates and returns the queue locked, or returns nil if another caller created it first.
func (e *Engine) createQueue(projectName, name string, meta []byte, now int64) (*queue, bool) {
	return e.newQueueLocked(projectName, name, meta, now, true)
}

// newQueueLocked creates and returns the queue locked, recording it in the log when persist is set, or returns
// nil if the queue exists.
func (e *Engine) newQueueLocked(projectName, name string, meta []byte, now int64, persist bool) (*queue, bool) {
	if len(meta) == 0 {
		meta = []byte("{}")
	} else {
		meta = cloneBytes(meta)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.projects[projectName]
	if p == nil {
		p = &project{queues: make(map[string]*queue), byName: btree.NewG(16, func(a, b *queue) bool { return a.name < b.name })}
		e.projects[projectName] = p
	}
	if p.queues[name] != nil {
		return nil, false
	}
	q := newQueue(projectName, name, now, meta)
	q.expired = &e.expired
	q.delReaped = e.delExpired
	q.mu.Lock() // not yet published: cannot block
	p.queues[name] = q
	p.byName.ReplaceOrInsert(q)
	if persist {
		b := e.log.Begin()
		b.PutQueue(projectName, name, &QueueRec{Metadata: meta, Created: now})
		q.createT = b.Commit()
	}
	return q, true
}

// unpublish removes q from the maps; the caller holds q.mu and has persisted the deletion.
func (e *Engine) unpublish(q *queue) {
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.projects[q.project]
	if p == nil || p.queues[q.name] != q {
		return
	}
	delete(p.queues, q.name)
	p.byName.Delete(q)
	if len(p.queues) == 0 {
		delete(e.projects, q.project)
	}
	q.deleted = true
}

// --- message bookkeeping (caller holds q.mu) ---

func (q *queue) get(seq uint64) *Msg {
	m, _ := q.msgs.Get(q.key(seq))
	return m
}

// key returns a search key for seq in q.msgs; it is valid until the next call.
func (q *queue) key(seq uint64) *Msg {
	q.probe.Seq = seq
	return &q.probe
}

func (q *queue) insert(m *Msg) {
	q.msgs.ReplaceOrInsert(m)
	q.expiry.push(m)
}

// remove drops m from memory and from its claim (see detach).
func (q *queue) remove(m *Msg, b Batch) {
	q.msgs.Delete(m)
	q.expiry.remove(m)
	q.detach(m, b)
}

// reap drops the messages that expired by now from memory. Storage expires them by itself (or holds nothing).
func (q *queue) reap(now int64) {
	n := 0
	for {
		m := q.expiry.min()
		if m == nil || m.Expires > now {
			break
		}
		q.expiry.remove(m)
		q.msgs.Delete(m)
		if q.delReaped {
			q.reaped = append(q.reaped, m.Seq)
		}
		n++
	}
	if n > 0 && q.expired != nil {
		q.expired.add(q.project, q.name, n)
	}
}

// reapClaims drops ended claims from memory.
func (q *queue) reapClaims(now int64) {
	for id, c := range q.claims {
		if now >= c.Expires {
			delete(q.claims, id)
			if q.delReaped {
				q.reapedClaims = append(q.reapedClaims, id)
			}
		}
	}
}

// flushPending moves completed posts into the index, in order, stopping at the first incomplete one. Tickets
// complete in order, so a completed ticket means every earlier one has completed too.
func (q *queue) flushPending() {
	n := 0
	for ; n < len(q.pending); n++ {
		p := q.pending[n]
		if !p.t.Done() {
			break
		}
		if !q.deleted && p.t.Wait() == nil {
			p.each(q.insert)
		}
	}
	if n == 0 {
		return
	}
	rest := copy(q.pending, q.pending[n:])
	clear(q.pending[rest:])
	q.pending = q.pending[:rest]
}

// keepsBody reports whether a body of n bytes is kept in memory.
func (e *Engine) keepsBody(n int) bool { return e.bodyMax < 0 || n <= e.bodyMax }

// bodiesOf returns the bodies of msgs, reading those not kept in memory back from storage; a nil entry means
// the storage no longer has the message.
func (e *Engine) bodiesOf(q *queue, msgs []*Msg) ([][]byte, error) {
	out := make([][]byte, len(msgs))
	var seqs []uint64
	var missing []int
	for i, m := range msgs {
		if body := m.Body(); body != nil {
			out[i] = body
			continue
		}
		seqs = append(seqs, m.Seq)
		missing = append(missing, i)
	}
	if len(seqs) == 0 {
		return out, nil
	}
	loaded := make([][]byte, len(seqs))
	if err := e.bodies.LoadBodies(q.project, q.name, seqs, loaded); err != nil {
		if errors.Is(err, store.ErrClosed) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: reading message bodies: %w", store.ErrUnavailable, err)
	}
	for j, i := range missing {
		out[i] = loaded[j]
	}
	return out, nil
}

type subKey struct{ project, queue string }

// subSet holds a queue's subscriptions ordered by ID.
type subSet struct {
	subs []*SubRec
}
