package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"github.com/zedge-io/zedge/store"
)

func subNotFound(id string) error { return fmt.Errorf("subscription %q: %w", id, store.ErrNotFound) }

// CreateSubscription implements store.Subscriptions: one script call on the queue's slot (which also creates the
// queue if it is missing).
func (s *Store) CreateSubscription(ctx context.Context, project string, sub store.Subscription, now time.Time) (store.Subscription, error) {
	if err := s.enter(ctx); err != nil {
		return store.Subscription{}, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return store.Subscription{}, fmt.Errorf("%w: subscription id: %w", store.ErrUnavailable, err)
	}
	v, err := s.run(ctx, scriptSubCreate, s.subKeys(project, sub.Queue), micros(now), newEpoch(), id.String(),
		sub.Subscriber, durMicros(sub.TTL), sub.Options, flag(sub.Confirmed))
	if err != nil {
		return store.Subscription{}, err
	}
	r := array(v)
	if len(r) < 4 {
		return store.Subscription{}, fmt.Errorf("%w: subscribe: unexpected reply %v", store.ErrUnavailable, v)
	}
	if integer(r[0]) == 1 {
		if err := s.reconcile(ctx, project, sub.Queue); err != nil {
			return store.Subscription{}, err
		}
	}
	out, err := decodeSubscription(str(r[2]), sub.Queue, str(r[3]))
	if err != nil {
		return store.Subscription{}, err
	}
	if integer(r[1]) == 1 {
		return out, fmt.Errorf("subscriber %q: %w", sub.Subscriber, store.ErrConflict)
	}
	return out, nil
}

// GetSubscription implements store.Subscriptions.
func (s *Store) GetSubscription(ctx context.Context, project, queue, id string, now time.Time) (store.Subscription, error) {
	if err := s.enter(ctx); err != nil {
		return store.Subscription{}, err
	}
	rec, err := s.rdb.HGet(ctx, s.subKeys(project, queue)[1], id).Result()
	if err != nil {
		if errors.Is(err, redis.Nil) {
			return store.Subscription{}, subNotFound(id)
		}
		return store.Subscription{}, s.wrap(err)
	}
	sub, err := decodeSubscription(id, queue, rec)
	if err != nil {
		return store.Subscription{}, err
	}
	if !now.Before(sub.Expires) {
		return store.Subscription{}, subNotFound(id)
	}
	return sub, nil
}

// ListSubscriptions implements store.Subscriptions.
func (s *Store) ListSubscriptions(ctx context.Context, project, queue, marker string, limit int, now time.Time) ([]store.Subscription, error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	out := []store.Subscription{}
	if limit <= 0 {
		return out, nil
	}
	start := "-"
	if marker != "" {
		start = "(" + marker
	}
	v, err := s.run(ctx, scriptSubList, s.subKeys(project, queue), micros(now), start, limit)
	if err != nil {
		return nil, err
	}
	r := array(v)
	for i := 0; i+1 < len(r); i += 2 {
		sub, err := decodeSubscription(str(r[i]), queue, str(r[i+1]))
		if err != nil {
			return nil, err
		}
		out = append(out, sub)
	}
	return out, nil
}

// UpdateSubscription implements store.Subscriptions.
func (s *Store) UpdateSubscription(ctx context.Context, project, queue, id string, upd store.SubscriptionUpdate, now time.Time) (store.Subscription, error) {
	if err := s.enter(ctx); err != nil {
		return store.Subscription{}, err
	}
	args := []any{micros(now), id}
	if upd.Subscriber != nil {
		args = append(args, 1, *upd.Subscriber)
	} else {
		args = append(args, 0, "")
	}
	if upd.TTL != nil {
		args = append(args, 1, durMicros(*upd.TTL))
	} else {
		args = append(args, 0, 0)
	}
	if upd.Options != nil {
		args = append(args, 1, upd.Options)
	} else {
		args = append(args, 0, "")
	}
	if upd.Confirmed != nil {
		args = append(args, 1, flag(*upd.Confirmed))
	} else {
		args = append(args, 0, 0)
	}
	v, err := s.run(ctx, scriptSubUpdate, s.subKeys(project, queue), args...)
	if err != nil {
		return store.Subscription{}, err
	}
	r := array(v)
	switch {
	case len(r) == 2 && integer(r[0]) == 1:
		return decodeSubscription(id, queue, str(r[1]))
	case len(r) >= 1 && integer(r[0]) == 2:
		return store.Subscription{}, fmt.Errorf("subscriber %q: %w", *upd.Subscriber, store.ErrConflict)
	}
	return store.Subscription{}, subNotFound(id)
}

// DeleteSubscription implements store.Subscriptions.
func (s *Store) DeleteSubscription(ctx context.Context, project, queue, id string) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	_, err := s.run(ctx, scriptSubDelete, s.subKeys(project, queue), id)
	return err
}

// PurgeSubscriptions implements store.Subscriptions: one DEL of the queue's subscription keys.
func (s *Store) PurgeSubscriptions(ctx context.Context, project, queue string) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	return s.wrap(s.rdb.Del(ctx, s.subKeys(project, queue)[1:]...).Err())
}
