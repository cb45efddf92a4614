package storetest

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/zedge-io/zedge/store"
)

// Faulty wraps a store and makes chosen methods fail, for testing the error paths of the store's callers.
// Injected errors wrap store.ErrUnavailable unless FailWith says otherwise. It is safe for concurrent use.
type Faulty struct {
	store.Store
	mu      sync.Mutex
	failing map[string]error
	calls   map[string]int
}

var _ store.Store = (*Faulty)(nil)

// Method names accepted by Faulty: the methods of store.Store.
var faultyMethods = []string{
	"CreateQueue", "GetQueue", "ListQueues", "CountQueues", "UpdateQueue", "DeleteQueue", "Stats",
	"PostMessages", "ListMessages", "GetMessages", "DeleteMessage", "DeleteMessages", "PopMessages", "PurgeMessages",
	"CreateClaim", "GetClaim", "RenewClaim", "ReleaseClaim",
	"CreateSubscription", "GetSubscription", "ListSubscriptions", "UpdateSubscription", "DeleteSubscription",
	"PurgeSubscriptions", "Health",
}

// NewFaulty wraps s; nothing fails until FailOn or FailWith.
func NewFaulty(s store.Store) *Faulty {
	return &Faulty{Store: s, failing: map[string]error{}, calls: map[string]int{}}
}

// FailOn makes the named methods fail with an error wrapping store.ErrUnavailable. It panics on a name that is
// not a store.Store method, so a typo cannot make a test pass vacuously.
func (f *Faulty) FailOn(methods ...string) {
	for _, m := range methods {
		f.FailWith(fmt.Errorf("storetest: injected fault in %s: %w", m, store.ErrUnavailable), m)
	}
}

// FailWith makes the named methods fail with err.
func (f *Faulty) FailWith(err error, methods ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, m := range methods {
		known := false
		for _, k := range faultyMethods {
			known = known || k == m
		}
		if !known {
			panic("storetest: Faulty has no method " + m)
		}
		f.failing[m] = err
	}
}

// FailAll makes every method fail with an error wrapping store.ErrUnavailable.
func (f *Faulty) FailAll() { f.FailOn(faultyMethods...) }

// Heal makes the named methods (all when none are named) work again.
func (f *Faulty) Heal(methods ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(methods) == 0 {
		clear(f.failing)
		return
	}
	for _, m := range methods {
		delete(f.failing, m)
	}
}

// Calls reports how many times the named method was called (failed calls included).
func (f *Faulty) Calls(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[method]
}

func (f *Faulty) fault(method string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[method]++
	return f.failing[method]
}

// CreateQueue implements store.Store.
func (f *Faulty) CreateQueue(ctx context.Context, project, queue string, metadata []byte, now time.Time) (bool, error) {
	if err := f.fault("CreateQueue"); err != nil {
		return false, err
	}
	return f.Store.CreateQueue(ctx, project, queue, metadata, now)
}

// GetQueue implements store.Store.
func (f *Faulty) GetQueue(ctx context.Context, project, queue string) (store.Queue, error) {
	if err := f.fault("GetQueue"); err != nil {
		return store.Queue{}, err
	}
	return f.Store.GetQueue(ctx, project, queue)
}

// ListQueues implements store.Store.
func (f *Faulty) ListQueues(ctx context.Context, project, marker string, limit int) ([]store.Queue, error) {
	if err := f.fault("ListQueues"); err != nil {
		return nil, err
	}
	return f.Store.ListQueues(ctx, project, marker, limit)
}

// CountQueues implements store.Store.
func (f *Faulty) CountQueues(ctx context.Context, project string) (int, error) {
	if err := f.fault("CountQueues"); err != nil {
		return 0, err
	}
	return f.Store.CountQueues(ctx, project)
}

// UpdateQueue implements store.Store.
func (f *Faulty) UpdateQueue(ctx context.Context, project, queue string, update func([]byte) ([]byte, error)) ([]byte, error) {
	if err := f.fault("UpdateQueue"); err != nil {
		return nil, err
	}
	return f.Store.UpdateQueue(ctx, project, queue, update)
}

// DeleteQueue implements store.Store.
func (f *Faulty) DeleteQueue(ctx context.Context, project, queue string) error {
	if err := f.fault("DeleteQueue"); err != nil {
		return err
	}
	return f.Store.DeleteQueue(ctx, project, queue)
}

// Stats implements store.Store.
func (f *Faulty) Stats(ctx context.Context, project, queue string, now time.Time) (store.QueueStats, error) {
	if err := f.fault("Stats"); err != nil {
		return store.QueueStats{}, err
	}
	return f.Store.Stats(ctx, project, queue, now)
}

// PostMessages implements store.Store.
func (f *Faulty) PostMessages(ctx context.Context, project, queue string, msgs []store.NewMessage, now time.Time) ([]string, error) {
	if err := f.fault("PostMessages"); err != nil {
		return nil, err
	}
	return f.Store.PostMessages(ctx, project, queue, msgs, now)
}

// ListMessages implements store.Store.
func (f *Faulty) ListMessages(ctx context.Context, project, queue string, q store.MessageQuery, now time.Time) (store.MessagePage, error) {
	if err := f.fault("ListMessages"); err != nil {
		return store.MessagePage{}, err
	}
	return f.Store.ListMessages(ctx, project, queue, q, now)
}

// GetMessages implements store.Store.
func (f *Faulty) GetMessages(ctx context.Context, project, queue string, ids []string, now time.Time) ([]store.Message, error) {
	if err := f.fault("GetMessages"); err != nil {
		return nil, err
	}
	return f.Store.GetMessages(ctx, project, queue, ids, now)
}

// DeleteMessage implements store.Store.
func (f *Faulty) DeleteMessage(ctx context.Context, project, queue, id, claimID string, now time.Time) error {
	if err := f.fault("DeleteMessage"); err != nil {
		return err
	}
	return f.Store.DeleteMessage(ctx, project, queue, id, claimID, now)
}

// DeleteMessages implements store.Store.
func (f *Faulty) DeleteMessages(ctx context.Context, project, queue string, ids []string, now time.Time) error {
	if err := f.fault("DeleteMessages"); err != nil {
		return err
	}
	return f.Store.DeleteMessages(ctx, project, queue, ids, now)
}

// PopMessages implements store.Store.
func (f *Faulty) PopMessages(ctx context.Context, project, queue string, limit int, now time.Time) ([]store.Message, error) {
	if err := f.fault("PopMessages"); err != nil {
		return nil, err
	}
	return f.Store.PopMessages(ctx, project, queue, limit, now)
}

// PurgeMessages implements store.Store.
func (f *Faulty) PurgeMessages(ctx context.Context, project, queue string) error {
	if err := f.fault("PurgeMessages"); err != nil {
		return err
	}
	return f.Store.PurgeMessages(ctx, project, queue)
}

// CreateClaim implements store.Store.
func (f *Faulty) CreateClaim(ctx context.Context, project, queue string, spec store.ClaimSpec, now time.Time) (store.ClaimResult, error) {
	if err := f.fault("CreateClaim"); err != nil {
		return store.ClaimResult{}, err
	}
	return f.Store.CreateClaim(ctx, project, queue, spec, now)
}

// GetClaim implements store.Store.
func (f *Faulty) GetClaim(ctx context.Context, project, queue, claimID string, now time.Time) (store.Claim, []store.Message, error) {
	if err := f.fault("GetClaim"); err != nil {
		return store.Claim{}, nil, err
	}
	return f.Store.GetClaim(ctx, project, queue, claimID, now)
}

// RenewClaim implements store.Store.
func (f *Faulty) RenewClaim(ctx context.Context, project, queue, claimID string, ttl, grace time.Duration, now time.Time) error {
	if err := f.fault("RenewClaim"); err != nil {
		return err
	}
	return f.Store.RenewClaim(ctx, project, queue, claimID, ttl, grace, now)
}

// ReleaseClaim implements store.Store.
func (f *Faulty) ReleaseClaim(ctx context.Context, project, queue, claimID string, now time.Time) error {
	if err := f.fault("ReleaseClaim"); err != nil {
		return err
	}
	return f.Store.ReleaseClaim(ctx, project, queue, claimID, now)
}

// CreateSubscription implements store.Store.
func (f *Faulty) CreateSubscription(ctx context.Context, project string, sub store.Subscription, now time.Time) (store.Subscription, error) {
	if err := f.fault("CreateSubscription"); err != nil {
		return store.Subscription{}, err
	}
	return f.Store.CreateSubscription(ctx, project, sub, now)
}

// GetSubscription implements store.Store.
func (f *Faulty) GetSubscription(ctx context.Context, project, queue, id string, now time.Time) (store.Subscription, error) {
	if err := f.fault("GetSubscription"); err != nil {
		return store.Subscription{}, err
	}
	return f.Store.GetSubscription(ctx, project, queue, id, now)
}

// ListSubscriptions implements store.Store.
func (f *Faulty) ListSubscriptions(ctx context.Context, project, queue, marker string, limit int, now time.Time) ([]store.Subscription, error) {
	if err := f.fault("ListSubscriptions"); err != nil {
		return nil, err
	}
	return f.Store.ListSubscriptions(ctx, project, queue, marker, limit, now)
}

// UpdateSubscription implements store.Store.
func (f *Faulty) UpdateSubscription(ctx context.Context, project, queue, id string, upd store.SubscriptionUpdate, now time.Time) (store.Subscription, error) {
	if err := f.fault("UpdateSubscription"); err != nil {
		return store.Subscription{}, err
	}
	return f.Store.UpdateSubscription(ctx, project, queue, id, upd, now)
}

// DeleteSubscription implements store.Store.
func (f *Faulty) DeleteSubscription(ctx context.Context, project, queue, id string) error {
	if err := f.fault("DeleteSubscription"); err != nil {
		return err
	}
	return f.Store.DeleteSubscription(ctx, project, queue, id)
}

// PurgeSubscriptions implements store.Store.
func (f *Faulty) PurgeSubscriptions(ctx context.Context, project, queue string) error {
	if err := f.fault("PurgeSubscriptions"); err != nil {
		return err
	}
	return f.Store.PurgeSubscriptions(ctx, project, queue)
}

// Health implements store.Store.
func (f *Faulty) Health(ctx context.Context) error {
	if err := f.fault("Health"); err != nil {
		return err
	}
	return f.Store.Health(ctx)
}
