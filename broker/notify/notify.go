package notify

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zedge-io/zedge/broker"
	"github.com/zedge-io/zedge/signing"
)

// Publisher republishes a notification on an MQTT topic of the embedded broker (mqtt: subscribers), among
// the topics of the queue's project. The MQTT bridge can satisfy it; without one, mqtt: notifications are
// undeliverable.
type Publisher interface {
	Publish(project, topic string, payload []byte, qos byte, retain bool) error
}

// MQTTScheme is the subscriber scheme of mqtt:<topic> subscriptions. It is zedge's, not Zaqar's: the app
// registers it with broker.WithTransportSubscriberScheme when a Publisher is there to deliver it.
const MQTTScheme = "mqtt"

// websocketScheme is the websocket transport's socket subscriptions: it delivers them itself.
const websocketScheme = "websocket"

// Option configures a Notifier.
type Option func(*Notifier)

// WithClock replaces time.Now (give it the Service's clock).
func WithClock(c broker.Clock) Option { return func(n *Notifier) { n.now = c } }

// WithKeyRing sets the URL-signing keys that sign confirmation URLs (without them no confirmation is sent,
// as in Zaqar without [signed_url] secret_key).
func WithKeyRing(r *signing.KeyRing) Option { return func(n *Notifier) { n.ring = r } }

// WithPublisher sets the MQTT publisher of mqtt: subscribers.
func WithPublisher(p Publisher) Option { return func(n *Notifier) { n.mqtt = p } }

// WithHTTPClient replaces the webhook HTTP client (its Timeout is left as given).
func WithHTTPClient(c *http.Client) Option { return func(n *Notifier) { n.client = c } }

// Notifier delivers the notifications of subscriptions: a broker.Observer (and SubscriptionObserver) that
// hands every post to a bounded pool of workers and never blocks the post.
type Notifier struct {
	svc    *broker.Service
	cfg    Config
	log    *slog.Logger
	now    broker.Clock
	ring   *signing.KeyRing
	mqtt   Publisher
	client *http.Client

	ctx    context.Context // cancelled when Close gives up waiting: deliveries in flight are abandoned
	cancel context.CancelFunc

	mu      sync.RWMutex // guards closed and the send on tasks
	closed  bool
	tasks   chan func()
	workers sync.WaitGroup

	timersMu sync.Mutex
	timers   map[*time.Timer]struct{}

	// lanes bound the deliveries to one subscription that run at once (see submit).
	lanesMu sync.Mutex
	lanes   map[string]*lane
	waiting int // tasks waiting in all lanes
	perSub  int

	stats     counters
	lastDrop  atomic.Int64
	noKeyOnce sync.Once
}

type counters struct {
	posts, dropped, delivered, rejected, undeliverable, retries, confirmations atomic.Uint64
}

// Stats are the Notifier's counters.
type Stats struct {
	Posts         uint64 // posts whose subscriptions were looked up (each counted once it is fanned out)
	Dropped       uint64 // deliveries dropped because the queue was full or retries were too many
	Delivered     uint64 // notifications accepted by their subscriber
	Rejected      uint64 // refused for good (a 4xx answer, a bad address): not retried
	Undeliverable uint64 // still failing after the retry policy
	Retries       uint64 // attempts after the first
	Confirmations uint64 // confirmation notifications delivered
}

// Stats returns the counters.
func (n *Notifier) Stats() Stats {
	s := &n.stats
	return Stats{Posts: s.posts.Load(), Dropped: s.dropped.Load(), Delivered: s.delivered.Load(), Rejected: s.rejected.Load(),
		Undeliverable: s.undeliverable.Load(), Retries: s.retries.Load(), Confirmations: s.confirmations.Load()}
}

// New builds a Notifier over svc, starts its workers and registers it as an observer of svc.
func New(svc *broker.Service, cfg Config, log *slog.Logger, opts ...Option) (*Notifier, error) {
	if svc == nil {
		return nil, errors.New("notify: nil service")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	n := &Notifier{svc: svc, cfg: cfg, log: log.With("component", "notify"), now: time.Now,
		tasks: make(chan func(), cfg.QueueSize), timers: map[*time.Timer]struct{}{}, lanes: map[string]*lane{},
		perSub: perSubscriber(cfg.Workers)}
	for _, o := range opts {
		o(n)
	}
	if n.client == nil {
		n.client = &http.Client{
			Timeout: cfg.HTTPTimeout,
			// A redirect is an answer: it counts as delivered (below 400) and is not followed, so a
			// subscriber cannot bounce notifications elsewhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	for range cfg.Workers {
		n.workers.Add(1)
		go n.work()
	}
	svc.AddObserver(n)
	return n, nil
}

func (n *Notifier) work() {
	defer n.workers.Done()
	for task := range n.tasks {
		task()
	}
}

// enqueue hands a task to the workers without blocking; false when it was dropped.
func (n *Notifier) enqueue(task func()) bool {
	n.mu.RLock()
	defer n.mu.RUnlock()
	if n.closed {
		return false
	}
	select {
	case n.tasks <- task:
		return true
	default:
		return false
	}
}

// drop counts a lost delivery and logs it, at most once a second.
func (n *Notifier) drop(what string, attrs ...any) {
	n.stats.dropped.Add(1)
	now := time.Now().Unix()
	if last := n.lastDrop.Load(); last != now && n.lastDrop.CompareAndSwap(last, now) {
		n.log.Warn("notifications dropped: "+what, append(attrs, "dropped_total", n.stats.dropped.Load())...)
	}
}

// MessagesPosted schedules the notifications of a post. It never blocks: when the queue is full the post's
// notifications are dropped (counted and logged).
func (n *Notifier) MessagesPosted(ev broker.PostEvent) {
	if !n.enqueue(func() { n.fanOut(ev) }) {
		n.drop("the delivery queue is full", "project", ev.Project, "queue", ev.Queue, "messages", len(ev.Messages))
	}
}

// SubscriptionChanged sends the confirmation notifications when confirmation is required: a subscription
// confirmation for a new (or re-posted unconfirmed) subscription, an unsubscribe confirmation when it is
// confirmed false.
func (n *Notifier) SubscriptionChanged(ev broker.SubscriptionEvent) {
	if !n.cfg.RequireConfirmation {
		return
	}
	sub := ev.Subscription
	if scheme(sub.Subscriber) == websocketScheme {
		return // a socket subscribed itself
	}
	var unsubscribe bool
	var expires time.Time
	switch {
	case ev.Kind == broker.SubscriptionCreated && !sub.Confirmed:
		expires = sub.Expires
	case ev.Kind == broker.SubscriptionUnconfirmed:
		unsubscribe = true
		expires = n.now().Add(time.Duration(n.svc.Limits().DefaultSubscriptionTTL) * time.Second)
	default:
		return
	}
	if n.ring == nil {
		n.noKeyOnce.Do(func() {
			n.log.Error("confirmation required but no URL-signing key is configured: confirmations are not sent")
		})
		return
	}
	c, err := confirmationPayload(n.ring, ev.Project, &sub, unsubscribe, expires)
	if err != nil {
		n.log.Error("cannot sign a confirmation URL", "subscription", sub.ID, "err", err)
		return
	}
	d := &delivery{sub: sub, payload: c.payload, confirm: &c, project: ev.Project}
	if !n.submit(d.laneKey(), func() { n.attempt(d) }, false) {
		n.drop("the delivery queue is full", "project", ev.Project, "queue", sub.Queue, "subscription", sub.ID)
	}
}

// fanOut lists the queue's subscriptions and delivers each message to each of them, one POST (mail,
// publish) per message and subscriber. Unconfirmed subscriptions are skipped when confirmation is
// required; the store lists only live (unexpired) subscriptions.
func (n *Notifier) fanOut(ev broker.PostEvent) {
	ctx := n.ctx
	limit := n.svc.Limits().MaxSubscriptionsPerPage
	var queuePolicy json.RawMessage
	policyRead := false
	marker := ""
	for {
		subs, err := n.svc.ListSubscriptions(ctx, ev.Project, ev.Queue, marker, limit)
		if err != nil {
			n.log.Error("cannot list subscriptions; notifications of this post are lost", "project", ev.Project,
				"queue", ev.Queue, "err", err)
			n.stats.undeliverable.Add(uint64(len(ev.Messages)))
			return
		}
		for i := range subs {
			sub := subs[i]
			if scheme(sub.Subscriber) == websocketScheme || (n.cfg.RequireConfirmation && !sub.Confirmed) {
				continue
			}
			if !policyRead {
				policyRead = true
				if md, _, err := n.svc.StoredQueue(ctx, ev.Project, ev.Queue); err == nil {
					queuePolicy = md[broker.KeyRetryPolicy]
				}
			}
			policy := choosePolicy(subOption(sub.Options, broker.KeyRetryPolicy), queuePolicy)
			deliver := func() {
				for j := range ev.Messages {
					n.attempt(&delivery{sub: sub, project: ev.Project,
						payload: messagePayload(&ev.Messages[j], sub.Queue), schedule: policy.schedule()})
				}
			}
			// Each subscriber is a task of its own, so that a slow or hanging one (every attempt can take
			// HTTPTimeout) does not hold back the others while workers are free. With the queue full the
			// delivery runs here, as a post's whole fan-out did: it is not lost.
			if !n.submit(laneKey(ev.Project, &sub), deliver, true) {
				n.drop("too many deliveries wait for busy subscribers", "subscription", sub.ID, "queue", sub.Queue,
					"messages", len(ev.Messages))
			}
		}
		if len(subs) < limit {
			n.stats.posts.Add(1)
			return
		}
		marker = subs[len(subs)-1].ID
	}
}

// delivery is one notification to one subscriber, with its retry state.
type delivery struct {
	sub      broker.Subscription
	project  string
	payload  []byte
	confirm  *confirmation // a confirmation notification
	schedule []time.Duration
	step     int
}

// perSubscriber is how many deliveries to one subscription may run at once: a quarter of the workers (2 of
// Zaqar's 10), at least one. A subscriber that hangs holds at most that many workers, each for up to
// HTTPTimeout per attempt, while the others deliver to everyone else.
func perSubscriber(workers int) int { return max(1, workers/4) }

func (d *delivery) laneKey() string { return laneKey(d.project, &d.sub) }

// lane is one subscription's deliveries: how many run on workers, and the tasks waiting for one of those.
type lane struct {
	running int
	waiting []func()
}

func laneKey(project string, sub *broker.Subscription) string {
	return project + "\x00" + sub.Queue + "\x00" + sub.ID
}

// submit runs task, a delivery to the subscription of key, on a worker, with at most perSub of that
// subscription's tasks running at once: beyond that it waits in the lane for one of them to end (at most
// QueueSize tasks wait in all lanes), so that a subscriber that hangs holds at most perSub workers. When the
// worker queue is full the task runs on the calling goroutine if inline (a worker's), else it is not taken.
// It reports whether the task was taken.
func (n *Notifier) submit(key string, task func(), inline bool) bool {
	n.lanesMu.Lock()
	l := n.lanes[key]
	if l == nil {
		l = &lane{}
		n.lanes[key] = l
	}
	if l.running >= n.perSub {
		if n.waiting >= n.cfg.QueueSize {
			n.lanesMu.Unlock()
			return false
		}
		l.waiting = append(l.waiting, task)
		n.waiting++
		n.lanesMu.Unlock()
		return true
	}
	l.running++
	n.lanesMu.Unlock()
	run := func() {
		task()
		n.laneNext(key)
	}
	if n.enqueue(run) {
		return true
	}
	if inline {
		run()
		return true
	}
	// Not taken: give the slot back. Tasks that queued behind it while it was held are taken by the lane's
	// other running tasks; if there are none, they are dropped with it.
	n.lanesMu.Lock()
	l.running--
	var dropped int
	if l.running == 0 {
		dropped = len(l.waiting)
		n.waiting -= dropped
		delete(n.lanes, key)
	}
	n.lanesMu.Unlock()
	for range dropped {
		n.drop("the delivery queue is full")
	}
	return false
}

// laneNext runs, on the worker that has just finished one of the lane's tasks, the tasks waiting in the lane,
// then gives the lane's slot back.
func (n *Notifier) laneNext(key string) {
	for {
		n.lanesMu.Lock()
		l := n.lanes[key]
		if len(l.waiting) == 0 {
			l.running--
			if l.running == 0 {
				delete(n.lanes, key)
			}
			n.lanesMu.Unlock()
			return
		}
		task := l.waiting[0]
		l.waiting[0] = nil
		l.waiting = l.waiting[1:]
		n.waiting--
		n.lanesMu.Unlock()
		task()
	}
}

// errPermanent marks a failure that retrying cannot fix (a 4xx answer, an unusable address).
var errPermanent = errors.New("notify: permanent failure")

// attempt sends d, retrying immediate retries in place and scheduling delayed ones on a timer, per its
// retry policy. Only network errors, timeouts and 5xx answers are retried (spec §11.5 recommends it).
func (n *Notifier) attempt(d *delivery) {
	for {
		err := n.send(d)
		if err == nil {
			n.stats.delivered.Add(1)
			if d.confirm != nil {
				n.stats.confirmations.Add(1)
			}
			return
		}
		if errors.Is(err, errPermanent) || n.ctx.Err() != nil {
			n.stats.rejected.Add(1)
			n.log.Warn("notification refused by its subscriber; not retried", "subscription", d.sub.ID,
				"queue", d.sub.Queue, "err", err)
			return
		}
		if d.step >= len(d.schedule) {
			n.stats.undeliverable.Add(1)
			n.log.Warn("notification undeliverable after its retry policy", "subscription", d.sub.ID,
				"queue", d.sub.Queue, "attempts", d.step+1, "err", err)
			return
		}
		delay := d.schedule[d.step]
		d.step++
		n.stats.retries.Add(1)
		if delay > 0 {
			n.retryLater(d, delay)
			return
		}
	}
}

// retryLater re-queues d after delay, within MaxPendingRetries.
func (n *Notifier) retryLater(d *delivery, delay time.Duration) {
	n.timersMu.Lock()
	defer n.timersMu.Unlock()
	if len(n.timers) >= n.cfg.MaxPendingRetries {
		n.drop("too many retries pending", "subscription", d.sub.ID, "queue", d.sub.Queue)
		return
	}
	var t *time.Timer
	t = time.AfterFunc(delay, func() {
		n.timersMu.Lock()
		delete(n.timers, t)
		n.timersMu.Unlock()
		if !n.submit(d.laneKey(), func() { n.attempt(d) }, false) {
			n.drop("the delivery queue is full", "subscription", d.sub.ID, "queue", d.sub.Queue)
		}
	})
	n.timers[t] = struct{}{}
}

// Close stops taking notifications, drops the retries still waiting, and lets the workers finish what is
// queued; when ctx ends first, deliveries in flight are abandoned and ctx's error is returned. Close the
// Notifier before the store: the workers read subscriptions.
func (n *Notifier) Close(ctx context.Context) error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	n.closed = true
	close(n.tasks)
	n.mu.Unlock()
	n.timersMu.Lock()
	for t := range n.timers {
		if t.Stop() {
			n.stats.dropped.Add(1)
		}
	}
	n.timers = map[*time.Timer]struct{}{}
	n.timersMu.Unlock()
	done := make(chan struct{})
	go func() {
		n.workers.Wait()
		close(done)
	}()
	select {
	case <-done:
		n.cancel()
		return nil
	case <-ctx.Done():
		n.cancel()
		<-done
		return ctx.Err()
	}
}

// scheme is a subscriber URI's scheme, lower case.
func scheme(uri string) string {
	i := strings.IndexByte(uri, ':')
	if i <= 0 {
		return ""
	}
	return strings.ToLower(uri[:i])
}

// subOption returns one member of a subscription's options object (nil when absent).
func subOption(options []byte, key string) json.RawMessage {
	if len(options) == 0 || options[0] != '{' {
		return nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(options, &m) != nil {
		return nil
	}
	return m[key]
}

var (
	_ broker.Observer             = (*Notifier)(nil)
	_ broker.SubscriptionObserver = (*Notifier)(nil)
)
