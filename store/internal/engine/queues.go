package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/zedge-io/zedge/store"
)

// CreateQueue implements store.Queues.
func (e *Engine) CreateQueue(ctx context.Context, project, name string, metadata []byte, now time.Time) (bool, error) {
	if err := e.enter(ctx, now); err != nil {
		return false, err
	}
	q, created := e.lockQueue(project, name, true, metadata, now.UnixNano())
	t := q.createT
	q.mu.Unlock()
	if err := e.wait(t); err != nil {
		return false, err
	}
	return created, nil
}

// GetQueue implements store.Queues.
func (e *Engine) GetQueue(ctx context.Context, project, name string) (store.Queue, error) {
	if err := e.enter(ctx, time.Time{}); err != nil {
		return store.Queue{}, err
	}
	q := e.lookup(project, name)
	if q == nil {
		return store.Queue{}, fmt.Errorf("queue %q: %w", name, store.ErrNotFound)
	}
	return q.export(), nil
}

// ListQueues implements store.Queues.
func (e *Engine) ListQueues(ctx context.Context, project, marker string, limit int) ([]store.Queue, error) {
	if err := e.enter(ctx, time.Time{}); err != nil {
		return nil, err
	}
	out := []store.Queue{}
	if limit <= 0 {
		return out, nil
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	p := e.projects[project]
	if p == nil {
		return out, nil
	}
	p.byName.AscendGreaterOrEqual(&queue{name: marker}, func(q *queue) bool {
		if q.name == marker {
			return true
		}
		out = append(out, q.export())
		return len(out) < limit
	})
	return out, nil
}

// CountQueues implements store.Queues.
func (e *Engine) CountQueues(ctx context.Context, project string) (int, error) {
	if err := e.enter(ctx, time.Time{}); err != nil {
		return 0, err
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	if p := e.projects[project]; p != nil {
		return len(p.queues), nil
	}
	return 0, nil
}

// UpdateQueue implements store.Queues. update runs under the queue's lock and must not call the store.
func (e *Engine) UpdateQueue(ctx context.Context, project, name string, update func(metadata []byte) ([]byte, error)) ([]byte, error) {
	if err := e.enter(ctx, time.Time{}); err != nil {
		return nil, err
	}
	q := e.lockExisting(project, name)
	if q == nil {
		return nil, fmt.Errorf("queue %q: %w", name, store.ErrNotFound)
	}
	next, err := update(cloneBytes(q.metadata()))
	if err != nil {
		q.mu.Unlock()
		return nil, err
	}
	stored := cloneBytes(next)
	if len(stored) == 0 {
		stored = []byte("{}")
	}
	q.meta.Store(&stored)
	b := e.log.Begin()
	b.PutQueue(project, name, &QueueRec{Metadata: stored, Created: q.created})
	t := commit(ctx, b)
	q.mu.Unlock()
	if err := e.wait(t); err != nil {
		return nil, err
	}
	return cloneBytes(stored), nil
}

// DeleteQueue implements store.Queues.
func (e *Engine) DeleteQueue(ctx context.Context, project, name string) error {
	if err := e.enter(ctx, time.Time{}); err != nil {
		return err
	}
	q := e.lockExisting(project, name)
	if q == nil {
		return e.settled(ctx)
	}
	b := e.log.Begin()
	q.clear(b)
	// Posts still waiting for durability were written before this deletion; delete them too, and flushPending
	// will drop them because the queue is deleted.
	for _, p := range q.pending {
		p.each(func(m *Msg) { b.DeleteMessage(project, name, m.Seq) })
	}
	// Expired messages and claims already dropped from memory whose delete records the reaper has yet to
	// write (it skips deleted queues): their records must not outlive the queue's, or a restart would make the
	// queue up again.
	q.recordReaped(b)
	b.DeleteQueue(project, name)
	t := commit(ctx, b)
	// Unpublish only after the deletion is recorded, so a queue re-created under the same name is persisted
	// after it.
	e.unpublish(q)
	q.mu.Unlock()
	return e.wait(t)
}

// Stats implements store.Queues.
func (e *Engine) Stats(ctx context.Context, project, name string, now time.Time) (store.QueueStats, error) {
	if err := e.enter(ctx, now); err != nil {
		return store.QueueStats{}, err
	}
	q := e.lockExisting(project, name)
	if q == nil {
		return store.QueueStats{}, nil
	}
	defer q.mu.Unlock()
	n := now.UnixNano()
	q.reap(n)
	st := store.QueueStats{Total: q.msgs.Len()}
	for _, c := range q.claims {
		if n >= c.Expires {
			continue
		}
		for _, s := range c.msgs {
			if m := q.get(s); m != nil && m.ClaimID == c.ID && m.claimed(n) {
				st.Claimed++
			}
		}
	}
	if m, ok := q.msgs.Min(); ok {
		st.Oldest = &store.MessageRef{ID: FormatID(m.Seq), Created: unixTime(m.Created)}
	}
	if m, ok := q.msgs.Max(); ok {
		st.Newest = &store.MessageRef{ID: FormatID(m.Seq), Created: unixTime(m.Created)}
	}
	return st, nil
}
