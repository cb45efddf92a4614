package broker

import (
	"context"
	"errors"

	"github.com/zedge-io/zedge/store"
)

const errSubscriptionExists = "Such subscription already exists.Subscriptions are unique by project + queue + subscriber URI."

// CreateSubscription handles a raw subscription body. created is false when an unconfirmed duplicate was
// returned instead (still a 201 in Zaqar); a confirmed duplicate gives ErrConflict.
//
// The body needs "subscriber" (a URI whose scheme is in Limits.SubscriberTypes); "options", if truthy, must be an
// object (stored as sent; missing means {}), and its _retry_policy is validated; "ttl", if truthy, must be an
// integer of at least MinSubscriptionTTL (missing or falsy: DefaultSubscriptionTTL). The queue is created if
// missing. Trust subscribers (trust+http) are stored as sent: no Keystone trust is created.
func (s *Service) CreateSubscription(ctx context.Context, project, queue string, body []byte) (sub Subscription, created bool, err error) {
	if err := checkQueue(project, queue); err != nil {
		return Subscription{}, false, err
	}
	now := s.now()
	f, err := decodeSubscriptionCreate(body, &s.limits, now)
	if err != nil {
		return Subscription{}, false, err
	}
	ttl := int64(s.limits.DefaultSubscriptionTTL)
	if f.hasTTL {
		ttl = f.ttl
	}
	options := f.options
	if !f.hasOptions {
		options = []byte("{}")
	}
	got, err := s.store.CreateSubscription(ctx, project, Subscription{
		Queue:      queue,
		Subscriber: f.subscriber,
		TTL:        seconds(ttl),
		Options:    options,
	}, now)
	switch {
	case err == nil:
		s.notifySubscription(SubscriptionEvent{Kind: SubscriptionCreated, Project: project, Subscription: got})
		return got, true, nil
	case errors.Is(err, store.ErrConflict):
		if got.Confirmed {
			return Subscription{}, false, &Error{Kind: ErrConflict, Description: errSubscriptionExists, Err: err}
		}
		s.notifySubscription(SubscriptionEvent{Kind: SubscriptionCreated, Project: project, Subscription: got,
			Existing: true})
		return got, false, nil
	}
	return Subscription{}, false, s.unavailable(err, "Subscription could not be created.")
}

// ListSubscriptions lists a queue's live subscriptions by ID. Limit is 1..MaxSubscriptionsPerPage (0: 10).
func (s *Service) ListSubscriptions(ctx context.Context, project, queue, marker string, limit int) ([]Subscription, error) {
	if err := checkQueue(project, queue); err != nil {
		return nil, err
	}
	limit, err := pageLimit(limit, s.limits.MaxSubscriptionsPerPage, "Limit must be at least 1 and may not be greater than %d.")
	if err != nil {
		return nil, err
	}
	subs, err := s.store.ListSubscriptions(ctx, project, queue, marker, limit, s.now())
	if err != nil && !isNotFound(err) {
		return nil, s.unavailable(err, "Subscriptions could not be listed.")
	}
	if subs == nil {
		subs = []Subscription{}
	}
	return subs, nil
}

func errSubscriptionNotFound(err error, id string) error {
	return notFound(err, "Subscription %s does not exist", id)
}

// GetSubscription returns one live subscription.
func (s *Service) GetSubscription(ctx context.Context, project, queue, id string) (Subscription, error) {
	if err := checkQueue(project, queue); err != nil {
		return Subscription{}, err
	}
	sub, err := s.store.GetSubscription(ctx, project, queue, id, s.now())
	switch {
	case isNotFound(err):
		return Subscription{}, errSubscriptionNotFound(err, id)
	case err != nil:
		return Subscription{}, s.unavailable(err, "Subscription could not be retrieved.")
	}
	return sub, nil
}

// UpdateSubscription applies a raw PATCH body: any of subscriber, ttl, options, validated as on creation. An empty
// body or {} is "No subscription to create."; a body with none of the three (unknown keys only, or only null/falsy
// values) is ErrCannotUpdateSub. Options are replaced wholesale; a new ttl restarts the expiry from now; taking a
// subscriber already used on the queue is ErrConflict.
func (s *Service) UpdateSubscription(ctx context.Context, project, queue, id string, body []byte) error {
	if err := checkQueue(project, queue); err != nil {
		return err
	}
	now := s.now()
	f, err := decodeSubscriptionPatch(body, &s.limits, now)
	if err != nil {
		return err
	}
	var upd store.SubscriptionUpdate
	if f.hasSubscriber {
		upd.Subscriber = &f.subscriber
	}
	if f.hasTTL {
		ttl := seconds(f.ttl)
		upd.TTL = &ttl
	}
	if f.hasOptions {
		upd.Options = f.options
	}
	if upd.Subscriber == nil && upd.TTL == nil && upd.Options == nil {
		return Errorf(ErrCannotUpdateSub, "Subscription %s could not be updated.", id)
	}
	sub, err := s.store.UpdateSubscription(ctx, project, queue, id, upd, now)
	switch {
	case err == nil:
		s.notifySubscription(SubscriptionEvent{Kind: SubscriptionUpdated, Project: project, Subscription: sub})
		return nil
	case isNotFound(err):
		return errSubscriptionNotFound(err, id)
	case errors.Is(err, store.ErrConflict):
		return &Error{Kind: ErrConflict, Description: errSubscriptionExists, Err: err}
	}
	return s.unavailable(err, "Subscription could not be updated.")
}

// ConfirmSubscription applies a raw {"confirmed": bool} body.
func (s *Service) ConfirmSubscription(ctx context.Context, project, queue, id string, body []byte) (Subscription, error) {
	if err := checkQueue(project, queue); err != nil {
		return Subscription{}, err
	}
	confirmed, err := decodeConfirm(body, id)
	if err != nil {
		return Subscription{}, err
	}
	sub, err := s.store.UpdateSubscription(ctx, project, queue, id, store.SubscriptionUpdate{Confirmed: &confirmed}, s.now())
	switch {
	case isNotFound(err):
		return Subscription{}, errSubscriptionNotFound(err, id)
	case err != nil:
		return Subscription{}, s.unavailable(err, "Subscription could not be confirmed.")
	}
	kind := SubscriptionConfirmed
	if !confirmed {
		kind = SubscriptionUnconfirmed
	}
	s.notifySubscription(SubscriptionEvent{Kind: kind, Project: project, Subscription: sub})
	return sub, nil
}

// DeleteSubscription deletes a subscription; idempotent.
func (s *Service) DeleteSubscription(ctx context.Context, project, queue, id string) error {
	if err := checkQueue(project, queue); err != nil {
		return err
	}
	if err := s.store.DeleteSubscription(ctx, project, queue, id); err != nil && !isNotFound(err) {
		return s.unavailable(err, "Subscription could not be deleted.")
	}
	s.notifySubscription(SubscriptionEvent{Kind: SubscriptionDeleted, Project: project,
		Subscription: Subscription{ID: id, Queue: queue}})
	return nil
}
