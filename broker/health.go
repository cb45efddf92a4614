package broker

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/zedge-io/zedge/store"
)

// Ping reports whether the store answers.
func (s *Service) Ping(ctx context.Context) error {
	if err := s.store.Health(ctx); err != nil {
		return &Error{Kind: ErrUnavailable, Description: "Storage is not reachable. Please try again in a few seconds.", Err: err}
	}
	return nil
}

// Health operation names, as Zaqar reports them.
const (
	HealthCreateQueue        = "create_queue"
	HealthPostMessages       = "post_messages"
	HealthClaimMessages      = "claim_messages"
	HealthListMessages       = "list_messages"
	HealthDeleteMessages     = "delete_messages"
	HealthDeleteClaim        = "delete_claim"
	HealthBulkDeleteMessages = "bulk_delete_messages"
	HealthDeleteQueue        = "delete_queue"
)

// healthMessages is how many messages the self-test posts.
const healthMessages = 100

// Health runs the self-test of GET /v2/health: in a random project and queue it creates the queue, posts 100
// messages, claims some, lists, deletes a claimed message under its claim, releases the claim, bulk-deletes, and
// deletes the queue, timing each step. A failed step is reported with succeeded=false and a ref (a UUID logged with
// the cause), as Zaqar does; only an unreachable store fails the whole call (ErrUnavailable "Health status could not
// be read."). Step durations are measured with the real clock, not the service clock.
func (s *Service) Health(ctx context.Context) (HealthReport, error) {
	if err := s.store.Health(ctx); err != nil {
		return HealthReport{}, &Error{Kind: ErrUnavailable, Err: err,
			Description: "Health status could not be read. Please try again in a few seconds."}
	}
	rep := HealthReport{StorageReachable: true, OperationStatus: make(map[string]OperationStatus, 8)}
	project := "zedge-health-" + randomUUID()
	queue := "health-" + randomUUID()

	step := func(name string, op func() error) bool {
		start := time.Now()
		err := op()
		st := OperationStatus{Succeeded: err == nil, Seconds: time.Since(start).Seconds()}
		if err != nil {
			ref := randomUUID()
			st.Ref = &ref
			s.log.Error("health self-test step failed", "op", name, "ref", ref, "err", err)
		}
		rep.OperationStatus[name] = st
		return err == nil
	}

	step(HealthCreateQueue, func() error {
		_, err := s.store.CreateQueue(ctx, project, queue, []byte("{}"), s.now())
		return err
	})
	var ids []string
	step(HealthPostMessages, func() error {
		msgs := make([]store.NewMessage, healthMessages)
		for i := range msgs {
			msgs[i] = store.NewMessage{Body: fmt.Appendf(nil, `{"event":"p_%d"}`, i), TTL: 600 * time.Second}
		}
		var err error
		ids, err = s.store.PostMessages(ctx, project, queue, msgs, s.now())
		return err
	})
	var claim store.ClaimResult
	step(HealthClaimMessages, func() error {
		var err error
		claim, err = s.store.CreateClaim(ctx, project, queue,
			store.ClaimSpec{TTL: 60 * time.Second, Grace: 300 * time.Second, Limit: defaultPageSize}, s.now())
		if err == nil && len(claim.Messages) == 0 && len(ids) > 0 {
			err = fmt.Errorf("claimed nothing from a queue holding %d messages", len(ids))
		}
		return err
	})
	step(HealthListMessages, func() error {
		_, err := s.store.ListMessages(ctx, project, queue,
			store.MessageQuery{Limit: defaultPageSize, Echo: true, IncludeClaimed: true, IncludeDelayed: true}, s.now())
		return err
	})
	step(HealthDeleteMessages, func() error {
		if len(claim.Messages) == 0 {
			return fmt.Errorf("no claimed message to delete")
		}
		return s.store.DeleteMessage(ctx, project, queue, claim.Messages[0].ID, claim.Claim.ID, s.now())
	})
	step(HealthDeleteClaim, func() error {
		if claim.Claim.ID == "" {
			return fmt.Errorf("no claim to release")
		}
		return s.store.ReleaseClaim(ctx, project, queue, claim.Claim.ID, s.now())
	})
	step(HealthBulkDeleteMessages, func() error {
		if len(ids) == 0 {
			return fmt.Errorf("no posted messages to delete")
		}
		return s.store.DeleteMessages(ctx, project, queue, ids[:min(len(ids), defaultPageSize)], s.now())
	})
	step(HealthDeleteQueue, func() error {
		return s.store.DeleteQueue(ctx, project, queue)
	})
	return rep, nil
}

// randomUUID returns a random (version 4) UUID in canonical form.
func randomUUID() string {
	var id ClientID
	_, _ = rand.Read(id[:]) // crypto/rand.Read never fails (Go 1.24+)
	id[6] = id[6]&0x0f | 0x40
	id[8] = id[8]&0x3f | 0x80
	return ClientIDString(id)
}
