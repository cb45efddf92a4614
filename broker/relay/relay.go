package relay

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/zedge-io/zedge/broker"
)

// Fetcher reads messages by id; *broker.Service is one. It is used for posts relayed as ids only.
type Fetcher interface {
	GetMessages(ctx context.Context, project, queue string, ids []string) ([]broker.Message, error)
}

// Stats are the relay's counters since New.
type Stats struct {
	Published      uint64 // frames published to Redis
	PublishDropped uint64 // events dropped because the publish queue was full
	PublishFailed  uint64 // frames lost to a failed publish (Redis unreachable)
	Received       uint64 // frames from other nodes handed to the local targets
	DecodeErrors   uint64 // frames that could not be decoded (another version, garbage on the channel)
	IDsOnly        uint64 // posts sent or received as ids only (too large to carry their bodies)
	Wakes          uint64 // posts sent or received as bare wake-ups (too large even for their ids)
	FetchFailed    uint64 // ids-only posts whose messages could not be read back
	ReceiveErrors  uint64 // failed reads of the subscription (each followed by a reconnect after a back-off)
}

// Relay carries post and subscription events between zedge nodes that share a Redis. Register it as a
// broker.Observer on the node's Service; it publishes what happens locally and hands what other nodes publish
// to its targets. Build it with New, start it with Start, stop it with Close.
type Relay struct {
	cfg     Config
	rdb     redis.UniversalClient
	node    NodeID
	targets []broker.Observer
	fetcher Fetcher
	log     *slog.Logger

	out     chan []byte
	pubsub  *redis.PubSub
	closing atomic.Bool
	stop    chan struct{}
	wg      sync.WaitGroup
	bufs    sync.Pool

	started   atomic.Bool
	closeOnce sync.Once

	published, publishDropped, publishFailed, received, decodeErrors atomic.Uint64
	idsOnly, wakes, fetchFailed, receiveErrors                       atomic.Uint64

	lastDropLog atomic.Int64 // unix nanos of the last "queue full" log line
}

// New builds a relay over rdb (which it does not close). targets are the local observers that want other
// nodes' events: in zedge the MQTT bridge and the websocket transport, never the notification dispatcher (a
// notification is sent once, by the node that accepted the post) and never the relay itself. Targets that
// also implement broker.SubscriptionObserver get other nodes' subscription changes. fetcher reads the messages
// of posts relayed as ids only; it may be nil, and such posts then only wake the targets.
func New(rdb redis.UniversalClient, cfg Config, targets []broker.Observer, fetcher Fetcher, log *slog.Logger) (*Relay, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if rdb == nil {
		return nil, errors.New("relay: no Redis client")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Relay{cfg: cfg, rdb: rdb, fetcher: fetcher, log: log.With("component", "relay"),
		out: make(chan []byte, cfg.QueueSize), stop: make(chan struct{})}
	for _, t := range targets {
		if t != nil {
			r.targets = append(r.targets, t)
		}
	}
	_, _ = rand.Read(r.node[:])
	return r, nil
}

// Node is this relay's node id (hex), as other nodes see it on the channel.
func (r *Relay) Node() string { return hex.EncodeToString(r.node[:]) }

// Start subscribes to the channel and returns once Redis has confirmed the subscription, so that every event
// published after Start returns reaches this node's targets; then it starts the publisher and the receiver.
// An unreachable Redis fails Start (after ctx or the configured timeout, whichever comes first).
func (r *Relay) Start(ctx context.Context) error {
	if !r.started.CompareAndSwap(false, true) {
		return errors.New("relay: already started")
	}
	ps, err := r.subscribe(ctx)
	if err != nil {
		r.started.Store(false)
		return err
	}
	r.pubsub = ps
	r.wg.Add(2)
	go r.publishLoop()
	go r.receiveLoop()
	r.log.Debug("relay subscribed", "channel", r.cfg.Channel, "node", r.Node())
	return nil
}

// subscribe opens the subscription and waits for Redis to confirm it.
func (r *Relay) subscribe(ctx context.Context) (*redis.PubSub, error) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	ps := r.rdb.Subscribe(ctx)
	if err := ps.Subscribe(ctx, r.cfg.Channel); err != nil {
		_ = ps.Close()
		return nil, fmt.Errorf("relay: subscribe to %s: %w", r.cfg.Channel, err)
	}
	// The confirmation is the first thing the connection reads; until it arrives a publish may miss us.
	msg, err := ps.ReceiveTimeout(ctx, r.cfg.Timeout)
	if err != nil {
		_ = ps.Close()
		return nil, fmt.Errorf("relay: subscribe to %s: %w", r.cfg.Channel, err)
	}
	if _, ok := msg.(*redis.Subscription); !ok {
		_ = ps.Close()
		return nil, fmt.Errorf("relay: subscribe to %s: unexpected first reply %T", r.cfg.Channel, msg)
	}
	return ps, nil
}

// Close stops relaying: events already queued are published first (bounded by ctx), then the subscription is
// closed. Events posted after Close are not relayed. Close is safe to call more than once.
func (r *Relay) Close(ctx context.Context) error {
	var err error
	r.closeOnce.Do(func() {
		r.closing.Store(true)
		if !r.started.Load() {
			return
		}
		// The publisher drains what is queued and exits on stop; ctx cuts the drain short.
		close(r.stop)
		done := make(chan struct{})
		go func() { r.wg.Wait(); close(done) }()
		// Closing the subscription ends the receiver's blocking read.
		err = r.pubsub.Close()
		select {
		case <-done:
		case <-ctx.Done():
			err = errors.Join(err, fmt.Errorf("relay: close: %w", ctx.Err()))
		}
	})
	return err
}

// Stats returns the counters.
func (r *Relay) Stats() Stats {
	return Stats{Published: r.published.Load(), PublishDropped: r.publishDropped.Load(),
		PublishFailed: r.publishFailed.Load(), Received: r.received.Load(), DecodeErrors: r.decodeErrors.Load(),
		IDsOnly: r.idsOnly.Load(), Wakes: r.wakes.Load(), FetchFailed: r.fetchFailed.Load(),
		ReceiveErrors: r.receiveErrors.Load()}
}

// MessagesPosted implements broker.Observer: the post is encoded and queued for publishing. It never blocks.
func (r *Relay) MessagesPosted(ev broker.PostEvent) {
	if r.closing.Load() {
		return
	}
	frame := encodePost(r.buffer(), r.node, ev, r.cfg.MaxFrameBytes)
	switch frameKind(frame[kindOffset]) {
	case kindPostIDs:
		r.idsOnly.Add(1)
	case kindPostWake:
		r.wakes.Add(1)
	}
	r.enqueue(frame)
}

// SubscriptionChanged implements broker.SubscriptionObserver: the change is queued for publishing.
func (r *Relay) SubscriptionChanged(ev broker.SubscriptionEvent) {
	if r.closing.Load() {
		return
	}
	r.enqueue(encodeSubscription(r.buffer(), r.node, ev))
}

var (
	_ broker.Observer             = (*Relay)(nil)
	_ broker.SubscriptionObserver = (*Relay)(nil)
)

func (r *Relay) buffer() []byte {
	if b, ok := r.bufs.Get().(*[]byte); ok {
		return (*b)[:0]
	}
	return make([]byte, 0, 512)
}

func (r *Relay) recycle(b []byte) {
	if cap(b) > r.cfg.MaxFrameBytes+4096 {
		return
	}
	r.bufs.Put(&b)
}

func (r *Relay) enqueue(frame []byte) {
	select {
	case r.out <- frame:
	default:
		r.publishDropped.Add(1)
		r.recycle(frame)
		now := time.Now().UnixNano()
		if last := r.lastDropLog.Load(); now-last > int64(time.Second) && r.lastDropLog.CompareAndSwap(last, now) {
			r.log.Warn("relay publish queue full: other nodes miss this wake-up until a claim or subscribe catches up",
				"queue_size", r.cfg.QueueSize, "dropped_total", r.publishDropped.Load())
		}
	}
}

// publishLoop publishes queued frames, several per pipelined round trip, in the order they were queued (so
// posts to one queue reach other nodes in post order). A failed round trip loses its frames (counted and
// logged) and waits a back-off before the next.
func (r *Relay) publishLoop() {
	defer r.wg.Done()
	batch := make([][]byte, 0, r.cfg.PublishBatch)
	bo := backoff{min: r.cfg.BackoffMin, max: r.cfg.BackoffMax}
	for {
		var first []byte
		select {
		case first = <-r.out:
		case <-r.stop:
			// Drain what was queued before Close, without waiting for more.
			for {
				select {
				case f := <-r.out:
					batch = append(batch[:0], f)
					r.drain(&batch)
					r.publish(batch, &bo, false)
				default:
					return
				}
			}
		}
		batch = append(batch[:0], first)
		r.drain(&batch)
		r.publish(batch, &bo, true)
	}
}

// drain appends queued frames to batch without waiting, up to PublishBatch.
func (r *Relay) drain(batch *[][]byte) {
	for len(*batch) < r.cfg.PublishBatch {
		select {
		case f := <-r.out:
			*batch = append(*batch, f)
		default:
			return
		}
	}
}

func (r *Relay) publish(batch [][]byte, bo *backoff, wait bool) {
	ctx, cancel := context.WithTimeout(context.Background(), r.cfg.Timeout)
	defer cancel()
	pipe := r.rdb.Pipeline()
	for _, f := range batch {
		// go-redis treats PUBLISH as keyless and spreads it over a cluster's masters round robin; routing it
		// by the channel's slot instead sends every frame to the master the subscribers are connected to
		// (go-redis subscribes there too), so frames arrive in publish order without crossing the cluster bus.
		cmd := redis.NewIntCmd(ctx, "publish", r.cfg.Channel, f)
		cmd.SetFirstKeyPos(1)
		_ = pipe.Process(ctx, cmd)
	}
	_, err := pipe.Exec(ctx)
	for _, f := range batch {
		r.recycle(f)
	}
	if err == nil {
		r.published.Add(uint64(len(batch)))
		bo.reset()
		return
	}
	r.publishFailed.Add(uint64(len(batch)))
	if bo.failures == 0 {
		r.log.Warn("relay cannot publish: other nodes miss these wake-ups until a claim or subscribe catches up",
			"frames", len(batch), "err", err)
	}
	d := bo.next()
	if !wait {
		return
	}
	select {
	case <-time.After(d):
	case <-r.stop:
	}
}

// receiveLoop reads the subscription until Close. go-redis reconnects and resubscribes on the read after a
// failed one; the loop waits a back-off between failures so that an unreachable Redis is not hammered, and
// logs the outage once and the recovery once.
func (r *Relay) receiveLoop() {
	defer r.wg.Done()
	bo := backoff{min: r.cfg.BackoffMin, max: r.cfg.BackoffMax}
	ctx := context.Background()
	for {
		// A timeout turns into a ping, so that a connection that died silently is noticed and replaced.
		msg, err := r.pubsub.ReceiveTimeout(ctx, 30*time.Second)
		if r.closing.Load() {
			return
		}
		if err != nil {
			if isTimeout(err) {
				if perr := r.pubsub.Ping(ctx); perr == nil {
					continue
				}
			}
			r.receiveErrors.Add(1)
			if bo.failures == 0 {
				r.log.Warn("relay subscription lost; reconnecting (wake-ups from other nodes are missed meanwhile)",
					"err", err)
			}
			select {
			case <-time.After(bo.next()):
			case <-r.stop:
				return
			}
			continue
		}
		if bo.failures > 0 {
			r.log.Info("relay subscription restored", "after_failures", bo.failures)
			bo.reset()
		}
		switch m := msg.(type) {
		case *redis.Message:
			r.handle([]byte(m.Payload))
		case *redis.Subscription, *redis.Pong:
		}
	}
}

// handle decodes one frame and hands it to the targets unless this node published it.
func (r *Relay) handle(data []byte) {
	// Every node reads its own frames back from the channel; the node id sits at a fixed offset, so they are
	// dropped before anything is decoded or copied.
	if len(data) >= kindOffset && data[0] == wireVersion && NodeID(data[1:kindOffset]) == r.node {
		return
	}
	f, err := decodeFrame(data)
	if err != nil {
		r.decodeErrors.Add(1)
		r.log.Debug("relay frame dropped", "err", err)
		return
	}
	if f.node == r.node {
		return
	}
	r.received.Add(1)
	switch f.kind {
	case kindPostFull:
		r.deliver(f.post)
	case kindPostIDs:
		r.idsOnly.Add(1)
		f.post.Messages = r.fetch(f.project, f.queue, f.ids)
		r.deliver(f.post)
	case kindPostWake:
		r.wakes.Add(1)
		r.deliver(f.post)
	case kindSubscription:
		for _, t := range r.targets {
			if so, ok := t.(broker.SubscriptionObserver); ok {
				r.guard(t, func() { so.SubscriptionChanged(f.sub) })
			}
		}
	}
}

func (r *Relay) deliver(ev broker.PostEvent) {
	for _, t := range r.targets {
		r.guard(t, func() { t.MessagesPosted(ev) })
	}
}

// guard runs a target's callback; a panic is logged and the next target still runs, as the Service does for
// local observers.
func (r *Relay) guard(t broker.Observer, call func()) {
	defer func() {
		if p := recover(); p != nil {
			r.log.Error("relay target panicked", "target", fmt.Sprintf("%T", t), "panic", p)
		}
	}()
	call()
}

// fetch reads the messages of an ids-only post in FetchBatch pieces, in post order. Messages already deleted
// are skipped; a failure returns what was read (the targets are still woken).
func (r *Relay) fetch(project, queue string, ids []string) []broker.Message {
	if r.fetcher == nil || len(ids) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.cfg.Timeout)
	defer cancel()
	out := make([]broker.Message, 0, len(ids))
	for start := 0; start < len(ids); start += r.cfg.FetchBatch {
		part := ids[start:min(start+r.cfg.FetchBatch, len(ids))]
		msgs, err := r.fetcher.GetMessages(ctx, project, queue, part)
		if err != nil {
			if errors.Is(err, broker.ErrNotFound) {
				continue // none of these is live any more
			}
			r.fetchFailed.Add(1)
			r.log.Warn("relay could not read back an ids-only post", "project", project, "queue", queue, "err", err)
			break
		}
		// GetMessages returns the found messages in post order.
		out = append(out, msgs...)
	}
	return out
}

func isTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}

// backoff doubles from min to max while failures continue.
type backoff struct {
	min, max time.Duration
	cur      time.Duration
	failures int
}

func (b *backoff) next() time.Duration {
	b.failures++
	if b.cur == 0 {
		b.cur = b.min
	} else {
		b.cur = min(2*b.cur, b.max)
	}
	return b.cur
}

func (b *backoff) reset() { b.cur, b.failures = 0, 0 }
