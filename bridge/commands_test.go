package bridge

import (
	"encoding/json"
	"testing"
	"time"

	pahov3 "github.com/eclipse/paho.mqtt.golang"

	"github.com/zedge-io/zedge/broker"
	"github.com/zedge-io/zedge/signing"
)

type result struct {
	ID     string          `json:"id"`
	Device string          `json:"device"`
	Queue  string          `json:"queue"`
	Status string          `json:"status"`
	Via    string          `json:"via"`
	Reply  json.RawMessage `json:"reply"`
}

func decodeResult(t *testing.T, m broker.Message) result {
	t.Helper()
	var r result
	if err := json.Unmarshal(m.Body, &r); err != nil {
		t.Fatalf("result %s: %v", m.Body, err)
	}
	return r
}

// A command posted as REST would post it reaches the connected device at QoS 1; its PUBACK deletes it and
// leaves a status record in the results queue.
func TestCommandDeliveredAndAckedByPuback(t *testing.T) {
	e := newEnv(t)
	ac := e.v5("ac-12", e.token("ac-12", signing.RoleDevice))
	if code := ac.subscribe(t, "devices/ac-12/commands", 1); code != 1 {
		t.Fatalf("suback %#x", code)
	}
	ids := e.post("cmd-ac-12", `{"set":21.5}`)
	p := ac.next(t)
	if p.QoS != 1 || p.Topic != "devices/ac-12/commands" {
		t.Fatalf("got %s at QoS %d", p.Topic, p.QoS)
	}
	cmd := decodeCommand(t, p.Payload)
	if cmd.ID != ids[0] || string(cmd.Body) != `{"set":21.5}` || cmd.TTL != 300 {
		t.Errorf("command %s", p.Payload)
	}
	if p.Properties == nil || p.Properties.User.Get(PropMessageID) != ids[0] {
		t.Errorf("user properties %+v", p.Properties)
	}
	res := e.posts.waitPosted(t, "cmd-results", 1)
	if r := decodeResult(t, res[0]); r.ID != ids[0] || r.Device != "ac-12" || r.Via != ViaPuback || r.Status != "acked" ||
		r.Queue != "cmd-ac-12" {
		t.Errorf("result %s", res[0].Body)
	}
	if msgs := e.messages("cmd-ac-12"); len(msgs) != 0 {
		t.Errorf("command still queued after PUBACK: %v", msgs)
	}
	if c := e.b.Counters(); c["commands.delivered"] != 1 || c["commands.acked"] != 1 {
		t.Errorf("counters %v", c)
	}
}

// Commands queued while a device is offline are delivered, in order, once it connects and subscribes.
func TestOfflineDeviceGetsBacklog(t *testing.T) {
	e := newEnv(t)
	ids := e.post("cmd-th-3", `{"mode":"eco"}`, `{"set":19}`, `{"set":20}`)
	th := e.v3("th-3", e.token("th-3", signing.RoleDevice))
	got := make(chan pahov3.Message, 10)
	if err := wait(t, th.Subscribe("devices/th-3/commands", 1, func(_ pahov3.Client, m pahov3.Message) { got <- m })); err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		select {
		case m := <-got:
			if c := decodeCommand(t, m.Payload()); c.ID != id {
				t.Errorf("command %d: id %s, want %s", i, c.ID, id)
			}
		case <-time.After(waitLimit):
			t.Fatalf("command %d not delivered", i)
		}
	}
	e.posts.waitPosted(t, "cmd-results", 3)
	if msgs := e.messages("cmd-th-3"); len(msgs) != 0 {
		t.Errorf("%d commands left", len(msgs))
	}
}

// A device that never acknowledges gets the command again when the claim expires, and after
// _max_claim_count deliveries the command moves to the dead-letter queue.
func TestUnackedCommandRedeliveredThenDeadLettered(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Commands.ClaimTTL = time.Second; c.Commands.ClaimGrace = 0 })
	if _, err := e.svc.CreateQueue(e.ctx, testProject, "cmd-ac-9",
		[]byte(`{"_max_claim_count": 2, "_dead_letter_queue": "cmd-dead"}`)); err != nil {
		t.Fatal(err)
	}
	got := make(chan pahov3.Message, 10)
	ac := e.v3("ac-9", e.token("ac-9", signing.RoleDevice), func(o *pahov3.ClientOptions) { o.SetAutoAckDisabled(true) })
	if err := wait(t, ac.Subscribe("devices/ac-9/commands", 1, func(_ pahov3.Client, m pahov3.Message) { got <- m })); err != nil {
		t.Fatal(err)
	}
	ids := e.post("cmd-ac-9", `{"set":18}`)
	for i := range 2 {
		select {
		case m := <-got:
			if c := decodeCommand(t, m.Payload()); c.ID != ids[0] {
				t.Fatalf("delivery %d: %s", i, m.Payload())
			}
		case <-time.After(waitLimit):
			t.Fatalf("delivery %d missing", i)
		}
	}
	eventually(t, "command dead-lettered", func() bool { return len(e.messages("cmd-dead")) == 1 })
	if msgs := e.messages("cmd-ac-9"); len(msgs) != 0 {
		t.Errorf("command still in its queue: %v", msgs)
	}
	if dead := e.messages("cmd-dead"); string(dead[0].Body) != `{"set":18}` {
		t.Errorf("dead letter %s", dead[0].Body)
	}
}

// A command whose PUBACK is lost with the connection is delivered again when the device comes back.
func TestCommandRedeliveredAfterReconnect(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Commands.ClaimTTL = time.Second; c.Commands.ClaimGrace = 0 })
	tok := e.token("ac-5", signing.RoleDevice)
	first := e.v3("ac-5", tok, func(o *pahov3.ClientOptions) { o.SetAutoAckDisabled(true) })
	got := make(chan pahov3.Message, 10)
	if err := wait(t, first.Subscribe("devices/ac-5/commands", 1, func(_ pahov3.Client, m pahov3.Message) { got <- m })); err != nil {
		t.Fatal(err)
	}
	ids := e.post("cmd-ac-5", `{"fan":"high"}`)
	<-got
	first.Disconnect(0)

	second := e.v3("ac-5", tok)
	if err := wait(t, second.Subscribe("devices/ac-5/commands", 1, func(_ pahov3.Client, m pahov3.Message) { got <- m })); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-got:
		if c := decodeCommand(t, m.Payload()); c.ID != ids[0] {
			t.Fatalf("redelivered %s", m.Payload())
		}
	case <-time.After(waitLimit):
		t.Fatal("not redelivered")
	}
	e.posts.waitPosted(t, "cmd-results", 1)
	if msgs := e.messages("cmd-ac-5"); len(msgs) != 0 {
		t.Errorf("command left: %v", msgs)
	}
}

// With ack: reply only the device's reply on its ack topic acknowledges; the reply lands in the result.
func TestCommandAckedByReply(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Rules.Commands[0].Ack = AckReply })
	ac := e.v5("ac-7", e.token("ac-7", signing.RoleDevice))
	ac.subscribe(t, "devices/ac-7/commands", 1)
	ids := e.post("cmd-ac-7", `{"set":22}`)
	cmd := decodeCommand(t, ac.next(t).Payload)
	// The PUBACK alone leaves the command claimed.
	if msgs := e.messages("cmd-ac-7"); len(msgs) != 1 {
		t.Fatalf("queue holds %d", len(msgs))
	}
	if code := ac.publish(t, "devices/ac-7/acks", []byte(`{"ok":true}`)); code != 0x99 {
		t.Errorf("reply without id: %#x", code)
	}
	reply := `{"id":"` + cmd.ID + `","status":"done","temp":22}`
	if code := ac.publish(t, "devices/ac-7/acks", []byte(reply)); code != 0 {
		t.Fatalf("reply: %#x", code)
	}
	// The reply's PUBACK follows the acknowledgement.
	if msgs := e.messages("cmd-ac-7"); len(msgs) != 0 {
		t.Errorf("queue holds %d after the reply", len(msgs))
	}
	res := e.posts.waitPosted(t, "cmd-results", 1)
	if r := decodeResult(t, res[0]); r.ID != ids[0] || r.Via != ViaReply || string(r.Reply) != reply {
		t.Errorf("result %s", res[0].Body)
	}
}

// An operator's publish on a command topic becomes a queued command, delivered and acknowledged like one
// posted over REST; it is not routed past the queue.
func TestOperatorCommandOverMQTT(t *testing.T) {
	e := newEnv(t)
	ac := e.v5("ac-3", e.token("ac-3", signing.RoleDevice))
	ac.subscribe(t, "devices/ac-3/commands", 1)
	op := e.v5("ops", e.token("ops", signing.RoleMember))
	if code := op.publish(t, "devices/ac-3/commands", []byte(`{"power":"off"}`)); code != 0 {
		t.Fatalf("operator publish: %#x", code)
	}
	posted := e.posts.waitPosted(t, "cmd-ac-3", 1)
	p := ac.next(t)
	if c := decodeCommand(t, p.Payload); c.ID != posted[0].ID || string(c.Body) != `{"power":"off"}` {
		t.Errorf("device got %s", p.Payload)
	}
	e.posts.waitPosted(t, "cmd-results", 1)
	select {
	case extra := <-ac.msgs:
		t.Errorf("the raw publish was routed too: %s", extra.Payload)
	default:
	}
	if code := op.publish(t, "devices/bad id/commands", []byte(`{}`)); code != 0x90 {
		t.Errorf("command for an invalid device id: %#x", code)
	}
}

// A device subscribed at QoS 0 gets its commands; only a reply acknowledges them.
func TestCommandQoS0SubscriberAcksByReply(t *testing.T) {
	e := newEnv(t)
	ac := e.v5("ac-8", e.token("ac-8", signing.RoleDevice))
	ac.subscribe(t, "devices/ac-8/commands", 0)
	e.post("cmd-ac-8", `{"set":1}`)
	p := ac.next(t)
	if p.QoS != 0 {
		t.Fatalf("qos %d", p.QoS)
	}
	cmd := decodeCommand(t, p.Payload)
	if code := ac.publish(t, "devices/ac-8/acks", []byte(`{"id":"`+cmd.ID+`"}`)); code != 0 {
		t.Fatalf("reply %#x", code)
	}
	if msgs := e.messages("cmd-ac-8"); len(msgs) != 0 {
		t.Errorf("command left: %v", msgs)
	}
}

// A PUBACK the bridge no longer tracks the delivery of (late: after the delivery's claim expired) deletes the
// command if it is still there and unclaimed, and records it like any acknowledgement; one for a command that
// is gone, or that another consumer holds, changes nothing and records nothing.
func TestLatePubackRecorded(t *testing.T) {
	e := newEnv(t)
	route, ok := e.b.mapper.CommandQueue("cmd-ac-20")
	if !ok {
		t.Fatal("no command route")
	}
	ids := e.post("cmd-ac-20", `{"set":20}`, `{"set":21}`)
	e.b.cmd.ack(testProject, route, ids[0], ViaPuback, nil)
	res := e.posts.waitPosted(t, "cmd-results", 1)
	if r := decodeResult(t, res[0]); r.ID != ids[0] || r.Via != ViaPuback {
		t.Errorf("result %s", res[0].Body)
	}
	if msgs := e.messages("cmd-ac-20"); len(msgs) != 1 || msgs[0].ID != ids[1] {
		t.Fatalf("left %v, want only %s", msgs, ids[1])
	}

	e.b.cmd.ack(testProject, route, ids[0], ViaPuback, nil) // gone already
	if _, others, err := e.svc.CreateClaim(e.ctx, testProject, "cmd-ac-20", broker.ClaimOptions{}); err != nil || len(others) != 1 {
		t.Fatalf("another consumer's claim: %v %v", others, err)
	}
	e.b.cmd.ack(testProject, route, ids[1], ViaPuback, nil) // held by that consumer
	if msgs := e.messages("cmd-ac-20"); len(msgs) != 1 {
		t.Errorf("the claimed command was deleted: %v", msgs)
	}
	if n := len(e.posts.posted("cmd-results")); n != 1 {
		t.Errorf("%d records, want only the first", n)
	}
	if c := e.b.Counters(); c["commands.acked"] != 1 {
		t.Errorf("counters %v: want one acknowledgement", c)
	}
}
