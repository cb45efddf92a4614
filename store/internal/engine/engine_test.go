package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/zedge-io/zedge/store"
)

// gateLog is a Log whose tickets the test completes by hand, in order.
type gateLog struct {
	mu      sync.Mutex
	tickets []*gateTicket
	// firstDoneLies makes every ticket report not done on its first Done call, as if it completed right after.
	firstDoneLies bool
	// autoComplete completes tickets at Commit (keeping the lie above).
	autoComplete bool
	records      atomic.Int64
	start        int64
	deleted      []uint64     // sequences of DeleteMessage records, guarded by mu
	deferred     atomic.Int32 // CommitDeferred calls
}

type gateTicket struct {
	ch        chan struct{}
	err       error
	doneCalls atomic.Int32
	lie       bool
}

func (t *gateTicket) Wait() error { <-t.ch; return t.err }
func (t *gateTicket) Done() bool {
	if t.doneCalls.Add(1) == 1 && t.lie {
		return false
	}
	select {
	case <-t.ch:
		return true
	default:
		return false
	}
}

func (l *gateLog) Begin() Batch { l.mu.Lock(); l.start = l.records.Load(); return gateBatch{l} }

// Barrier returns the last ticket handed out: tickets complete in order.
func (l *gateLog) Barrier(bool) Ticket {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.tickets) == 0 {
		return doneTicket{}
	}
	return l.tickets[len(l.tickets)-1]
}

type gateBatch struct{ l *gateLog }

func (b gateBatch) PutQueue(string, string, *QueueRec)      { b.l.records.Add(1) }
func (b gateBatch) DeleteQueue(string, string)              { b.l.records.Add(1) }
func (b gateBatch) PutMessage(string, string, *Msg, []byte) { b.l.records.Add(1) }
func (b gateBatch) DeleteMessage(_, _ string, seq uint64) {
	b.l.records.Add(1)
	b.l.deleted = append(b.l.deleted, seq)
}
func (b gateBatch) PutClaim(string, string, *ClaimRec)        { b.l.records.Add(1) }
func (b gateBatch) DeleteClaim(string, string, string)        { b.l.records.Add(1) }
func (b gateBatch) PutSubscription(string, *SubRec)           { b.l.records.Add(1) }
func (b gateBatch) DeleteSubscription(string, string, string) { b.l.records.Add(1) }
func (b gateBatch) CommitDeferred() Ticket {
	b.l.deferred.Add(1)
	return b.Commit()
}
func (b gateBatch) Commit() Ticket {
	defer b.l.mu.Unlock()
	if b.l.records.Load() == b.l.start {
		return doneTicket{} // nothing to persist
	}
	t := &gateTicket{ch: make(chan struct{}), lie: b.l.firstDoneLies}
	b.l.tickets = append(b.l.tickets, t)
	if b.l.autoComplete {
		close(t.ch)
	}
	return t
}

// complete completes the first n tickets not yet completed, in order, with err.
func (l *gateLog) complete(n int, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, t := range l.tickets {
		if n == 0 {
			return
		}
		select {
		case <-t.ch:
			continue
		default:
		}
		t.err = err
		close(t.ch)
		n--
	}
}

func (l *gateLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.tickets)
}

var bg = context.Background()

func one(body string) []store.NewMessage {
	return []store.NewMessage{{Body: []byte(body), TTL: time.Hour}}
}

func listAll(t *testing.T, e *Engine, now time.Time) []string {
	t.Helper()
	page, err := e.ListMessages(bg, "p", "q", store.MessageQuery{Limit: 100, Echo: true, IncludeClaimed: true, IncludeDelayed: true}, now)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range page.Messages {
		out = append(out, string(m.Body))
	}
	return out
}

// A ticket that completes between the post's unlock and its check must still be flushed before the post
// returns: the post's messages are visible to its caller at once.
func TestPostVisibleOnReturn(t *testing.T) {
	l := &gateLog{firstDoneLies: true, autoComplete: true}
	e := New(Options{Log: l})
	defer e.Close()
	now := time.Now()
	for i := range 20 {
		ids, err := e.PostMessages(bg, "p", "q", one(fmt.Sprint(i)), now)
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.GetMessages(bg, "p", "q", ids, now)
		if err != nil || len(got) != 1 {
			t.Fatalf("post %d: message not visible when PostMessages returned (%d found, %v)", i, len(got), err)
		}
	}
}

// A write under store.WithDeferredCommit reaches the Log as a deferred commit; other writes do not.
func TestDeferredCommitReachesLog(t *testing.T) {
	l := &gateLog{autoComplete: true}
	e := New(Options{Log: l})
	defer e.Close()
	now := time.Now()
	ids, err := e.PostMessages(bg, "p", "q", append(one("a"), one("b")...), now)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.DeleteMessage(bg, "p", "q", ids[0], "", now); err != nil {
		t.Fatal(err)
	}
	if n := l.deferred.Load(); n != 0 {
		t.Fatalf("%d deferred commits without WithDeferredCommit", n)
	}
	deferred := store.WithDeferredCommit(bg)
	if err := e.DeleteMessage(deferred, "p", "q", ids[1], "", now); err != nil {
		t.Fatal(err)
	}
	if _, err := e.PostMessages(deferred, "p", "r", one("c"), now); err != nil {
		t.Fatal(err)
	}
	if n := l.deferred.Load(); n != 2 {
		t.Fatalf("deferred commits = %d, want 2 (a delete and a post)", n)
	}
}

// Posted messages stay invisible until durable, and become visible in post order even when a later post's
// caller wakes first.
func TestPostVisibleOnlyWhenDurableInOrder(t *testing.T) {
	l := &gateLog{}
	e := New(Options{Log: l})
	defer e.Close()
	now := time.Now()
	// The queue's creation is the first ticket.
	done := make(chan error, 2)
	go func() { _, err := e.PostMessages(bg, "p", "q", one("a"), now); done <- err }()
	for l.count() < 2 {
		time.Sleep(time.Millisecond)
	}
	go func() { _, err := e.PostMessages(bg, "p", "q", one("b"), now); done <- err }()
	for l.count() < 3 {
		time.Sleep(time.Millisecond)
	}
	if got := listAll(t, e, now); len(got) != 0 {
		t.Fatalf("listed %v before anything was durable", got)
	}
	if res, _ := e.CreateClaim(bg, "p", "q", store.ClaimSpec{TTL: time.Minute, Grace: time.Minute, Limit: 10}, now); len(res.Messages) != 0 {
		t.Fatal("claimed a message that was not durable")
	}
	l.complete(3, nil)
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if got := listAll(t, e, now); fmt.Sprint(got) != "[a b]" {
		t.Fatalf("listed %v, want [a b]", got)
	}
}

// A failed write fails the call, leaves nothing visible, and fails every later call until restart.
func TestWriteFailureIsSticky(t *testing.T) {
	l := &gateLog{}
	e := New(Options{Log: l})
	defer e.Close()
	now := time.Now()
	errc := make(chan error, 1)
	go func() { _, err := e.PostMessages(bg, "p", "q", one("a"), now); errc <- err }()
	for l.count() < 2 {
		time.Sleep(time.Millisecond)
	}
	l.complete(1, nil)
	l.complete(1, fmt.Errorf("disk on fire: %w", store.ErrUnavailable))
	if err := <-errc; !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("post = %v, want ErrUnavailable", err)
	}
	if err := e.Health(bg); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("health = %v", err)
	}
	if _, err := e.ListMessages(bg, "p", "q", store.MessageQuery{Limit: 1}, now); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("list after failure = %v", err)
	}
	// A Log error that does not say ErrUnavailable is wrapped so that it does.
	l2 := &gateLog{autoComplete: true}
	e2 := New(Options{Log: l2})
	defer e2.Close()
	_, err := e2.CreateQueue(bg, "p", "q", nil, now)
	if err != nil {
		t.Fatal(err)
	}
	l2.autoComplete = false
	go func() { _, err := e2.PostMessages(bg, "p", "q", one("a"), now); errc <- err }()
	for l2.count() < 2 {
		time.Sleep(time.Millisecond)
	}
	l2.complete(1, errors.New("plain"))
	if err := <-errc; !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("post = %v, want ErrUnavailable", err)
	}
}

// Deleting a queue while a post to it waits for durability deletes the post's messages too (they were
// written before the deletion), and the post, once durable, does not bring them back.
func TestDeleteQueueWithPendingPost(t *testing.T) {
	l := &gateLog{}
	e := New(Options{Log: l})
	defer e.Close()
	now := time.Now()
	posted := make(chan []string, 1)
	go func() {
		ids, err := e.PostMessages(bg, "p", "q", one("a"), now)
		if err != nil {
			t.Error(err)
		}
		posted <- ids
	}()
	for l.count() < 2 {
		time.Sleep(time.Millisecond)
	}
	deleted := make(chan error, 1)
	go func() { deleted <- e.DeleteQueue(bg, "p", "q") }()
	for l.count() < 3 {
		time.Sleep(time.Millisecond)
	}
	l.complete(3, nil)
	ids := <-posted
	if err := <-deleted; err != nil {
		t.Fatal(err)
	}
	seq, _ := ParseID(ids[0])
	l.mu.Lock()
	recorded := fmt.Sprint(l.deleted)
	l.mu.Unlock()
	if recorded != fmt.Sprint([]uint64{seq}) {
		t.Fatalf("deleted records %s, want [%d]", recorded, seq)
	}
	if got := listAll(t, e, now); len(got) != 0 {
		t.Fatalf("listed %v after the queue was deleted", got)
	}
	if _, err := e.GetQueue(bg, "p", "q"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetQueue = %v", err)
	}
}

// TestMsgBody checks the compact body field: nil (not kept), empty and non-empty bodies round-trip, and the
// zero Msg keeps none (restored messages rely on it).
func TestMsgBody(t *testing.T) {
	for _, body := range [][]byte{nil, {}, []byte("x"), []byte(`{"a":1}`)} {
		var m Msg
		m.SetBody(body)
		got := m.Body()
		if (got == nil) != (body == nil) || string(got) != string(body) {
			t.Errorf("SetBody(%q): Body() = %q (nil %v)", body, got, got == nil)
		}
	}
	if (&Msg{}).Body() != nil {
		t.Error("the zero Msg has a body")
	}
	if size := unsafe.Sizeof(Msg{}); size > 112 {
		t.Errorf("Msg is %d bytes; the size-class budget is 112", size)
	}
}
