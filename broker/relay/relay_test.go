package relay

import (
	"context"
	"errors"
	"fmt"
	"net"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/zedge-io/zedge/broker"
	"github.com/zedge-io/zedge/store/redisstore/redistest"
)

// wait bounds every wait on Redis; it only keeps a broken build from hanging, it is never a speed check.
const wait = 20 * time.Second

// recorder is a relay target that keeps what it was handed.
type recorder struct {
	mu    sync.Mutex
	posts []broker.PostEvent
	subs  []broker.SubscriptionEvent
	ch    chan struct{}
}

func newRecorder() *recorder { return &recorder{ch: make(chan struct{}, 1024)} }

func (r *recorder) MessagesPosted(ev broker.PostEvent) {
	r.mu.Lock()
	r.posts = append(r.posts, ev)
	r.mu.Unlock()
	r.ch <- struct{}{}
}

func (r *recorder) SubscriptionChanged(ev broker.SubscriptionEvent) {
	r.mu.Lock()
	r.subs = append(r.subs, ev)
	r.mu.Unlock()
	r.ch <- struct{}{}
}

func (r *recorder) snapshot() ([]broker.PostEvent, []broker.SubscriptionEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]broker.PostEvent(nil), r.posts...), append([]broker.SubscriptionEvent(nil), r.subs...)
}

// waitFor waits until the recorder holds a post to queue.
func (r *recorder) waitFor(t *testing.T, queue string) broker.PostEvent {
	t.Helper()
	deadline := time.After(wait)
	for {
		posts, _ := r.snapshot()
		for _, p := range posts {
			if p.Queue == queue {
				return p
			}
		}
		select {
		case <-r.ch:
		case <-deadline:
			t.Fatalf("no relayed post to %s arrived; got %+v", queue, posts)
		}
	}
}

func queues(posts []broker.PostEvent) []string {
	out := make([]string, len(posts))
	for i, p := range posts {
		out[i] = p.Queue
	}
	return out
}

// backend is one Redis deployment the relay tests run against.
type backend struct {
	name   string
	client func(t testing.TB) redis.UniversalClient
}

func backends() []backend {
	return []backend{
		{"single", func(t testing.TB) redis.UniversalClient {
			addr := redistest.StartSingle(t)
			return newClient(t, redis.UniversalOptions{Addrs: []string{addr}})
		}},
		{"cluster", func(t testing.TB) redis.UniversalClient {
			addrs := redistest.StartCluster(t, 3)
			return newClient(t, redis.UniversalOptions{Addrs: addrs, IsClusterMode: true})
		}},
	}
}

func newClient(t testing.TB, o redis.UniversalOptions) redis.UniversalClient {
	c := redis.NewUniversalClient(&o)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// startRelay starts a relay on its own client (as each zedge node has its own) with target rec.
func startRelay(t testing.TB, clientOf func() redis.UniversalClient, cfg Config, rec broker.Observer, fetcher Fetcher) *Relay {
	t.Helper()
	r, err := New(clientOf(), cfg, []broker.Observer{rec}, fetcher, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close(context.Background()) })
	return r
}

// sameOptions returns a function that opens another client to the deployment c talks to.
func sameOptions(t testing.TB, c redis.UniversalClient) func() redis.UniversalClient {
	return func() redis.UniversalClient {
		switch c := c.(type) {
		case *redis.ClusterClient:
			o := c.Options()
			return newClient(t, redis.UniversalOptions{Addrs: o.Addrs, IsClusterMode: true})
		case *redis.Client:
			return newClient(t, redis.UniversalOptions{Addrs: []string{c.Options().Addr}})
		}
		t.Fatalf("unexpected client %T", c)
		return nil
	}
}

func post(queue string, n int) broker.PostEvent {
	return broker.PostEvent{Project: "campus", Queue: queue, Messages: sampleMessages(n, 40)}
}

// TestRelay: against a single Redis and a 3-master cluster, an event posted on A reaches B's target once, with
// its messages as stored, and never A's own; subscription changes travel too; large posts fall back to ids
// (fetched on B) and to bare wake-ups; Close publishes what was queued.
func TestRelay(t *testing.T) {
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			clientOf := sameOptions(t, be.client(t))
			cfg := DefaultConfig()
			cfg.Channel = "zedge-test:relay:" + be.name

			t.Run("once, and not to the origin", func(t *testing.T) {
				recA, recB := newRecorder(), newRecorder()
				a := startRelay(t, clientOf, cfg, recA, nil)
				b := startRelay(t, clientOf, cfg, recB, nil)
				e1 := post("cmd-th-7", 3)
				a.MessagesPosted(e1)
				if got := recB.waitFor(t, "cmd-th-7"); !reflect.DeepEqual(got, e1) {
					t.Errorf("B got %+v, want %+v", got, e1)
				}
				// Redis delivers one channel's messages to every subscriber in publish order, so once A has its
				// answer from B it has also read (and must have ignored) its own e1; and once B has A's third
				// event it has read any duplicate of e1.
				b.MessagesPosted(post("from-b", 1))
				recA.waitFor(t, "from-b")
				a.MessagesPosted(post("sync-a", 1))
				recB.waitFor(t, "sync-a")
				postsA, _ := recA.snapshot()
				postsB, _ := recB.snapshot()
				if q := queues(postsA); !reflect.DeepEqual(q, []string{"from-b"}) {
					t.Errorf("A's target got %v, want only B's event", q)
				}
				if q := queues(postsB); !reflect.DeepEqual(q, []string{"cmd-th-7", "sync-a"}) {
					t.Errorf("B's target got %v, want e1 once then the sync event", q)
				}
				if s := a.Stats(); s.Received != 1 {
					t.Errorf("A stats %+v", s)
				}
			})

			t.Run("three nodes, subscription changes", func(t *testing.T) {
				recA, recB, recC := newRecorder(), newRecorder(), newRecorder()
				a := startRelay(t, clientOf, cfg, recA, nil)
				startRelay(t, clientOf, cfg, recB, nil)
				startRelay(t, clientOf, cfg, recC, nil)
				created := time.Date(2026, 11, 22, 6, 0, 0, 0, time.UTC)
				ev := broker.SubscriptionEvent{Kind: broker.SubscriptionDeleted, Project: "campus",
					Subscription: broker.Subscription{ID: "sub-9", Queue: "q1", Subscriber: "websocket:x",
						Created: created, Expires: created.Add(time.Hour)}}
				a.SubscriptionChanged(ev)
				a.MessagesPosted(post("after-sub", 1))
				for name, rec := range map[string]*recorder{"B": recB, "C": recC} {
					rec.waitFor(t, "after-sub")
					_, subs := rec.snapshot()
					if len(subs) != 1 || !reflect.DeepEqual(subs[0], ev) {
						t.Errorf("%s got subscription events %+v, want %+v", name, subs, ev)
					}
				}
			})

			t.Run("large posts: ids then fetch, else a bare wake-up", func(t *testing.T) {
				small := cfg
				small.MaxFrameBytes = 2048
				big := post("big", 30) // bodies too large for 2 KiB, ids fit
				big.Messages = sampleMessages(30, 200)
				huge := post("huge", 200) // ids alone exceed 2 KiB
				store := fakeStore{}
				for _, m := range big.Messages {
					store[m.ID] = m
				}
				delete(store, big.Messages[4].ID) // deleted meanwhile: skipped
				recA, recB := newRecorder(), newRecorder()
				a := startRelay(t, clientOf, small, recA, nil)
				b := startRelay(t, clientOf, small, recB, store)
				a.MessagesPosted(big)
				a.MessagesPosted(huge)
				got := recB.waitFor(t, "big")
				want := append(append([]broker.Message(nil), big.Messages[:4]...), big.Messages[5:]...)
				if !reflect.DeepEqual(got.Messages, want) {
					t.Errorf("fetched %d messages, want %d (all but the deleted one, in order)", len(got.Messages), len(want))
				}
				if w := recB.waitFor(t, "huge"); len(w.Messages) != 0 || w.Project != "campus" {
					t.Errorf("bare wake-up carried %+v", w)
				}
				if s := a.Stats(); s.IDsOnly != 1 || s.Wakes != 1 {
					t.Errorf("A stats %+v, want one ids-only and one wake", s)
				}
				if s := b.Stats(); s.IDsOnly != 1 || s.Wakes != 1 || s.FetchFailed != 0 {
					t.Errorf("B stats %+v", s)
				}
			})

			t.Run("close publishes what is queued", func(t *testing.T) {
				recA, recB, recC := newRecorder(), newRecorder(), newRecorder()
				a := startRelay(t, clientOf, cfg, recA, nil)
				startRelay(t, clientOf, cfg, recB, nil)
				c := startRelay(t, clientOf, cfg, recC, nil)
				for i := range 200 {
					a.MessagesPosted(post(fmt.Sprintf("q%d", i), 1))
				}
				if err := a.Close(context.Background()); err != nil {
					t.Fatal(err)
				}
				a.MessagesPosted(post("after-close", 1)) // not relayed
				c.MessagesPosted(post("marker", 1))
				recB.waitFor(t, "marker")
				posts, _ := recB.snapshot()
				if len(posts) != 201 {
					t.Fatalf("B got %d posts, want the 200 queued before Close and the marker", len(posts))
				}
				for i, p := range posts[:200] {
					if p.Queue != fmt.Sprintf("q%d", i) {
						t.Fatalf("post %d is %s: out of order", i, p.Queue)
					}
				}
			})
		})
	}
}

// TestRelayReconnects: when Redis drops the subscription (CLIENT KILL), the relay resubscribes and events flow
// again.
func TestRelayReconnects(t *testing.T) {
	t.Parallel()
	addr := redistest.StartSingle(t)
	clientOf := func() redis.UniversalClient { return newClient(t, redis.UniversalOptions{Addrs: []string{addr}}) }
	cfg := DefaultConfig()
	recA, recB := newRecorder(), newRecorder()
	a := startRelay(t, clientOf, cfg, recA, nil)
	b := startRelay(t, clientOf, cfg, recB, nil)
	admin := clientOf()
	ctx := context.Background()
	if n, err := admin.ClientKillByFilter(ctx, "TYPE", "pubsub").Result(); err != nil || n < 2 {
		t.Fatalf("CLIENT KILL TYPE pubsub: %d, %v", n, err)
	}
	// Lost while nobody was subscribed is lost; keep posting until one arrives after the resubscription.
	deadline := time.Now().Add(wait)
	for i := 0; ; i++ {
		a.MessagesPosted(post(fmt.Sprintf("retry-%d", i), 1))
		select {
		case <-recB.ch:
		case <-time.After(50 * time.Millisecond):
			if time.Now().After(deadline) {
				t.Fatalf("no event reached B after its subscription was killed; stats %+v", b.Stats())
			}
			continue
		}
		break
	}
	if s := b.Stats(); s.ReceiveErrors == 0 {
		t.Errorf("B stats %+v: the killed subscription was not noticed", s)
	}
}

// TestStartFailsWithoutRedis: an unreachable Redis fails Start with the address in the error.
func TestStartFailsWithoutRedis(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := DefaultConfig()
	cfg.Timeout = time.Second
	r, err := New(newClient(t, redis.UniversalOptions{Addrs: []string{addr}, MaxRetries: -1}), cfg, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = r.Start(context.Background())
	if err == nil {
		_ = r.Close(context.Background())
		t.Fatal("Start succeeded without Redis")
	}
	var opErr *net.OpError
	if !errors.As(err, &opErr) {
		t.Errorf("Start: %v, want the dial error", err)
	}
	if err := r.Close(context.Background()); err != nil {
		t.Errorf("Close after a failed Start: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	cases := map[string]func(*Config){
		"empty channel":   func(c *Config) { c.Channel = "" },
		"queue size":      func(c *Config) { c.QueueSize = 0 },
		"frame too small": func(c *Config) { c.MaxFrameBytes = 100 },
		"fetch batch":     func(c *Config) { c.FetchBatch = 0 },
		"publish batch":   func(c *Config) { c.PublishBatch = 0 },
		"timeout":         func(c *Config) { c.Timeout = 0 },
		"backoff order":   func(c *Config) { c.BackoffMax = c.BackoffMin / 2 },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			c := DefaultConfig()
			mutate(&c)
			if err := c.Validate(); err == nil {
				t.Error("accepted")
			}
		})
	}
}

// fakeStore answers GetMessages from a map, in the order of the ids asked, as the Service does for ids in post
// order; none found is ErrNotFound, as the Service reports it.
type fakeStore map[string]broker.Message

func (s fakeStore) GetMessages(_ context.Context, _, _ string, ids []string) ([]broker.Message, error) {
	if len(ids) > 20 {
		return nil, broker.Errorf(broker.ErrInvalid, "Limit must be at least 1 and may not be greater than 20.")
	}
	var out []broker.Message
	for _, id := range ids {
		if m, ok := s[id]; ok {
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		return nil, broker.Errorf(broker.ErrNotFound, "No messages")
	}
	return out, nil
}

// signal is a target that only counts what it is handed.
type signal chan struct{}

func (s signal) MessagesPosted(broker.PostEvent) { s <- struct{}{} }

// BenchmarkRelay: latency is one post at a time from relay A until relay B's target has it (p50/p99 reported);
// throughput is b.N posts in a row until B has them all (ns/op is the cost per relayed post, both relays and
// Redis on the same machine).
func BenchmarkRelay(b *testing.B) {
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			clientOf := sameOptions(b, be.client(b))
			cfg := DefaultConfig()
			cfg.Channel = "zedge-bench:relay:" + be.name
			got := make(signal, 1<<16)
			a := startRelay(b, clientOf, cfg, newRecorder(), nil)
			startRelay(b, clientOf, cfg, got, nil)
			ev := post("telemetry-b1", 1)
			frame := encodePost(nil, a.node, ev, cfg.MaxFrameBytes)
			b.Run("latency", func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(frame)))
				lat := make([]time.Duration, 0, b.N)
				for b.Loop() {
					start := time.Now()
					a.MessagesPosted(ev)
					<-got
					lat = append(lat, time.Since(start))
				}
				slices.Sort(lat)
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
			})
			b.Run("throughput", func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(frame)))
				// The timer runs until B has every post (b.Loop would stop it before the last ones arrive).
				b.ResetTimer()
				for i := 1; i <= b.N; i++ {
					a.MessagesPosted(ev)
					// Keep within the publish queue; what is dropped would never arrive.
					if i%4096 == 0 {
						for range 4096 {
							<-got
						}
					}
				}
				for range b.N % 4096 {
					<-got
				}
			})
		})
	}
}
