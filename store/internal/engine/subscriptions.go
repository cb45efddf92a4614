package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/zedge-io/zedge/store"
)

func subNotFound(id string) error { return fmt.Errorf("subscription %q: %w", id, store.ErrNotFound) }

// prune drops the expired subscriptions.
func (s *subSet) prune(now int64) {
	s.subs = slices.DeleteFunc(s.subs, func(r *SubRec) bool { return now >= r.Expires })
}

func (s *subSet) index(id string) (int, bool) {
	return slices.BinarySearchFunc(s.subs, id, func(r *SubRec, id string) int { return strings.Compare(r.ID, id) })
}

func (s *subSet) bySubscriber(subscriber, except string) *SubRec {
	for _, r := range s.subs {
		if r.Subscriber == subscriber && r.ID != except {
			return r
		}
	}
	return nil
}

// CreateSubscription implements store.Subscriptions.
func (e *Engine) CreateSubscription(ctx context.Context, project string, sub store.Subscription, now time.Time) (store.Subscription, error) {
	if err := e.enter(ctx, now); err != nil {
		return store.Subscription{}, err
	}
	n := now.UnixNano()
	q, _ := e.lockQueue(project, sub.Queue, true, nil, n)
	q.mu.Unlock()

	e.subMu.Lock()
	key := subKey{project, sub.Queue}
	set := e.subs[key]
	if set == nil {
		set = &subSet{}
		e.subs[key] = set
	}
	set.prune(n)
	if dup := set.bySubscriber(sub.Subscriber, ""); dup != nil {
		out := dup.export()
		e.subMu.Unlock()
		// The duplicate is reported as existing (callers may answer it as a success): wait until it, and the
		// queue, are persisted, as its creator does.
		if err := e.settled(ctx); err != nil {
			return store.Subscription{}, err
		}
		return out, fmt.Errorf("subscriber %q: %w", sub.Subscriber, store.ErrConflict)
	}
	id, err := uuid.NewV7()
	if err != nil {
		e.subMu.Unlock()
		return store.Subscription{}, fmt.Errorf("%w: subscription id: %w", store.ErrUnavailable, err)
	}
	r := &SubRec{
		ID: id.String(), Queue: sub.Queue, Subscriber: sub.Subscriber, TTL: int64(sub.TTL),
		Options: cloneBytes(sub.Options), Confirmed: sub.Confirmed, Created: n, Expires: addDur(n, int64(sub.TTL)),
	}
	i, _ := set.index(r.ID)
	set.subs = slices.Insert(set.subs, i, r)
	b := e.log.Begin()
	b.PutSubscription(project, r)
	t := commit(ctx, b)
	out := r.export()
	e.subMu.Unlock()
	if err := e.wait(t); err != nil {
		return store.Subscription{}, err
	}
	return out, nil
}

// GetSubscription implements store.Subscriptions.
func (e *Engine) GetSubscription(ctx context.Context, project, queue, id string, now time.Time) (store.Subscription, error) {
	if err := e.enter(ctx, now); err != nil {
		return store.Subscription{}, err
	}
	e.subMu.Lock()
	defer e.subMu.Unlock()
	if set := e.subs[subKey{project, queue}]; set != nil {
		if i, ok := set.index(id); ok && now.UnixNano() < set.subs[i].Expires {
			return set.subs[i].export(), nil
		}
	}
	return store.Subscription{}, subNotFound(id)
}

// ListSubscriptions implements store.Subscriptions.
func (e *Engine) ListSubscriptions(ctx context.Context, project, queue, marker string, limit int, now time.Time) ([]store.Subscription, error) {
	if err := e.enter(ctx, now); err != nil {
		return nil, err
	}
	out := []store.Subscription{}
	e.subMu.Lock()
	defer e.subMu.Unlock()
	set := e.subs[subKey{project, queue}]
	if set == nil || limit <= 0 {
		return out, nil
	}
	n := now.UnixNano()
	i, found := set.index(marker)
	if found {
		i++
	}
	for ; i < len(set.subs) && len(out) < limit; i++ {
		if r := set.subs[i]; n < r.Expires {
			out = append(out, r.export())
		}
	}
	return out, nil
}

// UpdateSubscription implements store.Subscriptions.
func (e *Engine) UpdateSubscription(ctx context.Context, project, queue, id string, upd store.SubscriptionUpdate, now time.Time) (store.Subscription, error) {
	if err := e.enter(ctx, now); err != nil {
		return store.Subscription{}, err
	}
	n := now.UnixNano()
	e.subMu.Lock()
	set := e.subs[subKey{project, queue}]
	if set == nil {
		e.subMu.Unlock()
		return store.Subscription{}, subNotFound(id)
	}
	set.prune(n)
	i, ok := set.index(id)
	if !ok {
		e.subMu.Unlock()
		return store.Subscription{}, subNotFound(id)
	}
	if upd.Subscriber != nil && set.bySubscriber(*upd.Subscriber, id) != nil {
		e.subMu.Unlock()
		return store.Subscription{}, fmt.Errorf("subscriber %q: %w", *upd.Subscriber, store.ErrConflict)
	}
	// Records are replaced, never changed in place, so exported Options slices stay valid.
	r := *set.subs[i]
	if upd.Subscriber != nil {
		r.Subscriber = *upd.Subscriber
	}
	if upd.TTL != nil {
		r.TTL = int64(*upd.TTL)
		r.Expires = addDur(n, r.TTL)
	}
	if upd.Options != nil {
		r.Options = cloneBytes(upd.Options)
	}
	if upd.Confirmed != nil {
		r.Confirmed = *upd.Confirmed
	}
	set.subs[i] = &r
	b := e.log.Begin()
	b.PutSubscription(project, &r)
	t := commit(ctx, b)
	out := r.export()
	e.subMu.Unlock()
	if err := e.wait(t); err != nil {
		return store.Subscription{}, err
	}
	return out, nil
}

// DeleteSubscription implements store.Subscriptions.
func (e *Engine) DeleteSubscription(ctx context.Context, project, queue, id string) error {
	if err := e.enter(ctx, time.Time{}); err != nil {
		return err
	}
	e.subMu.Lock()
	key := subKey{project, queue}
	set := e.subs[key]
	if set == nil {
		e.subMu.Unlock()
		return e.settled(ctx)
	}
	i, ok := set.index(id)
	if !ok {
		e.subMu.Unlock()
		return e.settled(ctx)
	}
	set.subs = slices.Delete(set.subs, i, i+1)
	if len(set.subs) == 0 {
		delete(e.subs, key)
	}
	b := e.log.Begin()
	b.DeleteSubscription(project, queue, id)
	t := commit(ctx, b)
	e.subMu.Unlock()
	return e.wait(t)
}

// PurgeSubscriptions implements store.Subscriptions.
func (e *Engine) PurgeSubscriptions(ctx context.Context, project, queue string) error {
	if err := e.enter(ctx, time.Time{}); err != nil {
		return err
	}
	e.subMu.Lock()
	key := subKey{project, queue}
	set := e.subs[key]
	if set == nil {
		e.subMu.Unlock()
		return e.settled(ctx)
	}
	delete(e.subs, key)
	b := e.log.Begin()
	for _, r := range set.subs {
		b.DeleteSubscription(project, queue, r.ID)
	}
	t := commit(ctx, b)
	e.subMu.Unlock()
	return e.wait(t)
}
