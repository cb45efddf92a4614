package engine

import (
	"slices"

	"github.com/zedge-io/zedge/store"
)

// Restorer loads persisted state into a new engine before it serves calls. It is not safe for concurrent use.
// Records may come in any order; Finish links claims to their messages.
type Restorer struct {
	e      *Engine
	claims map[subKey]map[string]*ClaimRec
	msgs   []restoredMsg
}

type restoredMsg struct {
	project, queue string
	m              *Msg
}

// Restore starts restoring state into e.
func (e *Engine) Restore() *Restorer {
	return &Restorer{e: e, claims: make(map[subKey]map[string]*ClaimRec)}
}

func (r *Restorer) queue(project, name string, created int64) *queue {
	if q := r.e.lookup(project, name); q != nil {
		return q
	}
	q, _ := r.e.createQueueQuiet(project, name, nil, created)
	return q
}

// Queue restores a queue record.
func (r *Restorer) Queue(project, name string, rec QueueRec) {
	q := r.e.lookup(project, name)
	if q == nil {
		r.e.createQueueQuiet(project, name, rec.Metadata, rec.Created)
		return
	}
	meta := cloneBytes(rec.Metadata)
	q.meta.Store(&meta)
	q.created = rec.Created
}

// Message restores a message (its ClaimExpires is recomputed by Finish).
func (r *Restorer) Message(project, name string, m *Msg) {
	m.heapIdx = -1
	r.msgs = append(r.msgs, restoredMsg{project, name, m})
}

// Claim restores a claim record.
func (r *Restorer) Claim(project, name string, c ClaimRec) {
	key := subKey{project, name}
	if r.claims[key] == nil {
		r.claims[key] = make(map[string]*ClaimRec)
	}
	r.claims[key][c.ID] = &c
}

// Subscription restores a subscription.
func (r *Restorer) Subscription(project string, s SubRec) {
	key := subKey{project, s.Queue}
	set := r.e.subs[key]
	if set == nil {
		set = &subSet{}
		r.e.subs[key] = set
	}
	set.subs = append(set.subs, &s)
}

// Finish links messages and claims, orders subscriptions and sets the next sequence to at least minNextSeq and
// past every restored message. It reports queues created for messages whose queue record was missing.
func (r *Restorer) Finish(minNextSeq uint64) (orphanQueues int) {
	e := r.e
	next := max(minNextSeq, e.seq.Load())
	before := 0
	for _, p := range e.projects {
		before += len(p.queues)
	}
	for _, rm := range r.msgs {
		q := r.queue(rm.project, rm.queue, rm.m.Created)
		m := rm.m
		if m.ClaimID != "" {
			m.ClaimExpires = 0 // the claim has ended unless its record is there
			if cr := r.claims[subKey{rm.project, rm.queue}][m.ClaimID]; cr != nil {
				m.ClaimExpires = cr.Expires
				c := q.claims[cr.ID]
				if c == nil {
					c = &claim{ClaimRec: *cr}
					q.claims[cr.ID] = c
				}
				c.msgs = append(c.msgs, m.Seq)
			}
		}
		q.insert(m)
		next = max(next, m.Seq+1)
	}
	for _, p := range e.projects {
		for _, q := range p.queues {
			for _, c := range q.claims {
				slices.Sort(c.msgs)
			}
		}
	}
	after := 0
	for _, p := range e.projects {
		after += len(p.queues)
	}
	for _, set := range e.subs {
		slices.SortFunc(set.subs, func(a, b *SubRec) int {
			switch {
			case a.ID < b.ID:
				return -1
			case a.ID > b.ID:
				return 1
			}
			return 0
		})
	}
	e.seq.Store(next)
	r.msgs, r.claims = nil, nil
	return after - before
}

// createQueueQuiet creates a queue without persisting it (restoring).
func (e *Engine) createQueueQuiet(project, name string, meta []byte, created int64) (*queue, bool) {
	q, ok := e.newQueueLocked(project, name, meta, created, false)
	if q != nil {
		q.mu.Unlock()
	}
	return q, ok
}

var _ store.Queues = (*Engine)(nil)
