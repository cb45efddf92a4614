package redisstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/zedge-io/zedge/store"
	"github.com/zedge-io/zedge/store/internal/engine"
)

// PostMessages implements store.Messages: one script call appends the batch (and creates the queue if needed).
func (s *Store) PostMessages(ctx context.Context, project, queue string, msgs []store.NewMessage, now time.Time) ([]string, error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	batch := make([]posted, len(msgs))
	for i := range msgs {
		m := &msgs[i]
		batch[i] = posted{ttl: m.TTL, delay: m.Delay, client: m.ClientID, body: m.Body}
	}
	return s.post(ctx, project, queue, batch, now)
}

// posted is a message to append: a new one, or one moved to a dead-letter queue (which keeps its claim count).
type posted struct {
	ttl, delay time.Duration
	client     store.ClientID
	count      int
	body       []byte
}

// post appends msgs (none still creates the queue, as in the engine).
func (s *Store) post(ctx context.Context, project, queue string, msgs []posted, now time.Time) ([]string, error) {
	args := make([]any, 0, 3+5*len(msgs))
	args = append(args, micros(now), newEpoch(), len(msgs))
	for i := range msgs {
		m := &msgs[i]
		delay := int64(0)
		if m.delay > 0 {
			delay = durMicros(m.delay)
		}
		args = append(args, durMicros(m.ttl), delay, m.client[:], m.count, m.body)
	}
	v, err := s.run(ctx, scriptPost, s.queueKeys(project, queue), args...)
	if err != nil {
		return nil, err
	}
	r := array(v)
	if len(r) < 3 {
		return nil, fmt.Errorf("%w: post: unexpected reply %v", store.ErrUnavailable, v)
	}
	epoch, first := str(r[0]), uint64(integer(r[1]))
	if integer(r[2]) == 1 {
		if err := s.reconcile(ctx, project, queue); err != nil {
			return nil, err
		}
	}
	ids := make([]string, len(msgs))
	for i := range ids {
		ids[i] = formatID(epoch, first+uint64(i))
	}
	return ids, nil
}

func flag(b bool) int {
	if b {
		return 1
	}
	return 0
}

// ListMessages implements store.Messages.
func (s *Store) ListMessages(ctx context.Context, project, queue string, q store.MessageQuery, now time.Time) (store.MessagePage, error) {
	page := store.MessagePage{Messages: []store.Message{}}
	if err := s.enter(ctx); err != nil {
		return page, err
	}
	start := "-inf"
	if q.Marker != "" {
		after, ok := engine.ParseMarker(q.Marker) // the engine's markers: a client cannot tell the stores apart
		if !ok || after == ^uint64(0) {
			return page, nil
		}
		start = "(" + strconv.FormatUint(after, 10)
	}
	if q.Limit <= 0 {
		return page, nil
	}
	v, err := s.run(ctx, scriptList, s.queueKeys(project, queue), micros(now), start, q.Limit, flag(q.Echo),
		q.ClientID[:], flag(q.IncludeClaimed), flag(q.IncludeDelayed))
	if err != nil {
		return page, err
	}
	r := array(v)
	if len(r) < 3 {
		return page, nil
	}
	msgs, err := decodeMessages(str(r[0]), r[1:])
	if err != nil {
		return page, err
	}
	page.Messages = msgs
	page.Marker = str(r[len(r)-2])
	return page, nil
}

// idArgs turns message ids into the scripts' (epoch, sequence) pairs, dropping malformed and repeated ids.
func idArgs(ids []string, args []any) []any {
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		epoch, seq, ok := parseID(id)
		if !ok || seen[id] {
			continue
		}
		seen[id] = true
		args = append(args, epoch, seq)
	}
	return args
}

// GetMessages implements store.Messages.
func (s *Store) GetMessages(ctx context.Context, project, queue string, ids []string, now time.Time) ([]store.Message, error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	args := idArgs(ids, []any{micros(now)})
	if len(args) == 1 {
		return []store.Message{}, nil
	}
	v, err := s.run(ctx, scriptGet, s.queueKeys(project, queue), args...)
	if err != nil {
		return nil, err
	}
	r := array(v)
	if len(r) < 1 {
		return []store.Message{}, nil
	}
	msgs, err := decodeMessages(str(r[0]), r[1:])
	if err != nil {
		return nil, err
	}
	// IDs of one epoch sort like their sequences.
	slices.SortFunc(msgs, func(a, b store.Message) int { return cmp.Compare(a.ID, b.ID) })
	return msgs, nil
}

// DeleteMessage implements store.Messages.
func (s *Store) DeleteMessage(ctx context.Context, project, queue, id, claimID string, now time.Time) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	epoch, seq, ok := parseID(id)
	if !ok {
		return nil
	}
	v, err := s.run(ctx, scriptDelete, s.queueKeys(project, queue), micros(now), epoch, seq, claimID)
	if err != nil {
		return err
	}
	switch integer(v) {
	case 1:
		return store.ErrClaimed
	case 2:
		return store.ErrNotClaimed
	case 3:
		return store.ErrClaimNotFound
	}
	return nil
}

// DeleteMessages implements store.Messages.
func (s *Store) DeleteMessages(ctx context.Context, project, queue string, ids []string, now time.Time) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	args := idArgs(ids, []any{micros(now)})
	if len(args) == 1 {
		return nil
	}
	_, err := s.run(ctx, scriptDeleteMany, s.queueKeys(project, queue), args...)
	return err
}

// PopMessages implements store.Messages.
func (s *Store) PopMessages(ctx context.Context, project, queue string, limit int, now time.Time) ([]store.Message, error) {
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return []store.Message{}, nil
	}
	v, err := s.run(ctx, scriptPop, s.queueKeys(project, queue), micros(now), limit)
	if err != nil {
		return nil, err
	}
	r := array(v)
	if len(r) < 1 {
		return []store.Message{}, nil
	}
	return decodeMessages(str(r[0]), r[1:])
}

// PurgeMessages implements store.Messages: one DEL of the queue's message and claim keys (its record stays).
func (s *Store) PurgeMessages(ctx context.Context, project, queue string) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	return s.wrap(s.rdb.Del(ctx, s.queueKeys(project, queue)[kMsgs:]...).Err())
}
