package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/zedge-io/zedge/store"
)

// CreateClaim implements store.Claims.
func (e *Engine) CreateClaim(ctx context.Context, project, name string, spec store.ClaimSpec, now time.Time) (store.ClaimResult, error) {
	var res store.ClaimResult
	res.Messages = []store.Message{}
	if err := e.enter(ctx, now); err != nil {
		return res, err
	}
	if spec.Limit <= 0 {
		return res, nil
	}
	n := now.UnixNano()
	deadLettering := spec.MaxClaimCount > 0 && spec.DeadLetterQueue != ""
	maxCount := int32(min(spec.MaxClaimCount, 1<<31-1))

	var q, dq *queue
	var sel selection
	for {
		q = e.lockExisting(project, name)
		if q == nil {
			return res, nil
		}
		q.reap(n)
		sel = q.selectFree(n, spec.Limit)
		if !deadLettering || spec.DeadLetterQueue == name || !anyAtCount(sel.msgs, maxCount) {
			if deadLettering && spec.DeadLetterQueue == name {
				dq = q
			}
			break
		}
		// A message must move: take the dead-letter queue too (creating it if missing).
		dq = e.lookup(project, spec.DeadLetterQueue)
		if dq == nil {
			var created bool
			dq, created = e.createQueue(project, spec.DeadLetterQueue, nil, n)
			if created {
				break // created locked
			}
			q.mu.Unlock()
			continue
		}
		if dq.mu.TryLock() {
			if dq.deleted {
				dq.mu.Unlock()
				q.mu.Unlock()
				continue
			}
			break
		}
		// Someone holds the dead-letter queue: take both in name order, then look again.
		q.mu.Unlock()
		first, second := q, dq
		if dq.name < q.name {
			first, second = dq, q
		}
		first.mu.Lock()
		second.mu.Lock()
		if q.deleted || dq.deleted {
			dq.mu.Unlock()
			q.mu.Unlock()
			continue
		}
		q.reap(n)
		sel = q.selectFree(n, spec.Limit)
		break
	}
	unlock := func() {
		if dq != nil && dq != q {
			dq.mu.Unlock()
		}
		q.mu.Unlock()
	}
	if dq != nil && dq != q {
		dq.reap(n)
	}

	bodies, err := e.bodiesOf(q, sel.msgs)
	if err != nil {
		unlock()
		return res, err
	}
	c := &claim{ClaimRec: ClaimRec{
		ID: uuid.NewString(), TTL: int64(spec.TTL), Grace: int64(spec.Grace),
		Updated: n, Expires: addDur(n, int64(spec.TTL)),
	}}
	lifeTo := addDur(c.Expires, c.Grace)
	var moved []*Msg
	res.Messages = make([]store.Message, 0, len(sel.msgs))
	b := e.log.Begin()
	for i, m := range sel.msgs {
		body := bodies[i]
		if body == nil {
			continue // gone from storage already
		}
		if dq != nil && m.ClaimCount >= maxCount {
			// Dead-letter: a fresh, unclaimed message at the end of the dead-letter queue.
			ttl := int64(spec.DeadLetterTTL)
			if ttl <= 0 {
				ttl = m.PostedTTL
			}
			nm := &Msg{
				Seq: e.nextSeq(), Created: n, Expires: addDur(n, ttl), TTL: ttl, PostedTTL: ttl,
				ClientID: m.ClientID, ClaimCount: m.ClaimCount, heapIdx: -1,
			}
			if e.keepsBody(len(body)) {
				nm.SetBody(body)
			}
			moved = append(moved, nm)
			// The copy is written before the original is deleted: a Log may persist a batch in parts (Badger
			// splits a group too big for one transaction), and a failure between them must leave the message
			// in both queues at worst, never in neither.
			b.PutMessage(project, dq.name, nm, body)
			q.remove(m, b)
			b.DeleteMessage(project, name, m.Seq)
			continue
		}
		q.detach(m, b) // from an ended claim, if it still lists the message
		m.ClaimID = c.ID
		m.ClaimExpires = c.Expires
		m.ClaimCount++
		if m.Expires < lifeTo {
			m.Expires = lifeTo
			m.TTL = c.TTL + c.Grace
			q.expiry.fix(m)
		}
		c.msgs = append(c.msgs, m.Seq)
		b.PutMessage(project, name, m, body)
		res.Messages = append(res.Messages, m.export(body))
	}
	if len(c.msgs) > 0 {
		q.claims[c.ID] = c
		b.PutClaim(project, name, &c.ClaimRec)
	}
	t := commit(ctx, b)
	if len(moved) > 0 {
		dq.pending = append(dq.pending, pendingPost{t: t, msgs: moved})
		dq.flushPending()
	}
	sel.until = min(sel.until, c.Expires)
	q.commitCursor(sel)
	if len(c.msgs) > 0 {
		res.Claim = c.export()
	}
	res.DeadLettered = len(moved)
	unlock()
	if err := e.wait(t); err != nil {
		return store.ClaimResult{Messages: []store.Message{}}, err
	}
	if len(moved) > 0 {
		dq.mu.Lock()
		dq.flushPending()
		dq.mu.Unlock()
	}
	return res, nil
}

func anyAtCount(msgs []*Msg, maxCount int32) bool {
	for _, m := range msgs {
		if m.ClaimCount >= maxCount {
			return true
		}
	}
	return false
}

// detach removes m from the claim it names, if that claim still lists it, and ends the claim when it is left
// without messages: like Zaqar's MongoDB driver, a claim ends with its last message (it would otherwise linger
// in memory and on disk until it expires).
func (q *queue) detach(m *Msg, b Batch) {
	c := q.claims[m.ClaimID]
	if m.ClaimID == "" || c == nil {
		return
	}
	for i, s := range c.msgs {
		if s == m.Seq {
			c.msgs = append(c.msgs[:i], c.msgs[i+1:]...)
			break
		}
	}
	if len(c.msgs) == 0 {
		delete(q.claims, c.ID)
		b.DeleteClaim(q.project, q.name, c.ID)
	}
}

// liveClaim returns the claim if it is live at now.
func (q *queue) liveClaim(id string, now int64) *claim {
	c := q.claims[id]
	if c == nil || now >= c.Expires {
		return nil
	}
	return c
}

// claimedMsgs returns the live messages still held by c.
func (q *queue) claimedMsgs(c *claim, now int64) []*Msg {
	out := make([]*Msg, 0, len(c.msgs))
	for _, s := range c.msgs {
		if m := q.get(s); m != nil && m.ClaimID == c.ID && !m.expired(now) {
			out = append(out, m)
		}
	}
	return out
}

func claimNotFound(id string) error { return fmt.Errorf("claim %q: %w", id, store.ErrNotFound) }

// GetClaim implements store.Claims.
func (e *Engine) GetClaim(ctx context.Context, project, name, claimID string, now time.Time) (store.Claim, []store.Message, error) {
	if err := e.enter(ctx, now); err != nil {
		return store.Claim{}, nil, err
	}
	q := e.lockExisting(project, name)
	if q == nil {
		return store.Claim{}, nil, claimNotFound(claimID)
	}
	defer q.mu.Unlock()
	n := now.UnixNano()
	q.reap(n)
	c := q.liveClaim(claimID, n)
	if c == nil {
		return store.Claim{}, nil, claimNotFound(claimID)
	}
	msgs, err := e.exportMsgs(q, q.claimedMsgs(c, n))
	if err != nil {
		return store.Claim{}, nil, err
	}
	return c.export(), msgs, nil
}

// RenewClaim implements store.Claims.
func (e *Engine) RenewClaim(ctx context.Context, project, name, claimID string, ttl, grace time.Duration, now time.Time) error {
	if err := e.enter(ctx, now); err != nil {
		return err
	}
	q := e.lockExisting(project, name)
	if q == nil {
		return claimNotFound(claimID)
	}
	n := now.UnixNano()
	q.reap(n)
	c := q.liveClaim(claimID, n)
	if c == nil {
		q.mu.Unlock()
		return claimNotFound(claimID)
	}
	expires := addDur(n, int64(ttl))
	lifeTo := addDur(expires, int64(grace))
	msgs := q.claimedMsgs(c, n)
	var extend []*Msg
	for _, m := range msgs {
		if m.Expires < lifeTo {
			extend = append(extend, m)
		}
	}
	// Read what may fail before changing anything: a failed renewal leaves the claim as it was.
	bodies, err := e.bodiesOf(q, extend)
	if err != nil {
		q.mu.Unlock()
		return err
	}
	c.TTL, c.Grace, c.Updated, c.Expires = int64(ttl), int64(grace), n, expires
	for _, m := range msgs {
		m.ClaimExpires = c.Expires
	}
	b := e.log.Begin()
	for i, m := range extend {
		m.Expires = lifeTo
		m.TTL = c.TTL + c.Grace
		q.expiry.fix(m)
		if bodies[i] != nil {
			b.PutMessage(project, name, m, bodies[i])
		}
	}
	// The messages' claim expiry is rebuilt from the claim record on restart, so only extended lives need
	// their message rewritten.
	b.PutClaim(project, name, &c.ClaimRec)
	t := commit(ctx, b)
	q.freeUntil = min(q.freeUntil, c.Expires)
	q.mu.Unlock()
	return e.wait(t)
}

// ReleaseClaim implements store.Claims.
func (e *Engine) ReleaseClaim(ctx context.Context, project, name, claimID string, now time.Time) error {
	if err := e.enter(ctx, now); err != nil {
		return err
	}
	q := e.lockExisting(project, name)
	if q == nil {
		return e.settled(ctx)
	}
	c := q.claims[claimID]
	if c == nil {
		q.mu.Unlock()
		return e.settled(ctx)
	}
	n := now.UnixNano()
	for _, s := range c.msgs {
		if m := q.get(s); m != nil && m.ClaimID == c.ID && m.ClaimExpires > n {
			m.ClaimExpires = n
		}
	}
	delete(q.claims, claimID)
	q.freeFrom, q.freeUntil = 0, 0
	b := e.log.Begin()
	b.DeleteClaim(project, name, claimID)
	t := commit(ctx, b)
	q.mu.Unlock()
	return e.wait(t)
}
