package bridge

import (
	"errors"
	"sync"

	"github.com/zedge-io/zedge/broker"
)

// Telemetry batching. Every telemetry publish, QoS 0 or 1, is stored by its own connection goroutine, which waits
// for the result before the PUBACK (or, at QoS 0, before reading on). Publishes for one queue that arrive while a
// post to that queue is under way wait together and go into the next post as one batch (flat combining): one
// Service call, one store write, one observer event for all of them, instead of one each. Nothing waits for a
// batch to fill: a publish finding no post under way posts at once, alone. Each publisher still gets its own
// answer: its PUBACK follows the post that stored its reading, so "stored before PUBACK" holds for every one.
//
// The waiting publishes of a queue are posted by one of them, the leader; when its post is done it answers
// the others and hands the lead to the first publish that arrived meanwhile, which posts the next batch. So
// each goroutine posts at most one batch, and a busy queue never keeps one connection's PUBACK waiting on
// others' posts.

// maxIngestBatch bounds the messages in one post (besides the Service's post size limit).
const maxIngestBatch = 64

// ingestReq is one publish on its way into a queue.
type ingestReq struct {
	body []byte             // the envelope (a pooled buffer)
	msg  broker.BodyMessage // body, ttl and poster
	size int                // the message's share of the post size (postShare)
	err  error
	lead bool          // woken to post the next batch, not with a result
	done chan struct{} // one send per wake-up
}

func newIngestReq() any {
	return &ingestReq{body: make([]byte, 0, 512), done: make(chan struct{}, 1)}
}

// batcher is the state of one queue with a post under way (guarded by batches.mu). It is dropped when its
// queue has no post under way, so idle queues cost nothing.
type batcher struct {
	waiting []*ingestReq
}

// batches holds the batchers of queues with a post under way.
type batches struct {
	mu sync.Mutex
	m  map[queueKey]*batcher
}

// postBatched stores r's message in key's queue and returns its own result.
func (b *Bridge) postBatched(key queueKey, r *ingestReq) error {
	r.err, r.lead = nil, false
	r.size = postShare(r.msg)
	bs := &b.batches
	bs.mu.Lock()
	bt, busy := bs.m[key]
	if !busy {
		bt = &batcher{}
		bs.m[key] = bt
		bs.mu.Unlock()
		b.lead(key, bt, r)
		return r.err
	}
	bt.waiting = append(bt.waiting, r)
	bs.mu.Unlock()
	<-r.done
	if r.lead {
		b.lead(key, bt, r)
	}
	return r.err
}

// lead posts first and whatever waits behind it for the queue (as much as one post takes), answers each, and
// hands the lead on or, when nothing waits, retires the queue's batcher.
func (b *Bridge) lead(key queueKey, bt *batcher, first *ingestReq) {
	bs := &b.batches
	limit := b.svc.Limits().MaxMessagesPostSize
	batch := b.batchBufs.Get().(*[]*ingestReq)
	reqs := append((*batch)[:0], first)
	size := postOverhead + first.size
	bs.mu.Lock()
	n := 0
	for _, w := range bt.waiting {
		if len(reqs) == maxIngestBatch || size+w.size > limit {
			break
		}
		reqs = append(reqs, w)
		size += w.size
		n++
	}
	bt.waiting = bt.waiting[:copy(bt.waiting, bt.waiting[n:])]
	bs.mu.Unlock()

	b.post(key, reqs)

	// Answer the batch (first is the caller itself), then pass the lead on.
	for _, r := range reqs[1:] {
		r.done <- struct{}{}
	}
	clear(reqs)
	*batch = reqs[:0]
	b.batchBufs.Put(batch)
	bs.mu.Lock()
	if len(bt.waiting) == 0 {
		delete(bs.m, key)
		bs.mu.Unlock()
		return
	}
	next := bt.waiting[0]
	bt.waiting = bt.waiting[:copy(bt.waiting, bt.waiting[1:])]
	bs.mu.Unlock()
	next.lead = true
	next.done <- struct{}{}
}

// post stores reqs in one Service call and sets each one's err. When the Service refuses a batch of several
// for what one message may cause (its body, ttl or size), each is posted alone so that one bad message does
// not refuse the others; a store failure is every message's.
func (b *Bridge) post(key queueKey, reqs []*ingestReq) {
	b.count(cIngestPosts)
	if len(reqs) == 1 {
		_, reqs[0].err = b.svc.PostBodies(b.ctx, key.project, key.queue, []broker.BodyMessage{reqs[0].msg})
		return
	}
	msgsp := b.msgBufs.Get().(*[]broker.BodyMessage)
	msgs := (*msgsp)[:0]
	for _, r := range reqs {
		msgs = append(msgs, r.msg)
	}
	_, err := b.svc.PostBodies(b.ctx, key.project, key.queue, msgs)
	clear(msgs)
	*msgsp = msgs[:0]
	b.msgBufs.Put(msgsp)
	if err != nil && (errors.Is(err, broker.ErrBadBody) || errors.Is(err, broker.ErrInvalid)) {
		b.count(cIngestSplit)
		for _, r := range reqs {
			b.count(cIngestPosts)
			_, r.err = b.svc.PostBodies(b.ctx, key.project, key.queue, []broker.BodyMessage{r.msg})
		}
		return
	}
	for _, r := range reqs {
		r.err = err
	}
}

// postOverhead and postShare count a batch's size as broker.PostBodies does (the PostMessages body that would
// carry it): {"messages":[]} plus, per message, {"ttl":N,"body":...} and a comma.
const postOverhead = len(`{"messages":[]}`)

func postShare(m broker.BodyMessage) int {
	n := len(`{"body":},`) + len(m.Body)
	if m.TTL != 0 {
		n += len(`"ttl":,`) + digits(m.TTL)
	}
	return n
}

func digits(n int) int {
	d := 1
	if n < 0 {
		n, d = -n, 2
	}
	for ; n >= 10; n /= 10 {
		d++
	}
	return d
}
