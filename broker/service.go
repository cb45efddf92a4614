package broker

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
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
	store  store.Store
	limits Limits
	now    Clock
	log    *slog.Logger

	// observers is copied on write so PostMessages reads it without a lock.
	observers   []Observer
	observersMu sync.Mutex
	observersV  atomic.Pointer[[]Observer]

	// defaults are the reported values of the reserved metadata keys.
	defaults Metadata
}

// Option configures a Service.
type Option func(*Service)

// WithClock replaces time.Now.
func WithClock(c Clock) Option { return func(s *Service) { s.now = c } }

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// WithTransportSubscriberScheme makes subscriptions accept subscriber URIs of scheme (lower case) besides
// Limits.SubscriberTypes, without listing it in the "must be supported" error text: a transport's own kind of
// subscriber, such as the websocket transport's sockets. Such subscriptions are stored like any other; only the
// transport that owns the scheme delivers to them.
func WithTransportSubscriberScheme(scheme string) Option {
	return func(s *Service) { s.limits.transportSchemes = append(s.limits.transportSchemes, scheme) }
}

// AcceptsSubscriberScheme reports whether subscribers of scheme are accepted (configured or transport scheme).
func (s *Service) AcceptsSubscriberScheme(scheme string) bool {
	return slices.Contains(s.limits.SubscriberTypes, scheme) || slices.Contains(s.limits.transportSchemes, scheme)
}

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
	s.log = s.log.With("component", "broker")
	s.defaults = reservedDefaults(s.limits)
	obs := append([]Observer(nil), s.observers...)
	s.observersV.Store(&obs)
	return s, nil
}

// Limits returns the limits in force (transports use them for size checks before reading a body).
func (s *Service) Limits() Limits { return s.limits }

// AddObserver registers an observer after construction (for components built after the service). It is safe to
// call while requests are being served.
func (s *Service) AddObserver(o Observer) {
	s.observersMu.Lock()
	defer s.observersMu.Unlock()
	cur := *s.observersV.Load()
	next := make([]Observer, len(cur)+1)
	copy(next, cur)
	next[len(cur)] = o
	s.observersV.Store(&next)
}

// notify tells every observer about a post. Observers are called synchronously, in registration order; a panicking
// observer is logged and skipped, since the messages are already stored and the post has succeeded.
func (s *Service) notify(ev PostEvent) {
	for _, o := range *s.observersV.Load() {
		func() {
			defer func() {
				if r := recover(); r != nil {
					s.log.Error("observer panicked", "observer", fmt.Sprintf("%T", o), "panic", r)
				}
			}()
			o.MessagesPosted(ev)
		}()
	}
}

// notifySubscription tells the observers that implement SubscriptionObserver about a subscription change, with
// the same rules as notify.
func (s *Service) notifySubscription(ev SubscriptionEvent) {
	for _, o := range *s.observersV.Load() {
		so, ok := o.(SubscriptionObserver)
		if !ok {
			continue
		}
		func() {
			defer func() {
				if r := recover(); r != nil {
					s.log.Error("observer panicked", "observer", fmt.Sprintf("%T", o), "panic", r)
				}
			}()
			so.SubscriptionChanged(ev)
		}()
	}
}

// unavailable wraps a store failure as a 503 with Zaqar's wording: "<what failed>. Please try again in a few
// seconds."
func (s *Service) unavailable(err error, what string) error {
	s.log.Error("store failure", "op", what, "err", err)
	return &Error{Kind: ErrUnavailable, Description: what + " Please try again in a few seconds.", Err: err}
}

// notFound wraps a store.ErrNotFound with the 404 text of the resource.
func notFound(err error, format string, args ...any) error {
	return &Error{Kind: ErrNotFound, Description: fmt.Sprintf(format, args...), Err: err}
}

func errQueueNotFound(err error, project, queue string) error {
	return notFound(err, "Queue %s does not exist for project %s", queue, project)
}

// isNotFound reports a store "not found".
func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

// seconds converts whole seconds to a duration.
func seconds(n int64) time.Duration { return time.Duration(n) * time.Second }

// pageLimit applies Zaqar's paging rule: 0 means the storage default (10, or the configured maximum if lower),
// otherwise 1..max. text is the error description, formatted with max.
func pageLimit(limit, max int, text string) (int, error) {
	if limit == 0 {
		return min(defaultPageSize, max), nil
	}
	if limit < 1 || limit > max {
		return 0, Errorf(ErrInvalid, text, max)
	}
	return limit, nil
}

// defaultPageSize is Zaqar's storage default page size for queues, messages, subscriptions and claims.
const defaultPageSize = 10

// ZeroLimit is what a transport passes as a Limit when the client explicitly asked for 0: Limit fields treat 0 as
// "not given" (the default page size), and any negative value gets Zaqar's range error, as an explicit 0 does.
const ZeroLimit = -1

// RequireBody returns Zaqar's error for a request whose body is required but absent (for example a claim PATCH);
// transports call it before DecodeClaimOptions where a body is mandatory.
func RequireBody(body []byte) error {
	if len(body) == 0 {
		return Errorf(ErrBadBody, "Request body can not be empty")
	}
	return nil
}
