package bridge

import (
	"bytes"
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	pahov3 "github.com/eclipse/paho.mqtt.golang"

	"github.com/zedge-io/zedge/broker"
	"github.com/zedge-io/zedge/signing"
	"github.com/zedge-io/zedge/store"
)

// stepGate holds each of the bridge's claims made while armed, once the store has made it, until the test
// lets that one claim return (step).
type stepGate struct {
	store.Store
	armed   atomic.Bool
	entered chan struct{}
	release chan struct{}
	done    chan struct{}
	once    sync.Once
}

func (g *stepGate) CreateClaim(ctx context.Context, project, queue string, spec store.ClaimSpec, now time.Time) (store.ClaimResult, error) {
	res, err := g.Store.CreateClaim(ctx, project, queue, spec, now)
	if g.armed.Load() {
		g.entered <- struct{}{}
		select {
		case <-g.release:
		case <-g.done:
		}
	}
	return res, err
}

// step lets one held claim return.
func (g *stepGate) step(t *testing.T) {
	t.Helper()
	select {
	case g.release <- struct{}{}:
	case <-time.After(waitLimit):
		t.Fatal("no claim held")
	}
}

func newStepGateEnv(t *testing.T, opts ...envOption) (*env, *stepGate) {
	g := &stepGate{entered: make(chan struct{}, 100), release: make(chan struct{}), done: make(chan struct{})}
	e := newEnvOver(t, func(s store.Store) store.Store { g.Store = s; return g }, opts...)
	t.Cleanup(func() { g.armed.Store(false); g.once.Do(func() { close(g.done) }) })
	return e, g
}

// publishGate is a second hook of the MQTT server that holds the bridge's publish of one command (the inline
// client's publish whose payload names it) before the server routes it.
type publishGate struct {
	mqtt.HookBase
	id      []byte
	entered chan struct{}
	gate    chan struct{}
	once    sync.Once
}

func (h *publishGate) ID() string            { return "test-publish-gate" }
func (h *publishGate) Provides(b byte) bool  { return b == mqtt.OnPublish }
func (h *publishGate) open()                 { h.once.Do(func() { close(h.gate) }) }
func (h *publishGate) Init(config any) error { return nil }
func (h *publishGate) OnPublish(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	if cl.Net.Inline && bytes.Contains(pk.Payload, h.id) {
		h.entered <- struct{}{}
		<-h.gate
	}
	return pk, nil
}

func holdPublishOf(t *testing.T, e *env, id string) *publishGate {
	h := &publishGate{id: []byte(`"` + id + `"`), entered: make(chan struct{}, 10), gate: make(chan struct{})}
	if err := e.b.srv.AddHook(h, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.open)
	return h
}

// postAsync posts one body from another goroutine (the post may be held), and returns its id when done.
func (e *env) postAsync(t *testing.T, queue, body string) <-chan string {
	out := make(chan string, 1)
	go func() {
		ids, err := e.svc.PostMessages(e.ctx, broker.Caller{Project: testProject, ClientID: broker.ClientID{2}}, queue,
			[]byte(`{"messages":[{"ttl":300,"body":`+body+`}]}`), 0)
		if err != nil || len(ids) != 1 {
			t.Errorf("post: %v %v", ids, err)
			close(out)
			return
		}
		out <- ids[0]
	}()
	return out
}

func commandID(t *testing.T, m pahov3.Message) string {
	t.Helper()
	return decodeCommand(t, m.Payload()).ID
}

// A command posted while the deliverer publishes what its claim returned goes out after those, not ahead of
// them. (The claim had just marked the queue drained, so the fresh command went out at once, ahead of the older
// command still being handed to the server.)
func TestEarlyDeliveryWaitsForClaimedPublishes(t *testing.T) {
	e := newEnv(t)
	older := e.post("cmd-th-5", `0`)[0] // queued while the device is away
	pg := holdPublishOf(t, e, older)
	th := e.v3("th-5", e.token("th-5", signing.RoleDevice), func(o *pahov3.ClientOptions) { o.SetAutoAckDisabled(true) })
	got := subscribeV3(t, th, "devices/th-5/commands")
	<-pg.entered // the claim returned the older command; its publish is held

	fresh := e.postAsync(t, "cmd-th-5", `1`)
	eventually(t, "the fresh command delivered, or held back", func() bool {
		return len(got) > 0 || blockedIn("bridge.(*commandState).deliverEarly(", "sync.Mutex.Lock")
	})
	if len(got) > 0 {
		t.Errorf("command %s delivered ahead of the older %s, still being published", commandID(t, <-got), older)
	}
	pg.open()
	newer := <-fresh
	for i, want := range []string{older, newer} {
		if id := commandID(t, receive(t, got)); id != want {
			t.Fatalf("delivery %d: %s, want %s (older %s, newer %s)", i, id, want, older, newer)
		}
	}
}

// A command whose delivery expired unacknowledged is older than one posted after that: the fresh one waits for
// the claim that delivers the older one again, and goes out after it. (The queue still counted as drained, so
// the fresh command went out at once, ahead of the redelivery.)
func TestRedeliveryNotOvertakenByFreshCommand(t *testing.T) {
	e, g := newClaimGateEnv(t, false, func(c *Config) { c.Commands.ClaimTTL = time.Second; c.Commands.ClaimGrace = 0 })
	th := e.v3("th-6", e.token("th-6", signing.RoleDevice), func(o *pahov3.ClientOptions) { o.SetAutoAckDisabled(true) })
	got := subscribeV3(t, th, "devices/th-6/commands")
	e.waitDrained(t, "cmd-th-6")
	older := e.post("cmd-th-6", `0`)[0]
	if id := commandID(t, receive(t, got)); id != older { // not acknowledged
		t.Fatalf("delivered %s, want %s", id, older)
	}
	eventually(t, "the delivery claimed", func() bool {
		c := &e.b.cmd
		c.mu.Lock()
		d := c.byQueue[queueKey{testProject, "cmd-th-6"}]
		c.mu.Unlock()
		d.mu.Lock()
		defer d.mu.Unlock()
		return d.outstanding[older].claimID != "" && d.state == idle
	})
	g.armed.Store(true)
	<-g.entered // the claim expired; the deliverer's next claim is held before the store

	newer := e.post("cmd-th-6", `1`)[0]
	g.armed.Store(false)
	g.open()
	for i, want := range []string{older, newer} {
		if id := commandID(t, receive(t, got)); id != want {
			t.Fatalf("delivery %d: %s, want %s (older %s, newer %s)", i, id, want, older, newer)
		}
	}
}

// A command posted while the deliverer's claim was being made, which that claim did not see, and whose post
// event reaches the bridge only after the claim returned, is claimed next; a command posted after it waits
// for that claim rather than go out ahead of it. (The queue still counted as drained.)
func TestFreshCommandNotAheadOfOneTheClaimMissed(t *testing.T) {
	e, g := newStepGateEnv(t)
	th := e.v3("th-7", e.token("th-7", signing.RoleDevice), func(o *pahov3.ClientOptions) { o.SetAutoAckDisabled(true) })
	got := subscribeV3(t, th, "devices/th-7/commands")
	e.waitDrained(t, "cmd-th-7")
	g.armed.Store(true)
	first := e.post("cmd-th-7", `"a"`)[0] // delivered ahead of its claim ...
	if id := commandID(t, receive(t, got)); id != first {
		t.Fatalf("delivered %s, want %s", id, first)
	}
	<-g.entered // ... which is made, and held

	// The next post is stored now, unseen by that claim; its event is held back from the bridge.
	held, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	e.posts.mu.Lock()
	e.posts.before = func(ev broker.PostEvent) {
		if ev.Queue == "cmd-th-7" {
			once.Do(func() { close(held); <-release })
		}
	}
	e.posts.mu.Unlock()
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	missed := e.postAsync(t, "cmd-th-7", `"b"`)
	<-held
	g.step(t)                    // the claim returns (it covers the first command only) ...
	e.waitDrained(t, "cmd-th-7") // ... and its run is over
	close(release)               // the bridge hears of the post now
	older := <-missed
	<-g.entered // the claim that takes it is made, and held

	newer := e.post("cmd-th-7", `"c"`)[0]
	g.armed.Store(false)
	g.step(t)
	for i, want := range []string{older, newer} {
		if id := commandID(t, receive(t, got)); id != want {
			t.Fatalf("delivery %d: %s, want %s (older %s, newer %s)", i, id, want, older, newer)
		}
	}
}

// A post that finds its device ready, and whose early delivery comes only after the device's connection ended
// and its deliverer was dropped, delivers nothing: the deliverer of the device's next connection claims and
// delivers the command, once. (The dropped deliverer published it too, unknown to the new one, so the device
// got it twice while a claim held it; its PUBACK of that copy could even delete it unrecorded.)
func TestPostRacingDisconnectDeliversOnce(t *testing.T) {
	e := newEnv(t)
	key := queueKey{testProject, "cmd-th-8"}
	deliverer := func() *deliverer {
		c := &e.b.cmd
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.byQueue[key]
	}
	tok := e.token("th-8", signing.RoleDevice)
	first := e.v3("th-8", tok)
	subscribeV3(t, first, "devices/th-8/commands")
	e.waitDrained(t, "cmd-th-8")
	old := deliverer()
	old.sendMu.Lock() // the post's early delivery waits here, after it found the device ready
	unlocked := false
	unlock := func() {
		if !unlocked {
			unlocked = true
			old.sendMu.Unlock()
		}
	}
	t.Cleanup(unlock)
	posted := e.postAsync(t, "cmd-th-8", `{"set":26}`)
	eventually(t, "the post's early delivery waiting", func() bool {
		return blockedIn("bridge.(*commandState).deliverEarly(", "sync.Mutex.Lock")
	})

	first.Disconnect(0)
	eventually(t, "the deliverer dropped", func() bool { return deliverer() != old })
	second := e.v3("th-8", tok, func(o *pahov3.ClientOptions) { o.SetAutoAckDisabled(true) })
	got := subscribeV3(t, second, "devices/th-8/commands")
	m := receive(t, got) // from the new connection's deliverer, by claim
	unlock()
	id := <-posted
	if c := decodeCommand(t, m.Payload()); c.ID != id {
		t.Fatalf("delivered %s, want %s", m.Payload(), id)
	}
	if n := e.b.Counters()["commands.delivered"]; n != 1 {
		t.Errorf("command delivered %d times, want once", n)
	}
}
