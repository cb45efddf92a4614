package broker

import (
	"context"
	"fmt"

	"github.com/zedge-io/zedge/store"
)

// claimTTL resolves a claim's ttl (nil: the configured default) and checks it with Zaqar's text.
func (s *Service) claimTTL(opt ClaimOptions) (int, error) {
	ttl := s.limits.DefaultClaimTTL
	if opt.TTL != nil {
		ttl = *opt.TTL
	}
	if ttl < s.limits.MinClaimTTL || ttl > s.limits.MaxClaimTTL {
		return 0, Errorf(ErrInvalid, "The TTL for a claim may not exceed %d seconds, and must be at least %d seconds long.",
			s.limits.MaxClaimTTL, s.limits.MinClaimTTL)
	}
	return ttl, nil
}

// claimGrace does the same for the grace.
func (s *Service) claimGrace(opt ClaimOptions) (int, error) {
	grace := s.limits.DefaultClaimGrace
	if opt.Grace != nil {
		grace = *opt.Grace
	}
	if grace < s.limits.MinClaimGrace || grace > s.limits.MaxClaimGrace {
		return 0, Errorf(ErrInvalid, "The grace for a claim may not exceed %d seconds, and must be at least %d seconds long.",
			s.limits.MaxClaimGrace, s.limits.MinClaimGrace)
	}
	return grace, nil
}

// CreateClaim claims up to opt.Limit (1..MaxMessagesPerClaimOrPop; 0: 10) messages; an empty result (no claim) is
// not an error, including for a missing queue. Checks run in Zaqar's order: ttl, limit, grace. The queue's
// _max_claim_count, _dead_letter_queue and _dead_letter_queue_messages_ttl drive dead-lettering, which is active
// only when both the count and the dead-letter queue are set.
func (s *Service) CreateClaim(ctx context.Context, project, queue string, opt ClaimOptions) (Claim, []Message, error) {
	if err := checkQueue(project, queue); err != nil {
		return Claim{}, nil, err
	}
	ttl, err := s.claimTTL(opt)
	if err != nil {
		return Claim{}, nil, err
	}
	limit, err := pageLimit(opt.Limit, s.limits.MaxMessagesPerClaimOrPop, "Limit must be at least 1 and may not be greater than %d.")
	if err != nil {
		return Claim{}, nil, err
	}
	grace, err := s.claimGrace(opt)
	if err != nil {
		return Claim{}, nil, err
	}
	spec := store.ClaimSpec{TTL: seconds(int64(ttl)), Grace: seconds(int64(grace)), Limit: limit}
	q, err := s.store.GetQueue(ctx, project, queue)
	switch {
	case err == nil:
		qs := readSettings(q.Metadata)
		if qs.maxClaimCount > 0 && qs.deadLetter != "" {
			if ValidQueueName(qs.deadLetter) {
				spec.MaxClaimCount = int(qs.maxClaimCount)
				spec.DeadLetterQueue = qs.deadLetter
				if qs.deadLetterTTL > 0 {
					spec.DeadLetterTTL = seconds(qs.deadLetterTTL)
				}
			} else {
				s.log.Warn("dead-letter queue name is not a valid queue name; dead-lettering is off",
					"project", project, "queue", queue, "dead_letter_queue", qs.deadLetter)
			}
		}
	case isNotFound(err):
		return Claim{}, []Message{}, nil
	default:
		return Claim{}, nil, s.unavailable(err, "Claim could not be created.")
	}
	res, err := s.store.CreateClaim(ctx, project, queue, spec, s.now())
	if err != nil && !isNotFound(err) {
		return Claim{}, nil, s.unavailable(err, "Claim could not be created.")
	}
	if res.DeadLettered > 0 {
		s.log.Debug("messages dead-lettered", "project", project, "queue", queue,
			"dead_letter_queue", spec.DeadLetterQueue, "count", res.DeadLettered)
		s.notifyDeadLettered(project, queue, res.DeadLettered)
	}
	if len(res.Messages) == 0 {
		return Claim{}, []Message{}, nil
	}
	return res.Claim, res.Messages, nil
}

// GetClaim returns a live claim and its messages.
func (s *Service) GetClaim(ctx context.Context, project, queue, id string) (Claim, []Message, error) {
	if err := checkQueue(project, queue); err != nil {
		return Claim{}, nil, err
	}
	c, msgs, err := s.store.GetClaim(ctx, project, queue, id, s.now())
	switch {
	case isNotFound(err):
		return Claim{}, nil, notFound(err, "Claim %s does not exist in queue %s for project %s", id, queue, project)
	case err != nil:
		return Claim{}, nil, s.unavailable(err, "Claim could not be queried.")
	}
	if msgs == nil {
		msgs = []Message{}
	}
	return c, msgs, nil
}

// UpdateClaim renews a claim: nil ttl/grace mean the defaults (300/60), so {} resets the claim. Unlike Zaqar, which
// range-checks only the ttl on renewal, the grace gets the same check as on creation.
func (s *Service) UpdateClaim(ctx context.Context, project, queue, id string, opt ClaimOptions) error {
	if err := checkQueue(project, queue); err != nil {
		return err
	}
	ttl, err := s.claimTTL(opt)
	if err != nil {
		return err
	}
	grace, err := s.claimGrace(opt)
	if err != nil {
		return err
	}
	err = s.store.RenewClaim(ctx, project, queue, id, seconds(int64(ttl)), seconds(int64(grace)), s.now())
	switch {
	case isNotFound(err):
		return notFound(err, "Claim %s does not exist in queue %s for project %s", id, queue, project)
	case err != nil:
		return s.unavailable(err, "Claim could not be updated.")
	}
	return nil
}

// ReleaseClaim releases a claim; idempotent.
func (s *Service) ReleaseClaim(ctx context.Context, project, queue, id string) error {
	if err := checkQueue(project, queue); err != nil {
		return err
	}
	if err := s.store.ReleaseClaim(ctx, project, queue, id, s.now()); err != nil && !isNotFound(err) {
		return s.unavailable(err, "Claim could not be deleted.")
	}
	return nil
}

// DeadLetterObserver is an optional extension of Observer: an observer that implements it is told, after a
// claim, how many messages of queue went over _max_claim_count and were moved to the dead-letter queue.
// Like MessagesPosted it must not block.
type DeadLetterObserver interface {
	MessagesDeadLettered(project, queue string, n int)
}

// notifyDeadLettered tells the observers that implement DeadLetterObserver, with the same rules as notify.
func (s *Service) notifyDeadLettered(project, queue string, n int) {
	for _, o := range *s.observersV.Load() {
		do, ok := o.(DeadLetterObserver)
		if !ok {
			continue
		}
		func() {
			defer func() {
				if r := recover(); r != nil {
					s.log.Error("observer panicked", "observer", fmt.Sprintf("%T", o), "panic", r)
				}
			}()
			do.MessagesDeadLettered(project, queue, n)
		}()
	}
}
