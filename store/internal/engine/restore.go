package engine

import (
	"slices"
	"strings"
)

// Restorer loads persisted state into a new engine before it serves calls (and before its reaper starts). It
// is not safe for concurrent use. Records must come in this order: queues, claims, messages, subscriptions.
type Restorer struct {
	e       *Engine
	last    *queue
	next    uint64
	orphans int
}

// Restore starts restoring state into e. (A function rather than a method, so that stores embedding *Engine
// do not export it.)
func Restore(e *Engine) *Restorer { return &Restorer{e: e, next: e.seq.Load()} }

func (r *Restorer) queue(project, name string, created int64) *queue {
	if q := r.last; q != nil && q.project == project && q.name == name {
		return q
	}
	q := r.e.lookup(project, name)
	if q == nil {
		// A message or claim without its queue record: keep it, under a queue with empty metadata.
		q, _ = r.e.newQueueLocked(project, name, nil, created, false)
		q.mu.Unlock()
		r.orphans++
	}
	r.last = q
	return q
}

// Queue restores a queue record.
func (r *Restorer) Queue(project, name string, rec QueueRec) {
	if q, ok := r.e.newQueueLocked(project, name, rec.Metadata, rec.Created, false); ok {
		q.mu.Unlock()
	}
}

// Claim restores a claim record; its messages join it as they are restored.
func (r *Restorer) Claim(project, name string, c ClaimRec) {
	q := r.queue(project, name, c.Updated)
	q.claims[c.ID] = &claim{ClaimRec: c}
}

// Message restores a message. A message whose claim record is gone has seen that claim end, so its claim
// expiry is cleared; otherwise it takes the claim's (renewals only rewrite the claim record).
func (r *Restorer) Message(project, name string, m *Msg) {
	q := r.queue(project, name, m.Created)
	m.heapIdx = -1
	if m.ClaimID != "" {
		m.ClaimExpires = 0
		if c := q.claims[m.ClaimID]; c != nil {
			m.ClaimExpires = c.Expires
			c.msgs = append(c.msgs, m.Seq)
		}
	}
	q.insert(m)
	r.next = max(r.next, m.Seq+1)
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

// Finish drops claims left without messages, orders subscriptions, and sets the next sequence past every
// restored message and to at least minNextSeq. It returns how many queues were made up for orphaned records.
func (r *Restorer) Finish(minNextSeq uint64) (orphanQueues int) {
	e := r.e
	for _, p := range e.projects {
		for _, q := range p.queues {
			for id, c := range q.claims {
				if len(c.msgs) == 0 {
					delete(q.claims, id)
				}
			}
		}
	}
	for _, set := range e.subs {
		slices.SortFunc(set.subs, func(a, b *SubRec) int { return strings.Compare(a.ID, b.ID) })
	}
	e.seq.Store(max(r.next, minNextSeq))
	return r.orphans
}
