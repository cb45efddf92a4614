package engine

import (
	"context"
	"slices"
	"time"

	"github.com/zedge-io/zedge/store"
)

// PostMessages implements store.Messages.
func (e *Engine) PostMessages(ctx context.Context, project, name string, msgs []store.NewMessage, now time.Time) ([]string, error) {
	if err := e.enter(ctx, now); err != nil {
		return nil, err
	}
	n := now.UnixNano()
	// One allocation for the records and one for the bodies of the whole batch.
	recs := make([]Msg, len(msgs))
	size := 0
	for i := range msgs {
		if e.keepsBody(len(msgs[i].Body)) {
			size += len(msgs[i].Body)
		}
	}
	bodies := make([]byte, 0, size) // never nil: a kept empty body must stay non-nil
	for i := range msgs {
		nm := &msgs[i]
		m := &recs[i]
		m.Created = n
		m.TTL = int64(nm.TTL)
		m.PostedTTL = m.TTL
		m.Expires = addDur(n, m.TTL)
		if nm.Delay > 0 {
			m.DelayUntil = addDur(n, int64(nm.Delay))
		}
		m.ClientID = nm.ClientID
		m.heapIdx = -1
		if e.keepsBody(len(nm.Body)) {
			start := len(bodies)
			bodies = append(bodies, nm.Body...)
			m.SetBody(bodies[start:len(bodies):len(bodies)])
		}
	}

	q, _ := e.lockQueue(project, name, true, nil, n)
	q.reap(n)
	b := e.log.Begin()
	for i := range recs {
		m := &recs[i]
		m.Seq = e.nextSeq()
		b.PutMessage(project, name, m, msgs[i].Body)
	}
	t := commit(ctx, b)
	// A ticket already complete here (always, without persistence) is flushed into the index right now;
	// otherwise the flush after the wait makes it visible.
	durable := t.Done()
	q.pending = append(q.pending, pendingPost{t: t, recs: recs})
	q.flushPending()
	q.mu.Unlock()
	ids := formatIDs(recs)
	if durable && t.Wait() == nil {
		return ids, nil
	}
	err := e.wait(t)
	// Whoever flushes first makes this post (and every earlier one) visible.
	q.mu.Lock()
	q.flushPending()
	q.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return ids, nil
}

// ListMessages implements store.Messages.
func (e *Engine) ListMessages(ctx context.Context, project, name string, mq store.MessageQuery, now time.Time) (store.MessagePage, error) {
	page := store.MessagePage{Messages: []store.Message{}}
	if err := e.enter(ctx, now); err != nil {
		return page, err
	}
	var start uint64
	if mq.Marker != "" {
		after, ok := ParseMarker(mq.Marker)
		if !ok || after == ^uint64(0) {
			return page, nil
		}
		start = after + 1
	}
	if mq.Limit <= 0 {
		return page, nil
	}
	q := e.lockExisting(project, name)
	if q == nil {
		return page, nil
	}
	defer q.mu.Unlock()
	n := now.UnixNano()
	q.reap(n)
	found := make([]*Msg, 0, min(mq.Limit, 64))
	q.msgs.AscendGreaterOrEqual(q.key(start), func(m *Msg) bool {
		switch {
		case m.expired(n):
		case !mq.IncludeClaimed && m.claimed(n):
		case !mq.IncludeDelayed && m.delayed(n):
		case !mq.Echo && m.ClientID == mq.ClientID:
		default:
			found = append(found, m)
		}
		return len(found) < mq.Limit
	})
	out, err := e.exportMsgs(q, found)
	if err != nil {
		return page, err
	}
	page.Messages = out
	if len(found) > 0 {
		page.Marker = FormatMarker(found[len(found)-1].Seq)
	}
	return page, nil
}

// exportMsgs converts messages for the caller, skipping those whose body storage no longer has.
func (e *Engine) exportMsgs(q *queue, msgs []*Msg) ([]store.Message, error) {
	bodies, err := e.bodiesOf(q, msgs)
	if err != nil {
		return nil, err
	}
	out := make([]store.Message, 0, len(msgs))
	for i, m := range msgs {
		if bodies[i] == nil {
			continue
		}
		out = append(out, m.export(bodies[i]))
	}
	return out, nil
}

// GetMessages implements store.Messages.
func (e *Engine) GetMessages(ctx context.Context, project, name string, ids []string, now time.Time) ([]store.Message, error) {
	if err := e.enter(ctx, now); err != nil {
		return nil, err
	}
	q := e.lockExisting(project, name)
	if q == nil {
		return []store.Message{}, nil
	}
	defer q.mu.Unlock()
	n := now.UnixNano()
	q.reap(n)
	found := q.find(ids, n)
	return e.exportMsgs(q, found)
}

// find returns the live messages among ids, in post order, without duplicates.
func (q *queue) find(ids []string, now int64) []*Msg {
	found := make([]*Msg, 0, len(ids))
	for _, id := range ids {
		seq, ok := ParseID(id)
		if !ok {
			continue
		}
		if m := q.get(seq); m != nil && !m.expired(now) && !slices.Contains(found, m) {
			found = append(found, m)
		}
	}
	slices.SortFunc(found, func(a, b *Msg) int {
		if a.Seq < b.Seq {
			return -1
		}
		return 1
	})
	return found
}

// DeleteMessage implements store.Messages.
func (e *Engine) DeleteMessage(ctx context.Context, project, name, id, claimID string, now time.Time) error {
	if err := e.enter(ctx, now); err != nil {
		return err
	}
	seq, ok := ParseID(id)
	if !ok {
		return nil
	}
	q := e.lockExisting(project, name)
	if q == nil {
		return e.settled(ctx)
	}
	n := now.UnixNano()
	q.reap(n)
	m := q.get(seq)
	if m == nil || m.expired(n) {
		q.mu.Unlock()
		return e.settled(ctx)
	}
	claimed := m.claimed(n)
	switch {
	case claimID == "" && claimed:
		q.mu.Unlock()
		return store.ErrClaimed
	case claimID != "" && !claimed:
		q.mu.Unlock()
		return store.ErrNotClaimed
	case claimID != "" && m.ClaimID != claimID:
		c := q.claims[claimID]
		q.mu.Unlock()
		if c != nil && n < c.Expires {
			return store.ErrClaimed
		}
		return store.ErrClaimNotFound
	}
	b := e.log.Begin()
	q.remove(m, b)
	b.DeleteMessage(project, name, seq)
	t := commit(ctx, b)
	q.mu.Unlock()
	return e.wait(t)
}

// DeleteMessages implements store.Messages.
func (e *Engine) DeleteMessages(ctx context.Context, project, name string, ids []string, now time.Time) error {
	if err := e.enter(ctx, now); err != nil {
		return err
	}
	q := e.lockExisting(project, name)
	if q == nil {
		return e.settled(ctx)
	}
	n := now.UnixNano()
	q.reap(n)
	found := q.find(ids, n)
	if len(found) == 0 {
		q.mu.Unlock()
		return e.settled(ctx)
	}
	b := e.log.Begin()
	for _, m := range found {
		q.remove(m, b)
		b.DeleteMessage(project, name, m.Seq)
	}
	t := commit(ctx, b)
	q.mu.Unlock()
	return e.wait(t)
}

// PopMessages implements store.Messages.
func (e *Engine) PopMessages(ctx context.Context, project, name string, limit int, now time.Time) ([]store.Message, error) {
	if err := e.enter(ctx, now); err != nil {
		return nil, err
	}
	out := []store.Message{}
	if limit <= 0 {
		return out, nil
	}
	q := e.lockExisting(project, name)
	if q == nil {
		return out, nil
	}
	n := now.UnixNano()
	q.reap(n)
	sel := q.selectFree(n, limit)
	bodies, err := e.bodiesOf(q, sel.msgs)
	if err != nil {
		q.mu.Unlock()
		return nil, err
	}
	b := e.log.Begin()
	for i, m := range sel.msgs {
		if bodies[i] == nil {
			continue
		}
		out = append(out, m.export(bodies[i]))
		q.remove(m, b)
		b.DeleteMessage(project, name, m.Seq)
	}
	t := commit(ctx, b)
	q.commitCursor(sel)
	q.mu.Unlock()
	if err := e.wait(t); err != nil {
		return nil, err
	}
	return out, nil
}

// PurgeMessages implements store.Messages.
func (e *Engine) PurgeMessages(ctx context.Context, project, name string) error {
	if err := e.enter(ctx, time.Time{}); err != nil {
		return err
	}
	q := e.lockExisting(project, name)
	if q == nil {
		return e.settled(ctx)
	}
	empty := q.msgs.Len() == 0 && len(q.claims) == 0
	b := e.log.Begin()
	q.clear(b)
	t := commit(ctx, b)
	q.mu.Unlock()
	if empty {
		return e.settled(ctx)
	}
	return e.wait(t)
}

// clear deletes every message and claim of q (in memory, and records it in b).
func (q *queue) clear(b Batch) {
	q.msgs.Ascend(func(m *Msg) bool {
		b.DeleteMessage(q.project, q.name, m.Seq)
		m.heapIdx = -1
		return true
	})
	for id := range q.claims {
		b.DeleteClaim(q.project, q.name, id)
	}
	q.msgs.Clear(false)
	q.expiry = nil
	q.claims = map[string]*claim{}
	q.freeFrom, q.freeUntil = 0, 0
}

// selection is the outcome of a scan for claimable messages.
type selection struct {
	msgs []*Msg
	// next and until are the cursor to keep if every selected message is taken: every message before next is
	// then unclaimable until until (the selected ones are claimed or gone, so they do not lower until).
	next  uint64
	until int64
}

// selectFree returns up to limit claimable messages from the head, in order, without changing anything.
func (q *queue) selectFree(now int64, limit int) selection {
	start, until := uint64(0), int64(1<<63-1)
	if q.freeFrom > 0 && now < q.freeUntil {
		start, until = q.freeFrom, q.freeUntil
	}
	sel := selection{next: start}
	q.msgs.AscendGreaterOrEqual(q.key(start), func(m *Msg) bool {
		sel.next = m.Seq + 1
		switch {
		case m.expired(now):
		case m.claimed(now):
			until = min(until, m.ClaimExpires)
		case m.delayed(now):
			until = min(until, m.DelayUntil)
		default:
			sel.msgs = append(sel.msgs, m)
		}
		return len(sel.msgs) < limit
	})
	sel.until = until
	return sel
}

// commitCursor keeps the selection's cursor.
func (q *queue) commitCursor(sel selection) {
	q.freeFrom, q.freeUntil = sel.next, sel.until
}
