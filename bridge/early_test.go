package bridge

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	pahov3 "github.com/eclipse/paho.mqtt.golang"

	"github.com/zedge-io/zedge/broker"
	"github.com/zedge-io/zedge/signing"
	"github.com/zedge-io/zedge/store"
)

// claimGate holds the bridge's claims while armed: before they reach the store, or (after) once the store
// has made them but before the bridge learns of it.
type claimGate struct {
	store.Store
	armed   atomic.Bool
	after   bool
	entered chan struct{}
	gate    chan struct{}
	once    sync.Once
}

// open lets held claims through (and is registered as a cleanup, so that a failing test cannot leave the
// bridge's workers held and its Close waiting).
func (g *claimGate) open() { g.once.Do(func() { close(g.gate) }) }

func (g *claimGate) CreateClaim(ctx context.Context, project, queue string, spec store.ClaimSpec, now time.Time) (store.ClaimResult, error) {
	if !g.armed.Load() {
		return g.Store.CreateClaim(ctx, project, queue, spec, now)
	}
	if g.after {
		res, err := g.Store.CreateClaim(ctx, project, queue, spec, now)
		g.entered <- struct{}{}
		<-g.gate
		return res, err
	}
	g.entered <- struct{}{}
	<-g.gate
	return g.Store.CreateClaim(ctx, project, queue, spec, now)
}

func newClaimGateEnv(t *testing.T, after bool, opts ...envOption) (*env, *claimGate) {
	g := &claimGate{after: after, entered: make(chan struct{}, 100), gate: make(chan struct{})}
	e := newEnvOver(t, func(s store.Store) store.Store { g.Store = s; return g }, opts...)
	t.Cleanup(g.open) // runs before the bridge's Close (cleanups run last-registered first)
	return e, g
}

// A command posted to a connected device whose queue holds nothing older goes out before its claim is
// written, and the device's PUBACK deletes it while it is still unclaimed: neither waits for the claim.
func TestCommandDeliveredAheadOfClaim(t *testing.T) {
	e, g := newClaimGateEnv(t, false)
	ac := e.v5("ac-1", e.token("ac-1", signing.RoleDevice))
	ac.subscribe(t, "devices/ac-1/commands", 1)
	e.waitDrained(t, "cmd-ac-1")
	g.armed.Store(true)
	ids := e.post("cmd-ac-1", `{"set":20}`)
	<-g.entered     // the bridge's claim is held ...
	p := ac.next(t) // ... and the command has arrived anyway
	if c := decodeCommand(t, p.Payload); c.ID != ids[0] {
		t.Fatalf("command %s, want %s", p.Payload, ids[0])
	}
	res := e.posts.waitPosted(t, "cmd-results", 1) // ... and its PUBACK has deleted it
	if r := decodeResult(t, res[0]); r.ID != ids[0] || r.Via != ViaPuback {
		t.Errorf("result %s", res[0].Body)
	}
	if msgs := e.messages("cmd-ac-1"); len(msgs) != 0 {
		t.Errorf("command still queued after its PUBACK: %v", msgs)
	}
	g.armed.Store(false)
	g.open()
	e.waitDrained(t, "cmd-ac-1") // the held claim found nothing, and delivered nothing again
	if c := e.b.Counters(); c["commands.delivered"] != 1 || c["commands.acked"] != 1 {
		t.Errorf("counters %v: want it delivered once and acked once", c)
	}
}

// A PUBACK that finds the command already claimed by the bridge's own claim (made in the store, its answer
// not yet back) is applied by that claim: the command is deleted under it.
func TestCommandAckAppliedByClaim(t *testing.T) {
	e, g := newClaimGateEnv(t, true)
	got := make(chan pahov3.Message, 4)
	ac := e.v3("ac-3", e.token("ac-3", signing.RoleDevice), func(o *pahov3.ClientOptions) { o.SetAutoAckDisabled(true) })
	if err := wait(t, ac.Subscribe("devices/ac-3/commands", 1, func(_ pahov3.Client, m pahov3.Message) { got <- m })); err != nil {
		t.Fatal(err)
	}
	e.waitDrained(t, "cmd-ac-3")
	g.armed.Store(true)
	ids := e.post("cmd-ac-3", `{"set":22}`)
	var m pahov3.Message
	select {
	case m = <-got:
	case <-time.After(waitLimit):
		t.Fatal("command not delivered")
	}
	<-g.entered // the claim is made; the bridge does not know yet
	m.Ack()
	eventually(t, "the acknowledgement kept for the claim", func() bool { return e.noteFor("cmd-ac-3", ids[0]) != nil })
	if msgs := e.messages("cmd-ac-3"); len(msgs) != 1 {
		t.Fatalf("%d commands queued, want the claimed one", len(msgs))
	}
	g.armed.Store(false)
	g.open()
	res := e.posts.waitPosted(t, "cmd-results", 1)
	if r := decodeResult(t, res[0]); r.ID != ids[0] || r.Via != ViaPuback {
		t.Errorf("result %s", res[0].Body)
	}
	eventually(t, "command deleted under the claim", func() bool { return len(e.messages("cmd-ac-3")) == 0 })
	if c := e.b.Counters(); c["commands.delivered"] != 1 || c["commands.acked"] != 1 {
		t.Errorf("counters %v: want it delivered once and acked once", c)
	}
}

// A reply that finds its command claimed by the bridge's claim still in flight gets its PUBACK only once that
// claim has applied it: the PUBACK of a reply still means the command is acknowledged.
func TestReplyAheadOfClaimWaitsForIt(t *testing.T) {
	e, g := newClaimGateEnv(t, true, func(c *Config) { c.Rules.Commands[0].Ack = AckReply })
	ac := e.v5("ac-8", e.token("ac-8", signing.RoleDevice))
	ac.subscribe(t, "devices/ac-8/commands", 1)
	e.waitDrained(t, "cmd-ac-8")
	g.armed.Store(true)
	ids := e.post("cmd-ac-8", `{"set":19}`)
	cmd := decodeCommand(t, ac.next(t).Payload)
	<-g.entered // the claim is made; the bridge does not know yet

	reply := `{"id":"` + cmd.ID + `","status":"done"}`
	pubacked := ac.publishAsync(t, "devices/ac-8/acks", []byte(reply))
	eventually(t, "the acknowledgement kept for the claim", func() bool { return e.noteFor("cmd-ac-8", ids[0]) != nil })
	select {
	case <-pubacked:
		t.Fatal("the reply was PUBACKed while its command was still queued")
	case <-time.After(100 * time.Millisecond): // the claim is held: no PUBACK can come
	}
	g.armed.Store(false)
	g.open()
	if code, ok := <-pubacked; !ok || code != 0 {
		t.Fatalf("reply PUBACK %#x", code)
	}
	if msgs := e.messages("cmd-ac-8"); len(msgs) != 0 {
		t.Errorf("queue holds %d after the reply's PUBACK", len(msgs))
	}
	res := e.posts.waitPosted(t, "cmd-results", 1)
	if r := decodeResult(t, res[0]); r.ID != ids[0] || r.Via != ViaReply || string(r.Reply) != reply {
		t.Errorf("result %s", res[0].Body)
	}
}

// A command another consumer claims before the bridge does is not deleted by the device's PUBACK: the
// bridge never held it, so the acknowledgement lapses with the delivery.
func TestCommandAheadOfClaimTakenByAnother(t *testing.T) {
	e, g := newClaimGateEnv(t, false)
	got := make(chan pahov3.Message, 4)
	ac := e.v3("ac-2", e.token("ac-2", signing.RoleDevice), func(o *pahov3.ClientOptions) { o.SetAutoAckDisabled(true) })
	if err := wait(t, ac.Subscribe("devices/ac-2/commands", 1, func(_ pahov3.Client, m pahov3.Message) { got <- m })); err != nil {
		t.Fatal(err)
	}
	e.waitDrained(t, "cmd-ac-2")
	g.armed.Store(true)
	ids := e.post("cmd-ac-2", `{"set":21}`)
	<-g.entered
	var m pahov3.Message
	select {
	case m = <-got:
	case <-time.After(waitLimit):
		t.Fatal("command not delivered ahead of its claim")
	}
	g.armed.Store(false)
	_, other, err := e.svc.CreateClaim(e.ctx, testProject, "cmd-ac-2", broker.ClaimOptions{})
	if err != nil || len(other) != 1 || other[0].ID != ids[0] {
		t.Fatalf("the other consumer's claim: %v %v", other, err)
	}
	m.Ack()
	g.open()
	eventually(t, "the bridge's claim", func() bool { return e.st.Calls("CreateClaim") >= 2 })
	e.waitDrained(t, "cmd-ac-2") // and its run is over
	// The PUBACK, kept for a claim that did not cover the command, lapses with the delivery at the end of the
	// deliverer's run (only such a note removes the delivery before its claim_ttl).
	eventually(t, "the PUBACK handled and lapsed", func() bool {
		c := &e.b.cmd
		c.mu.Lock()
		d := c.byQueue[queueKey{testProject, "cmd-ac-2"}]
		c.mu.Unlock()
		if d == nil {
			return true
		}
		d.mu.Lock()
		defer d.mu.Unlock()
		_, ok := d.outstanding[ids[0]]
		return !ok
	})
	if msgs := e.messages("cmd-ac-2"); len(msgs) != 1 {
		t.Errorf("the other consumer's command was deleted: %d left", len(msgs))
	}
	if c := e.b.Counters(); c["commands.acked"] != 0 {
		t.Errorf("counters %v: nothing was acknowledged under the bridge's claim", c)
	}
}

// A full window holds new commands back (they are claimed later, in order), and nothing is delivered twice.
func TestCommandWindowHoldsFreshCommands(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Commands.Window = 1 })
	got := make(chan pahov3.Message, 10)
	th := e.v3("th-1", e.token("th-1", signing.RoleDevice), func(o *pahov3.ClientOptions) { o.SetAutoAckDisabled(true) })
	if err := wait(t, th.Subscribe("devices/th-1/commands", 1, func(_ pahov3.Client, m pahov3.Message) { got <- m })); err != nil {
		t.Fatal(err)
	}
	e.waitDrained(t, "cmd-th-1")
	first := e.post("cmd-th-1", `1`)
	second := e.post("cmd-th-1", `2`)
	third := e.post("cmd-th-1", `3`)
	for i, want := range []string{first[0], second[0], third[0]} {
		select {
		case m := <-got:
			if c := decodeCommand(t, m.Payload()); c.ID != want {
				t.Fatalf("delivery %d: %s, want %s", i, m.Payload(), want)
			}
			select {
			case extra := <-got:
				t.Fatalf("delivered past the window of 1: %s", extra.Payload())
			case <-time.After(100 * time.Millisecond): // nothing more comes while this one is unacknowledged
			}
			m.Ack()
		case <-time.After(waitLimit):
			t.Fatalf("delivery %d missing", i)
		}
	}
	e.posts.waitPosted(t, "cmd-results", 3)
	if c := e.b.Counters(); c["commands.delivered"] != 3 || c["commands.acked"] != 3 {
		t.Errorf("counters %v", c)
	}
}

// waitDrained waits until the deliverer of queue has found it empty (its device is ready for commands).
func (e *env) waitDrained(t *testing.T, queue string) {
	t.Helper()
	eventually(t, queue+" found empty", func() bool {
		c := &e.b.cmd
		c.mu.Lock()
		d := c.byQueue[queueKey{testProject, queue}]
		c.mu.Unlock()
		if d == nil {
			return false
		}
		d.mu.Lock()
		defer d.mu.Unlock()
		return d.drained && d.state == idle
	})
}
