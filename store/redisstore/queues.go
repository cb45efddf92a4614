package redisstore

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/zedge-io/zedge/store"
)

func queueNotFound(name string) error { return fmt.Errorf("queue %q: %w", name, store.ErrNotFound) }

// CreateQueue implements store.Queues.
func (s *Store) CreateQueue(ctx context.Context, project, queue string, metadata []byte, now time.Time) (bool, error) {
	if err := s.enter(ctx); err != nil {
		return false, err
	}
	if len(metadata) == 0 {
		metadata = []byte("{}")
	}
	keys := s.queueKeys(project, queue)
	v, err := s.run(ctx, scriptCreate, keys[:1], micros(now), metadata, newEpoch())
	if err != nil {
		return false, err
	}
	r := array(v)
	if len(r) < 2 {
		return false, fmt.Errorf("%w: create: unexpected reply %v", store.ErrUnavailable, v)
	}
	if integer(r[1]) == 1 {
		if err := s.reconcile(ctx, project, queue); err != nil {
			return false, err
		}
	}
	return integer(r[0]) == 1, nil
}

// reconcile makes the project's catalogue agree with whether the queue exists. The catalogue lives in the
// project's slot and the queue in its own, so no script can change both: every caller that creates or deletes
// a queue calls reconcile afterwards, which records what it sees in the queue's slot and looks again until the
// two agree. Whatever the interleaving of creators and deleters, the last reconcile to finish saw the final
// state after its own catalogue write, so the catalogue ends up right once they are all done.
func (s *Store) reconcile(ctx context.Context, project, queue string) error {
	meta := s.queueKeys(project, queue)[kMeta]
	cat := s.catalogueKey(project)
	exists, err := s.rdb.Exists(ctx, meta).Result()
	for range 100 {
		if err != nil {
			return s.wrap(err)
		}
		if exists == 1 {
			err = s.rdb.ZAddNX(ctx, cat, redis.Z{Member: queue}).Err()
		} else {
			err = s.rdb.ZRem(ctx, cat, queue).Err()
		}
		if err != nil {
			return s.wrap(err)
		}
		again, err2 := s.rdb.Exists(ctx, meta).Result()
		if err2 == nil && again == exists {
			break
		}
		exists, err = again, err2
	}
	if exists == 1 {
		// Lets posts stop asking for reconciliation (a creator that stopped before this point is repaired by
		// the next post or create).
		_, err = s.run(ctx, scriptCatalogued, []string{meta})
		return err
	}
	return nil
}

// GetQueue implements store.Queues.
func (s *Store) GetQueue(ctx context.Context, project, queue string) (store.Queue, error) {
	if err := s.enter(ctx); err != nil {
		return store.Queue{}, err
	}
	v, err := s.rdb.HMGet(ctx, s.queueKeys(project, queue)[kMeta], "created", "meta").Result()
	if err != nil {
		return store.Queue{}, s.wrap(err)
	}
	if v[0] == nil {
		return store.Queue{}, queueNotFound(queue)
	}
	return store.Queue{Name: queue, Metadata: []byte(str(v[1])), Created: fromMicros(integer(v[0]))}, nil
}

// ListQueues implements store.Queues. The names come from the project's catalogue and each queue's record from
// its own slot (one pipelined round trip per page); a name whose queue is gone (a deletion under way, or one
// that stopped half-way) is skipped and reconciled.
func (s *Store) ListQueues(ctx context.Context, project, marker string, limit int) ([]store.Queue, error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	out := []store.Queue{}
	if limit <= 0 {
		return out, nil
	}
	start := "-"
	if marker != "" {
		start = "(" + marker
	}
	for len(out) < limit {
		names, err := s.rdb.ZRangeByLex(ctx, s.catalogueKey(project), &redis.ZRangeBy{
			Min: start, Max: "+", Count: int64(limit - len(out)),
		}).Result()
		if err != nil {
			return nil, s.wrap(err)
		}
		if len(names) == 0 {
			break
		}
		pipe := s.rdb.Pipeline()
		cmds := make([]*redis.SliceCmd, len(names))
		for i, name := range names {
			cmds[i] = pipe.HMGet(ctx, s.queueKeys(project, name)[kMeta], "created", "meta")
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, s.wrap(err)
		}
		for i, name := range names {
			v := cmds[i].Val()
			if v[0] == nil {
				if err := s.reconcile(ctx, project, name); err != nil {
					return nil, err
				}
				continue
			}
			out = append(out, store.Queue{Name: name, Metadata: []byte(str(v[1])), Created: fromMicros(integer(v[0]))})
		}
		start = "(" + names[len(names)-1]
	}
	return out, nil
}

// CountQueues implements store.Queues: the size of the project's catalogue (which, after a deletion that
// stopped half-way, may still count that queue until a listing or a deletion passes by).
func (s *Store) CountQueues(ctx context.Context, project string) (int, error) {
	if err := s.enter(ctx); err != nil {
		return 0, err
	}
	n, err := s.rdb.ZCard(ctx, s.catalogueKey(project)).Result()
	return int(n), s.wrap(err)
}

// UpdateQueue implements store.Queues with optimistic concurrency: update runs on the metadata read, and a
// compare-and-set script stores the result only if the metadata is unchanged, otherwise it starts again.
func (s *Store) UpdateQueue(ctx context.Context, project, queue string, update func(metadata []byte) ([]byte, error)) ([]byte, error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	meta := s.queueKeys(project, queue)[kMeta]
	for {
		cur, err := s.rdb.HGet(ctx, meta, "meta").Result()
		if err == redis.Nil {
			return nil, queueNotFound(queue)
		}
		if err != nil {
			return nil, s.wrap(err)
		}
		next, err := update([]byte(cur))
		if err != nil {
			return nil, err
		}
		if len(next) == 0 {
			next = []byte("{}")
		}
		v, err := s.run(ctx, scriptUpdate, []string{meta}, cur, next)
		if err != nil {
			return nil, err
		}
		switch integer(v) {
		case 1:
			return append([]byte(nil), next...), nil
		case -1:
			return nil, queueNotFound(queue)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
}

// DeleteQueue implements store.Queues: the queue's keys go first (one DEL in its slot, atomic), then its
// catalogue entry (see reconcile). Subscriptions stay.
func (s *Store) DeleteQueue(ctx context.Context, project, queue string) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	if err := s.rdb.Del(ctx, s.queueKeys(project, queue)...).Err(); err != nil {
		return s.wrap(err)
	}
	return s.reconcile(ctx, project, queue)
}

// Stats implements store.Queues.
func (s *Store) Stats(ctx context.Context, project, queue string, now time.Time) (store.QueueStats, error) {
	if err := s.enter(ctx); err != nil {
		return store.QueueStats{}, err
	}
	v, err := s.run(ctx, scriptStats, s.queueKeys(project, queue), micros(now))
	if err != nil {
		return store.QueueStats{}, err
	}
	r := array(v)
	if len(r) < 7 {
		return store.QueueStats{}, nil
	}
	epoch := str(r[0])
	st := store.QueueStats{Total: int(integer(r[1])), Claimed: int(integer(r[2]))}
	ref := func(seq, created any) *store.MessageRef {
		n := integer(seq)
		if n == 0 {
			return nil
		}
		return &store.MessageRef{ID: formatID(epoch, uint64(n)), Created: fromMicros(integer(created))}
	}
	st.Oldest, st.Newest = ref(r[3], r[4]), ref(r[5], r[6])
	return st, nil
}
