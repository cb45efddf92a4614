package redisstore

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/zedge-io/zedge/store"
)

// deadLetterLease is how long a message being moved to a dead-letter queue stays hidden in its source queue
// (from the caller's now) before a later claim may try to move it again: the move takes three round trips,
// and a process that dies between them must neither lose the message nor hide it for good.
const deadLetterLease = time.Minute

// CreateClaim implements store.Claims. Claiming is one script call on the queue's slot. Dead-lettering moves
// messages to another queue, in general on another slot, so it cannot be one atomic step on Redis Cluster: the
// claim script leases the messages due to move (hidden, claim counts unchanged), then they are appended to the
// dead-letter queue, then removed from the source if still under the lease. See doc.go.
func (s *Store) CreateClaim(ctx context.Context, project, queue string, spec store.ClaimSpec, now time.Time) (store.ClaimResult, error) {
	res := store.ClaimResult{Messages: []store.Message{}}
	if err := s.enter(ctx); err != nil {
		return res, err
	}
	if spec.Limit <= 0 {
		return res, nil
	}
	maxCount := 0
	if spec.MaxClaimCount > 0 && spec.DeadLetterQueue != "" {
		maxCount = spec.MaxClaimCount
	}
	claimID, lease := uuid.NewString(), uuid.NewString()
	keys := s.queueKeys(project, queue)
	v, err := s.run(ctx, scriptClaim, keys, micros(now), claimID, durMicros(spec.TTL), durMicros(spec.Grace),
		spec.Limit, maxCount, lease, micros(now.Add(deadLetterLease)))
	if err != nil {
		return res, err
	}
	r := array(v)
	if len(r) < 2 {
		return res, nil
	}
	epoch, taken := str(r[0]), int(integer(r[1]))
	pairs := r[2:]
	if 2*taken > len(pairs) {
		return res, fmt.Errorf("%w: claim: unexpected reply", store.ErrUnavailable)
	}
	msgs, err := decodeMessages(epoch, pairs[:2*taken])
	if err != nil {
		return res, err
	}
	if len(msgs) > 0 {
		res.Messages = msgs
		res.Claim = store.Claim{
			ID: claimID, TTL: spec.TTL, Grace: spec.Grace, Updated: fromMicros(micros(now)),
			Expires: fromMicros(micros(now) + durMicros(spec.TTL)),
		}
	}
	if leased := pairs[2*taken:]; len(leased) > 0 {
		n, err := s.deadLetter(ctx, project, queue, spec, lease, leased, now)
		if err != nil {
			return store.ClaimResult{Messages: []store.Message{}}, err
		}
		res.DeadLettered = n
	}
	return res, nil
}

// deadLetter appends the leased messages to the dead-letter queue, then removes them from the source.
func (s *Store) deadLetter(ctx context.Context, project, queue string, spec store.ClaimSpec, lease string, leased []any, now time.Time) (int, error) {
	moved := make([]posted, 0, len(leased)/2)
	removeArgs := []any{micros(now), lease}
	for i := 0; i+1 < len(leased); i += 2 {
		seq, rec := str(leased[i]), str(leased[i+1])
		m, err := decodeMessage("", seq, rec)
		if err != nil {
			return 0, err
		}
		ttl := spec.DeadLetterTTL
		if ttl <= 0 {
			ttl = postedTTL(rec)
		}
		moved = append(moved, posted{ttl: ttl, client: m.ClientID, count: m.ClaimCount, body: m.Body})
		removeArgs = append(removeArgs, seq)
	}
	if _, err := s.post(ctx, project, spec.DeadLetterQueue, moved, now); err != nil {
		return 0, err
	}
	if _, err := s.run(ctx, scriptDeadLettered, s.queueKeys(project, queue), removeArgs...); err != nil {
		return 0, err
	}
	return len(moved), nil
}

func claimNotFound(id string) error { return fmt.Errorf("claim %q: %w", id, store.ErrNotFound) }

// GetClaim implements store.Claims.
func (s *Store) GetClaim(ctx context.Context, project, queue, claimID string, now time.Time) (store.Claim, []store.Message, error) {
	if err := s.enter(ctx); err != nil {
		return store.Claim{}, nil, err
	}
	v, err := s.run(ctx, scriptClaimGet, s.queueKeys(project, queue), micros(now), claimID)
	if err != nil {
		return store.Claim{}, nil, err
	}
	r := array(v)
	if len(r) < 2 {
		return store.Claim{}, nil, claimNotFound(claimID)
	}
	c, err := decodeClaim(claimID, str(r[0]))
	if err != nil {
		return store.Claim{}, nil, err
	}
	msgs, err := decodeMessages(str(r[1]), r[2:])
	if err != nil {
		return store.Claim{}, nil, err
	}
	return c, msgs, nil
}

// RenewClaim implements store.Claims.
func (s *Store) RenewClaim(ctx context.Context, project, queue, claimID string, ttl, grace time.Duration, now time.Time) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	v, err := s.run(ctx, scriptRenew, s.queueKeys(project, queue), micros(now), claimID, durMicros(ttl), durMicros(grace))
	if err != nil {
		return err
	}
	if integer(v) != 1 {
		return claimNotFound(claimID)
	}
	return nil
}

// ReleaseClaim implements store.Claims.
func (s *Store) ReleaseClaim(ctx context.Context, project, queue, claimID string, now time.Time) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	_, err := s.run(ctx, scriptRelease, s.queueKeys(project, queue), micros(now), claimID)
	return err
}
