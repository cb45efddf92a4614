package bridge

import (
	"context"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	pahov3 "github.com/eclipse/paho.mqtt.golang"

	"github.com/zedge-io/zedge/broker"
	"github.com/zedge-io/zedge/signing"
	"github.com/zedge-io/zedge/store"
)

// deleteGate holds, while armed, the deletes made under a claim (those that apply an acknowledgement the
// claim covered), after they are called and before they reach the store.
type deleteGate struct {
	store.Store
	armed   atomic.Bool
	entered chan struct{}
	gate    chan struct{}
	once    sync.Once
}

func (g *deleteGate) open() { g.once.Do(func() { close(g.gate) }) }

func (g *deleteGate) DeleteMessage(ctx context.Context, project, queue, id, claimID string, now time.Time) error {
	if claimID != "" && g.armed.Load() {
		g.entered <- struct{}{}
		<-g.gate
	}
	return g.Store.DeleteMessage(ctx, project, queue, id, claimID, now)
}

// newGatesEnv is an env whose claims go through a claimGate (after the store) and whose deletes go through a
// deleteGate.
func newGatesEnv(t *testing.T, opts ...envOption) (*env, *claimGate, *deleteGate) {
	g := &claimGate{after: true, entered: make(chan struct{}, 100), gate: make(chan struct{})}
	dg := &deleteGate{entered: make(chan struct{}, 100), gate: make(chan struct{})}
	e := newEnvOver(t, func(s store.Store) store.Store {
		g.Store = s
		dg.Store = g
		return dg
	}, opts...)
	t.Cleanup(g.open)
	t.Cleanup(dg.open)
	return e, g, dg
}

// posted lists the messages posted to queue so far, in order.
func (r *postRecorder) posted(queue string) []broker.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	var got []broker.Message
	for _, ev := range r.posts {
		if ev.Queue == queue {
			got = append(got, ev.Messages...)
		}
	}
	return got
}

// blockedIn reports whether some goroutine with fn on its stack is blocked in one of states (as the runtime
// names them in a goroutine's header: "select", "chan receive", "sync.Mutex.Lock").
func blockedIn(fn string, states ...string) bool {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	for _, g := range strings.Split(string(buf), "\n\n") {
		header, _, _ := strings.Cut(g, "\n")
		for _, state := range states {
			if strings.Contains(header, "["+state) && strings.Contains(g, fn) {
				return true
			}
		}
	}
	return false
}

// replyWaiting is the frame of a device's reading goroutine handling a reply on its ack topic.
const replyWaiting = "bridge.(*Bridge).reply("

// waiting: the states of a goroutine waiting on a channel.
var waiting = []string{"select", "chan receive"}

// noteFor returns the acknowledgement kept for a command's claim, if any.
func (e *env) noteFor(queue, id string) *ackNote {
	c := &e.b.cmd
	c.mu.Lock()
	d := c.byQueue[queueKey{testProject, queue}]
	c.mu.Unlock()
	if d == nil {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.outstanding[id].acked
}

// subscribeV3 subscribes an MQTT 3.1.1 client that acknowledges by hand to its command topic.
func subscribeV3(t *testing.T, c pahov3.Client, topic string) chan pahov3.Message {
	t.Helper()
	got := make(chan pahov3.Message, 4)
	if err := wait(t, c.Subscribe(topic, 1, func(_ pahov3.Client, m pahov3.Message) { got <- m })); err != nil {
		t.Fatal(err)
	}
	return got
}

func receive(t *testing.T, got chan pahov3.Message) pahov3.Message {
	t.Helper()
	select {
	case m := <-got:
		return m
	case <-time.After(waitLimit):
		t.Fatal("command not delivered")
		return nil
	}
}

// A device's PUBACK kept for the bridge's claim (the command went out ahead of it), then its reply: the reply
// waits for the claim, and both are recorded, the PUBACK first, before the reply's PUBACK. (The reply found
// the PUBACK's note and its own record was lost.)
func TestReplyAfterPubackKeptForClaim(t *testing.T) {
	e, g := newClaimGateEnv(t, true)
	ac := e.v3("ac-4", e.token("ac-4", signing.RoleDevice), func(o *pahov3.ClientOptions) { o.SetAutoAckDisabled(true) })
	got := subscribeV3(t, ac, "devices/ac-4/commands")
	e.waitDrained(t, "cmd-ac-4")
	g.armed.Store(true)
	ids := e.post("cmd-ac-4", `{"set":23}`)
	m := receive(t, got)
	<-g.entered // the claim is made; the bridge does not know yet
	m.Ack()
	eventually(t, "the PUBACK kept for the claim", func() bool { return e.noteFor("cmd-ac-4", ids[0]) != nil })

	reply := `{"id":"` + ids[0] + `","status":"done"}`
	tok := ac.Publish("devices/ac-4/acks", 1, false, reply)
	eventually(t, "the reply waiting for the claim", func() bool { return blockedIn(replyWaiting, waiting...) })
	g.armed.Store(false)
	g.open()
	if err := wait(t, tok); err != nil {
		t.Fatal(err)
	}
	// The reply's PUBACK has come: both records are in, in order, and the command is gone.
	res := e.posts.posted("cmd-results")
	if len(res) != 2 {
		t.Fatalf("%d records after the reply's PUBACK, want the PUBACK's and the reply's", len(res))
	}
	if r := decodeResult(t, res[0]); r.ID != ids[0] || r.Via != ViaPuback {
		t.Errorf("first record %s, want the PUBACK's", res[0].Body)
	}
	if r := decodeResult(t, res[1]); r.ID != ids[0] || r.Via != ViaReply || string(r.Reply) != reply {
		t.Errorf("second record %s, want the reply's", res[1].Body)
	}
	if msgs := e.messages("cmd-ac-4"); len(msgs) != 0 {
		t.Errorf("queue holds %d after the reply's PUBACK", len(msgs))
	}
}

// A reply that arrives while the claim applies the device's PUBACK (the delete under the claim not yet made)
// waits for it: its PUBACK follows the delete, and its record follows the PUBACK's. (The reply found no
// delivery outstanding, its delete without a claim failed on the claim, and it was PUBACKed with the command
// still queued and no record of it.)
func TestReplyWhilePubackAppliedByClaim(t *testing.T) {
	e, g, dg := newGatesEnv(t)
	ac := e.v3("ac-6", e.token("ac-6", signing.RoleDevice), func(o *pahov3.ClientOptions) { o.SetAutoAckDisabled(true) })
	got := subscribeV3(t, ac, "devices/ac-6/commands")
	e.waitDrained(t, "cmd-ac-6")
	g.armed.Store(true)
	ids := e.post("cmd-ac-6", `{"set":24}`)
	m := receive(t, got)
	<-g.entered
	m.Ack()
	eventually(t, "the PUBACK kept for the claim", func() bool { return e.noteFor("cmd-ac-6", ids[0]) != nil })
	dg.armed.Store(true)
	g.armed.Store(false)
	g.open()
	<-dg.entered // the claim covered the command; the PUBACK's delete under it is held

	reply := `{"id":"` + ids[0] + `","status":"done"}`
	tok := ac.Publish("devices/ac-6/acks", 1, false, reply)
	answered := func() bool { return tok.WaitTimeout(0) }
	eventually(t, "the reply waiting, or answered", func() bool { return answered() || blockedIn(replyWaiting, waiting...) })
	if answered() {
		t.Errorf("the reply was PUBACKed while its command's acknowledgement was still being applied (%d queued)",
			len(e.messages("cmd-ac-6")))
	}
	dg.armed.Store(false)
	dg.open()
	if err := wait(t, tok); err != nil {
		t.Fatal(err)
	}
	res := e.posts.posted("cmd-results")
	if len(res) != 2 {
		t.Fatalf("%d records after the reply's PUBACK, want the PUBACK's and the reply's", len(res))
	}
	if r := decodeResult(t, res[0]); r.Via != ViaPuback {
		t.Errorf("first record %s, want the PUBACK's", res[0].Body)
	}
	if r := decodeResult(t, res[1]); r.Via != ViaReply || string(r.Reply) != reply {
		t.Errorf("second record %s, want the reply's", res[1].Body)
	}
	if msgs := e.messages("cmd-ac-6"); len(msgs) != 0 {
		t.Errorf("queue holds %d after the reply's PUBACK", len(msgs))
	}
}

// commandClaimedByAnother sets up a device whose commands are acknowledged by reply, and one command that went
// out to it ahead of the bridge's claim, which is held while another consumer claims the command first.
func commandClaimedByAnother(t *testing.T, device, body string) (*env, *claimGate, *v5, []string) {
	t.Helper()
	e, g := newClaimGateEnv(t, false, func(c *Config) { c.Rules.Commands[0].Ack = AckReply })
	ac := e.v5(device, e.token(device, signing.RoleDevice))
	ac.subscribe(t, "devices/"+device+"/commands", 1)
	e.waitDrained(t, "cmd-"+device)
	g.armed.Store(true)
	ids := e.post("cmd-"+device, body)
	ac.next(t)
	<-g.entered // the bridge's claim is held before the store
	g.armed.Store(false)
	if _, other, err := e.svc.CreateClaim(e.ctx, testProject, "cmd-"+device, broker.ClaimOptions{}); err != nil || len(other) != 1 {
		t.Fatalf("the other consumer's claim: %v %v", other, err)
	}
	return e, g, ac, ids
}

// A reply to a command delivered ahead of the bridge's claim, which another consumer claimed first, waits
// only for the bridge's claim in flight: that claim does not cover it, so the acknowledgement lapses with the
// delivery and the reply is answered. (It waited until the delivery expired, claim_ttl, holding the device's
// reading and a Shutdown.)
func TestReplyForCommandAnotherHoldsLapses(t *testing.T) {
	e, g, ac, ids := commandClaimedByAnother(t, "ac-10", `{"set":25}`)

	pubacked := ac.publishAsync(t, "devices/ac-10/acks", []byte(`{"id":"`+ids[0]+`"}`))
	eventually(t, "the reply waiting for the claim", func() bool { return blockedIn(replyWaiting, waiting...) })
	g.open()
	e.waitDrained(t, "cmd-ac-10") // the claim found nothing, and the run is over
	if n := e.noteFor("cmd-ac-10", ids[0]); n != nil {
		t.Errorf("the reply's acknowledgement still waits for a claim after the deliverer's run")
	}
	if code, ok := <-pubacked; !ok || code != 0 {
		t.Fatalf("reply PUBACK %#x", code)
	}
	if msgs := e.messages("cmd-ac-10"); len(msgs) != 1 {
		t.Errorf("the other consumer's command was deleted: %d left", len(msgs))
	}
	if c := e.b.Counters(); c["commands.acked"] != 0 || len(e.posts.posted("cmd-results")) != 0 {
		t.Errorf("counters %v: nothing was acknowledged under the bridge's claim", c)
	}
}

// Shutdown while a device's reply waits for the deliverer's claim (the command went out ahead of it, and
// another consumer claimed it first): the claim returns, the acknowledgement lapses, the device's reading ends
// and Shutdown completes. (Shutdown waited for the delivery to expire, claim_ttl, and ran into its deadline.)
func TestShutdownWhileReplyWaitsForClaim(t *testing.T) {
	e, g, ac, ids := commandClaimedByAnother(t, "ac-11", `{"set":27}`)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		_, _ = ac.Publish(ctx, &paho.Publish{Topic: "devices/ac-11/acks", QoS: 1, Payload: []byte(`{"id":"` + ids[0] + `"}`)})
	}()
	eventually(t, "the reply waiting for the claim", func() bool { return blockedIn(replyWaiting, waiting...) })

	// Bounded below claim_ttl (60 s), so that waiting for the delivery's expiry fails rather than passes.
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- e.b.Shutdown(ctx) }()
	<-e.b.closing
	g.open()
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}
