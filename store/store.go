package store

import (
	"context"
	"time"
)

// Store is the whole persistence contract of zedge. It is queue-shaped on purpose: every operation that must be
// atomic (posting a batch in order, claiming with dead-lettering, deleting under claim rules, popping) is one call,
// so each backend can make it atomic in its own way (a per-queue critical section, a Lua script, ...).
//
// Every method takes a context; methods whose outcome depends on time take an explicit now, so tests and the
// conformance suite control the clock. Projects are arbitrary strings of up to 256 bytes; queue names are already
// validated by the caller.
type Store interface {
	Queues
	Messages
	Claims
	Subscriptions

	// Health reports whether the backend can serve requests.
	Health(ctx context.Context) error
	// Capabilities describes the backend.
	Capabilities() Capabilities
	// Close flushes and releases the backend. Calls after Close fail with ErrClosed.
	Close() error
}

// Queues manages the queue catalogue of each project.
type Queues interface {
	// CreateQueue creates the queue with the given metadata (a JSON object) unless it exists.
	// It reports whether the queue was created; an existing queue keeps its metadata.
	CreateQueue(ctx context.Context, project, queue string, metadata []byte, now time.Time) (created bool, err error)
	// GetQueue returns the queue or ErrNotFound.
	GetQueue(ctx context.Context, project, queue string) (Queue, error)
	// ListQueues returns up to limit queues of the project ordered by name (byte order), strictly after marker.
	ListQueues(ctx context.Context, project, marker string, limit int) ([]Queue, error)
	// CountQueues counts the queues of the project.
	CountQueues(ctx context.Context, project string) (int, error)
	// UpdateQueue atomically replaces the queue's metadata with update(current). An error from update aborts the
	// change and is returned as is. A missing queue gives ErrNotFound.
	UpdateQueue(ctx context.Context, project, queue string, update func(metadata []byte) ([]byte, error)) ([]byte, error)
	// DeleteQueue removes the queue, its messages and its claims. Subscriptions stay (Zaqar behaviour).
	// Deleting a missing queue is not an error.
	DeleteQueue(ctx context.Context, project, queue string) error
	// Stats counts the live messages of a queue. A missing queue gives zero stats, not an error.
	Stats(ctx context.Context, project, queue string, now time.Time) (QueueStats, error)
}

// Messages manages the messages of a queue.
type Messages interface {
	// PostMessages appends the messages in order, creating the queue with empty metadata if it does not exist,
	// and returns their IDs in the same order. When it returns nil the messages are as durable as the backend
	// is configured to make them.
	PostMessages(ctx context.Context, project, queue string, msgs []NewMessage, now time.Time) ([]string, error)
	// ListMessages returns a page of live messages in post order, strictly after q.Marker.
	// An unknown or malformed marker gives an empty page. A missing queue gives an empty page.
	ListMessages(ctx context.Context, project, queue string, q MessageQuery, now time.Time) (MessagePage, error)
	// GetMessages returns the live messages among ids, in post order; unknown ids are skipped.
	GetMessages(ctx context.Context, project, queue string, ids []string, now time.Time) ([]Message, error)
	// DeleteMessage deletes one message, honouring claims: it returns ErrClaimed if the message is under a live
	// claim other than claimID, ErrNotClaimed if claimID is given but the message is not under a live claim, and
	// ErrClaimNotFound if claimID names no live claim while the message is claimed by another. A missing message
	// (or queue) is not an error.
	DeleteMessage(ctx context.Context, project, queue, id, claimID string, now time.Time) error
	// DeleteMessages deletes the given messages whether or not they are claimed; unknown ids are ignored.
	DeleteMessages(ctx context.Context, project, queue string, ids []string, now time.Time) error
	// PopMessages atomically removes and returns up to limit unclaimed, undelayed live messages from the head.
	PopMessages(ctx context.Context, project, queue string, limit int, now time.Time) ([]Message, error)
	// PurgeMessages deletes every message and claim of the queue; the queue itself stays.
	PurgeMessages(ctx context.Context, project, queue string) error
}

// Claims manages claims: leases on messages that hide them from other consumers until the claim expires.
type Claims interface {
	// CreateClaim atomically claims up to spec.Limit live, unclaimed, undelayed messages from the head of the
	// queue, in post order, checking every message. Each claimed message's claim count is incremented and its
	// life extended to at least the claim's expiry plus grace. When spec dead-letters (MaxClaimCount > 0 and
	// DeadLetterQueue set), a message whose claim count has reached MaxClaimCount is moved instead, in the same
	// atomic step, to the end of the dead-letter queue as a fresh unclaimed message (ttl DeadLetterTTL, or its
	// original ttl when that is zero), keeping its body, poster and claim count.
	// If nothing could be claimed (including a missing queue) the result has no messages and no claim is created.
	CreateClaim(ctx context.Context, project, queue string, spec ClaimSpec, now time.Time) (ClaimResult, error)
	// GetClaim returns a live claim and its live messages, or ErrNotFound.
	GetClaim(ctx context.Context, project, queue, claimID string, now time.Time) (Claim, []Message, error)
	// RenewClaim restarts a live claim with a new ttl and grace, extending its messages' lives as CreateClaim
	// does, or returns ErrNotFound.
	RenewClaim(ctx context.Context, project, queue, claimID string, ttl, grace time.Duration, now time.Time) error
	// ReleaseClaim ends a claim; its messages become claimable again (claim counts are kept).
	// Releasing an unknown claim is not an error.
	ReleaseClaim(ctx context.Context, project, queue, claimID string, now time.Time) error
}

// Subscriptions manages the notification subscriptions of a queue.
type Subscriptions interface {
	// CreateSubscription stores sub (ID, Created and Expires are set by the store) and returns it. If the queue
	// already has a live subscription with the same Subscriber, it returns that one and ErrConflict.
	// The queue is created with empty metadata if it does not exist.
	CreateSubscription(ctx context.Context, project string, sub Subscription, now time.Time) (Subscription, error)
	// GetSubscription returns a live subscription or ErrNotFound.
	GetSubscription(ctx context.Context, project, queue, id string, now time.Time) (Subscription, error)
	// ListSubscriptions returns up to limit live subscriptions ordered by ID, strictly after marker.
	ListSubscriptions(ctx context.Context, project, queue, marker string, limit int, now time.Time) ([]Subscription, error)
	// UpdateSubscription applies the non-nil fields of upd. A new TTL restarts the expiry from now. Taking a
	// subscriber already used on the queue gives ErrConflict; a missing subscription ErrNotFound.
	UpdateSubscription(ctx context.Context, project, queue, id string, upd SubscriptionUpdate, now time.Time) (Subscription, error)
	// DeleteSubscription removes a subscription; a missing one is not an error.
	DeleteSubscription(ctx context.Context, project, queue, id string) error
	// PurgeSubscriptions removes every subscription of the queue.
	PurgeSubscriptions(ctx context.Context, project, queue string) error
}

// Capabilities describes a backend.
type Capabilities struct {
	// Name is a short backend name for logs and health output, e.g. "badger".
	Name string
	// Durable reports whether acknowledged writes survive a process crash.
	Durable bool
}

// Sizer is implemented by backends that can report the bytes they occupy on disk.
type Sizer interface {
	DiskUsage() (int64, error)
}

// Compactor is implemented by backends that reclaim space in the background and can be asked to do it now.
type Compactor interface {
	Compact(ctx context.Context) error
}
