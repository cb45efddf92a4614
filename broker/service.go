package broker

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/zedge-io/zedge/store"
)

// Config configures a Service.
type Config struct {
	Limits Limits `yaml:"limits"`
}

// DefaultConfig returns Zaqar's defaults.
func DefaultConfig() Config { return Config{Limits: DefaultLimits()} }

// Validate checks the configuration.
func (c Config) Validate() error { return c.Limits.Validate() }

// Service owns every Zaqar rule. REST, websocket and the MQTT bridge all call it, so no rule is written twice.
// It is safe for concurrent use.
type Service struct {
	store     store.Store
	limits    Limits
	now       Clock
	log       *slog.Logger
	observers []Observer
}

// Option configures a Service.
type Option func(*Service)

// WithClock replaces time.Now.
func WithClock(c Clock) Option { return func(s *Service) { s.now = c } }

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// WithObserver adds an observer told after every successful post.
func WithObserver(o Observer) Option {
	return func(s *Service) { s.observers = append(s.observers, o) }
}

// New builds a Service over st.
func New(st store.Store, cfg Config, opts ...Option) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Service{store: st, limits: cfg.Limits, now: time.Now, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// Limits returns the limits in force (transports use them for size checks before reading a body).
func (s *Service) Limits() Limits { return s.limits }

// AddObserver registers an observer after construction (for components built after the service).
func (s *Service) AddObserver(o Observer) { s.observers = append(s.observers, o) }

var errNotImplemented = &Error{Kind: ErrUnavailable, Description: "not implemented yet", Err: errors.New("todo")}

// --- Queues ---

// ListQueues lists the project's queues by name.
func (s *Service) ListQueues(ctx context.Context, project string, opt QueueListOptions) (QueueList, error) {
	return QueueList{}, errNotImplemented
}

// CreateQueue creates a queue with the optional metadata body (raw JSON object; empty means none).
// It reports whether the queue was created (false: it existed, and its metadata is unchanged).
func (s *Service) CreateQueue(ctx context.Context, project, queue string, body []byte) (bool, error) {
	return false, errNotImplemented
}

// GetQueue returns the metadata with reserved defaults filled in (a missing queue gives just the defaults).
func (s *Service) GetQueue(ctx context.Context, project, queue string) (Metadata, error) {
	return nil, errNotImplemented
}

// PatchQueue applies a raw Zaqar JSON-patch body and returns the new metadata with defaults filled in.
func (s *Service) PatchQueue(ctx context.Context, project, queue string, body []byte) (Metadata, error) {
	return nil, errNotImplemented
}

// DeleteQueue deletes the queue and its messages; idempotent.
func (s *Service) DeleteQueue(ctx context.Context, project, queue string) error {
	return errNotImplemented
}

// QueueStats counts the queue's messages (zeros for a missing queue).
func (s *Service) QueueStats(ctx context.Context, project, queue string) (QueueStats, error) {
	return QueueStats{}, errNotImplemented
}

// PurgeQueue handles a raw purge body (empty: purge messages and subscriptions).
func (s *Service) PurgeQueue(ctx context.Context, project, queue string, body []byte) error {
	return errNotImplemented
}

// --- Messages ---

// PostMessages validates and stores a raw body of the form {"messages": [...]} (extra top-level keys ignored)
// and returns the new IDs in order. size is the request size compared with the post-size limits.
func (s *Service) PostMessages(ctx context.Context, c Caller, queue string, body []byte, size int) ([]string, error) {
	return nil, errNotImplemented
}

// ListMessages lists messages in post order.
func (s *Service) ListMessages(ctx context.Context, c Caller, queue string, opt MessageListOptions) (MessageList, error) {
	return MessageList{}, errNotImplemented
}

// GetMessage returns one message.
func (s *Service) GetMessage(ctx context.Context, project, queue, id string) (Message, error) {
	return Message{}, errNotImplemented
}

// GetMessages returns the found messages among 1..MaxMessagesPerPage ids (none found: ErrNotFound).
func (s *Service) GetMessages(ctx context.Context, project, queue string, ids []string) ([]Message, error) {
	return nil, errNotImplemented
}

// DeleteMessage deletes one message under Zaqar's claim rules.
func (s *Service) DeleteMessage(ctx context.Context, project, queue, id, claimID string) error {
	return errNotImplemented
}

// DeleteMessages deletes 1..MaxMessagesPerPage messages by id, claimed or not.
func (s *Service) DeleteMessages(ctx context.Context, project, queue string, ids []string) error {
	return errNotImplemented
}

// PopMessages takes and deletes up to n unclaimed messages from the head.
func (s *Service) PopMessages(ctx context.Context, project, queue string, n int) ([]Message, error) {
	return nil, errNotImplemented
}

// --- Claims ---

// DecodeClaimOptions parses a raw claim body ({"ttl", "grace", "limit"}); an empty body means defaults.
func DecodeClaimOptions(body []byte) (ClaimOptions, error) { return ClaimOptions{}, errNotImplemented }

// CreateClaim claims messages; an empty result (no claim) is not an error.
func (s *Service) CreateClaim(ctx context.Context, project, queue string, opt ClaimOptions) (Claim, []Message, error) {
	return Claim{}, nil, errNotImplemented
}

// GetClaim returns a live claim and its messages.
func (s *Service) GetClaim(ctx context.Context, project, queue, id string) (Claim, []Message, error) {
	return Claim{}, nil, errNotImplemented
}

// UpdateClaim renews a claim (nil ttl/grace mean the defaults).
func (s *Service) UpdateClaim(ctx context.Context, project, queue, id string, opt ClaimOptions) error {
	return errNotImplemented
}

// ReleaseClaim releases a claim; idempotent.
func (s *Service) ReleaseClaim(ctx context.Context, project, queue, id string) error {
	return errNotImplemented
}

// --- Subscriptions ---

// CreateSubscription handles a raw subscription body. created is false when an unconfirmed duplicate was
// returned instead (still a 201 in Zaqar); a confirmed duplicate gives ErrConflict.
func (s *Service) CreateSubscription(ctx context.Context, project, queue string, body []byte) (sub Subscription, created bool, err error) {
	return Subscription{}, false, errNotImplemented
}

// ListSubscriptions lists a queue's subscriptions by ID.
func (s *Service) ListSubscriptions(ctx context.Context, project, queue, marker string, limit int) ([]Subscription, error) {
	return nil, errNotImplemented
}

// GetSubscription returns one subscription.
func (s *Service) GetSubscription(ctx context.Context, project, queue, id string) (Subscription, error) {
	return Subscription{}, errNotImplemented
}

// UpdateSubscription applies a raw PATCH body.
func (s *Service) UpdateSubscription(ctx context.Context, project, queue, id string, body []byte) error {
	return errNotImplemented
}

// ConfirmSubscription applies a raw {"confirmed": bool} body.
func (s *Service) ConfirmSubscription(ctx context.Context, project, queue, id string, body []byte) (Subscription, error) {
	return Subscription{}, errNotImplemented
}

// DeleteSubscription deletes a subscription; idempotent.
func (s *Service) DeleteSubscription(ctx context.Context, project, queue, id string) error {
	return errNotImplemented
}

// --- Health ---

// Ping reports whether the store answers.
func (s *Service) Ping(ctx context.Context) error { return errNotImplemented }

// Health runs the self-test of GET /v2/health.
func (s *Service) Health(ctx context.Context) (HealthReport, error) {
	return HealthReport{}, errNotImplemented
}
