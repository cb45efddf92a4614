package engine

import "time"

func (e *Engine) reapLoop(every time.Duration) {
	defer e.reaperWG.Done()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-tick.C:
			e.Reap()
		}
	}
}

// reapClock is the time expiry is judged by in the background: the latest now any caller passed, or the wall
// clock when storage expires data by wall time and it is later.
func (e *Engine) reapClock() int64 {
	n := e.lastNow.Load()
	if e.wallClock {
		n = max(n, time.Now().UnixNano())
	}
	return n
}

// Reap drops expired messages, claims and subscriptions from memory. The reaper goroutine calls it; it is
// exported for tests and for backends that want to reap at a moment of their choosing.
func (e *Engine) Reap() {
	now := e.reapClock()
	e.mu.RLock()
	var qs []*queue
	for _, p := range e.projects {
		for _, q := range p.queues {
			qs = append(qs, q)
		}
	}
	e.mu.RUnlock()
	for _, q := range qs {
		q.mu.Lock()
		if !q.deleted {
			q.reap(now)
			q.reapClaims(now)
			e.deleteReaped(q)
		}
		q.mu.Unlock()
	}
	e.subMu.Lock()
	for key, set := range e.subs {
		set.prune(now)
		if len(set.subs) == 0 {
			delete(e.subs, key)
		}
	}
	e.subMu.Unlock()
}

// deleteReaped writes the delete records of q's reaped messages and claims in one batch (q.mu held). The
// ticket is not waited for: they are gone from memory already, and a failed write fails the Log for every
// later call anyway.
func (e *Engine) deleteReaped(q *queue) {
	if len(q.reaped) == 0 && len(q.reapedClaims) == 0 {
		return
	}
	b := e.log.Begin()
	q.recordReaped(b)
	b.CommitDeferred() // nobody waits on it: it may as well share the next commit
}

// recordReaped records the deletion of q's reaped messages and claims in b and forgets them.
func (q *queue) recordReaped(b Batch) {
	for _, seq := range q.reaped {
		b.DeleteMessage(q.project, q.name, seq)
	}
	for _, id := range q.reapedClaims {
		b.DeleteClaim(q.project, q.name, id)
	}
	if cap(q.reaped) > 4096 {
		q.reaped = nil // a burst of expiries need not keep its buffer
	} else {
		q.reaped = q.reaped[:0]
	}
	q.reapedClaims = nil
}
