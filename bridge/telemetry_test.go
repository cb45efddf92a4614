package bridge

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/eclipse/paho.golang/paho"
	pahov3 "github.com/eclipse/paho.mqtt.golang"

	"github.com/zedge-io/zedge/broker"
	"github.com/zedge-io/zedge/signing"
)

// A QoS 1 reading is in its queue when the publisher gets its PUBACK, wrapped in its envelope, and is also
// routed to MQTT subscribers.
func TestTelemetryStoredBeforePuback(t *testing.T) {
	e := newEnv(t)
	watcher := e.v5("ops-1", e.token("ops-1", signing.RoleMember))
	if code := watcher.subscribe(t, "sensors/#", 1); code != 1 {
		t.Fatalf("operator subscribe: %#x", code)
	}
	sensor := e.v3("s-17", e.token("s-17", signing.RoleDevice))
	for i, payload := range []string{`{"value":21.5}`, `{"value":21.7}`} {
		if err := wait(t, sensor.Publish("sensors/b1/r101/temp", 1, false, payload)); err != nil {
			t.Fatal(err)
		}
		// No waiting: the PUBACK means stored.
		msgs := e.messages("telemetry-b1")
		if len(msgs) != i+1 {
			t.Fatalf("after %d PUBACKs the queue holds %d messages", i+1, len(msgs))
		}
		env := decodeEnvelope(t, msgs[i].Body)
		if env.Topic != "sensors/b1/r101/temp" || env.Device != "s-17" || string(env.Payload) != payload ||
			env.PayloadBase64 != nil || !strings.HasSuffix(env.ReceivedAt, "Z") {
			t.Errorf("stored %s", msgs[i].Body)
		}
		if got := watcher.next(t); got.Topic != "sensors/b1/r101/temp" || string(got.Payload) != payload {
			t.Errorf("subscriber got %s %s", got.Topic, got.Payload)
		}
	}
	// A device's own telemetry topic, and a binary payload.
	if err := wait(t, sensor.Publish("devices/s-17/telemetry", 1, false, []byte{0, 1, 0xff})); err != nil {
		t.Fatal(err)
	}
	msgs := e.messages("telemetry-devices")
	if len(msgs) != 1 {
		t.Fatalf("telemetry-devices holds %d", len(msgs))
	}
	if env := decodeEnvelope(t, msgs[0].Body); env.PayloadBase64 == nil || *env.PayloadBase64 != "AAH/" ||
		*env.ContentType != DefaultBinaryContentType {
		t.Errorf("binary stored as %s", msgs[0].Body)
	}
	if got := e.b.Counters()["telemetry.stored"]; got != 3 {
		t.Errorf("telemetry.stored = %d", got)
	}
}

// MQTT 5 publishers learn why a reading was refused; nothing is stored and each refusal is counted.
func TestTelemetryRefusalReasonCodes(t *testing.T) {
	e := newEnv(t)
	// A queue that takes at most 300 bytes per post.
	if _, err := e.svc.CreateQueue(e.ctx, testProject, "telemetry-small", []byte(`{"_max_messages_post_size": 300}`)); err != nil {
		t.Fatal(err)
	}
	dev := e.v5("s-17", e.tokenFor("s-17", testProject, []string{"telemetry-b*", "telemetry-small", "telemetry-devices"},
		signing.RoleDevice))
	tests := []struct {
		name, topic, payload string
		code                 byte
	}{
		{"invalid derived queue name", "sensors/b 1/r1/temp", `1`, 0x90},
		{"queue not in the token", "sensors/c1/r1/temp", `1`, 0x87},
		{"too large for the queue", "sensors/small/r1/temp", `"` + strings.Repeat("x", 400) + `"`, 0x99},
		{"stored", "sensors/b1/r1/temp", `1`, 0x00},
	}
	for _, tt := range tests {
		if got := dev.publish(t, tt.topic, []byte(tt.payload)); got != tt.code {
			t.Errorf("%s: reason %#x, want %#x", tt.name, got, tt.code)
		}
	}
	e.st.FailWith(errors.New("disk on fire"), "PostMessages")
	if got := dev.publish(t, "sensors/b1/r1/temp", []byte(`2`)); got != 0x80 {
		t.Errorf("store failure: reason %#x, want 0x80", got)
	}
	e.st.Heal()
	if got := dev.publish(t, "sensors/b1/r1/temp", []byte(`3`)); got != 0 {
		t.Errorf("after heal: reason %#x", got)
	}
	for _, q := range []string{"telemetry-c1", "telemetry-small"} {
		if n := len(e.messages(q)); n != 0 {
			t.Errorf("%s holds %d messages", q, n)
		}
	}
	if n := len(e.messages("telemetry-b1")); n != 2 {
		t.Errorf("telemetry-b1 holds %d messages, want 2", n)
	}
	c := e.b.Counters()
	if c["telemetry.refused"] != 3 || c["acl.denied.publish"] != 1 || c["telemetry.stored"] != 2 {
		t.Errorf("counters %v", c)
	}
}

// An MQTT 3.1.1 publisher whose reading cannot be stored gets no PUBACK: it is disconnected and sends the
// reading again from its session after reconnecting.
func TestTelemetryV3RefusalDisconnectsAndRetries(t *testing.T) {
	e := newEnv(t)
	lost := make(chan error, 1)
	tok := e.token("s-17", signing.RoleDevice)
	store := pahov3.NewMemoryStore()
	opts := func(o *pahov3.ClientOptions) {
		o.SetCleanSession(false).SetStore(store).SetConnectionLostHandler(func(_ pahov3.Client, err error) { lost <- err })
	}
	dev := e.v3("s-17", tok, opts)
	e.st.FailOn("PostMessages")
	pub := dev.Publish("sensors/b1/r1/temp", 1, false, `{"v":1}`)
	select {
	case <-lost:
	case <-pub.Done():
		t.Fatalf("publish completed despite the store failure: %v", pub.Error())
	}
	if n := len(e.messages("telemetry-b1")); n != 0 {
		t.Fatalf("stored %d", n)
	}
	e.st.Heal()
	// The same session again: paho resends the unacknowledged publish from its store.
	again := e.v3("s-17", tok, opts)
	defer again.Disconnect(0)
	e.posts.waitPosted(t, "telemetry-b1", 1)
	if msgs := e.messages("telemetry-b1"); len(msgs) != 1 || !bytes.Contains(msgs[0].Body, []byte(`"payload":{"v":1}`)) {
		t.Fatalf("after reconnect: %v", msgs)
	}
}

// Messages the bridge itself publishes (as the inline client) never enter a queue, even on a telemetry
// topic; the same publish from a device does.
func TestLoopGuard(t *testing.T) {
	e := newEnv(t)
	if err := e.b.srv.Publish("sensors/b7/r1/temp", []byte(`{"v":"inline"}`), false, 1); err != nil {
		t.Fatal(err)
	}
	sensor := e.v3("s-1", e.token("s-1", signing.RoleDevice))
	if err := wait(t, sensor.Publish("sensors/b7/r1/temp", 1, false, `{"v":"device"}`)); err != nil {
		t.Fatal(err)
	}
	msgs := e.messages("telemetry-b7")
	if len(msgs) != 1 || !bytes.Contains(msgs[0].Body, []byte(`"device"`)) {
		t.Fatalf("telemetry-b7 holds %d: %v", len(msgs), msgs)
	}
	// Commands published by the bridge are not stored either: nothing but the command queue itself.
	ac := e.v5("ac-1", e.token("ac-1", signing.RoleDevice))
	ac.subscribe(t, "devices/ac-1/commands", 1)
	e.post("cmd-ac-1", `{"set":20}`)
	ac.next(t)
	queues, err := e.svc.ListQueues(e.ctx, testProject, broker.QueueListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range queues.Queues {
		if q.Name != "telemetry-b7" && q.Name != "cmd-ac-1" && q.Name != "cmd-results" {
			t.Errorf("unexpected queue %s", q.Name)
		}
	}
}

// A payload that is JSON to json.Valid but that the Service refuses as a body is stored as base64, not lost.
func TestTelemetryBinaryFallback(t *testing.T) {
	e := newEnv(t)
	dev := e.v5("s-2", e.token("s-2", signing.RoleDevice))
	huge := `{"n":123456789012345678901234567890}`
	if code := dev.publish(t, "sensors/b1/r1/count", []byte(huge)); code != 0 {
		t.Fatalf("reason %#x", code)
	}
	msgs := e.messages("telemetry-b1")
	if len(msgs) != 1 {
		t.Fatalf("stored %d", len(msgs))
	}
	var env envelope
	if err := json.Unmarshal(msgs[0].Body, &env); err != nil || env.PayloadBase64 == nil {
		t.Fatalf("stored %s", msgs[0].Body)
	}
	if e.b.Counters()["telemetry.stored_as_base64"] != 1 {
		t.Errorf("counters %v", e.b.Counters())
	}
}

// Retained "last known state" works as in any MQTT broker, and an empty retained publish (which clears it) is
// not a reading.
func TestRetainedLastKnownState(t *testing.T) {
	e := newEnv(t)
	dev := e.v5("s-3", e.token("s-3", signing.RoleDevice))
	pub := func(payload string, retain bool) {
		ctx := e.ctx
		if _, err := dev.Publish(ctx, &paho.Publish{Topic: "devices/s-3/telemetry", QoS: 1, Retain: retain,
			Payload: []byte(payload)}); err != nil {
			t.Fatal(err)
		}
	}
	pub(`{"t":20}`, true)
	pub(`{"t":21}`, true)
	late := e.v5("ops", e.token("ops", signing.RoleMember))
	late.subscribe(t, "devices/+/telemetry", 1)
	if got := late.next(t); string(got.Payload) != `{"t":21}` || !got.Retain {
		t.Errorf("retained: %s retain=%v", got.Payload, got.Retain)
	}
	pub(``, true)
	<-late.msgs // the clearing publish is routed
	if n := len(e.messages("telemetry-devices")); n != 2 {
		t.Errorf("telemetry-devices holds %d, want 2", n)
	}
	later := e.v5("ops2", e.token("ops2", signing.RoleMember))
	later.subscribe(t, "devices/+/telemetry", 1)
	select {
	case p := <-later.msgs:
		t.Errorf("retained message after clearing: %s", p.Payload)
	default:
	}
}

// QoS 2 works as QoS 1 does: stored before the PUBREC, and a refusal is a PUBREC with the reason code.
func TestTelemetryQoS2(t *testing.T) {
	e := newEnv(t)
	dev := e.v5("s-4", e.token("s-4", signing.RoleDevice))
	ctx := e.ctx
	pr, err := dev.Publish(ctx, &paho.Publish{Topic: "sensors/b1/r1/temp", QoS: 2, Payload: []byte(`{"q":2}`)})
	if err != nil || pr.ReasonCode != 0 {
		t.Fatalf("QoS 2 publish: %+v %v", pr, err)
	}
	if n := len(e.messages("telemetry-b1")); n != 1 {
		t.Fatalf("stored %d", n)
	}
	pr, _ = dev.Publish(ctx, &paho.Publish{Topic: "sensors/b 1/r1/temp", QoS: 2, Payload: []byte(`1`)})
	if pr == nil || pr.ReasonCode != 0x90 {
		t.Fatalf("refused QoS 2 publish: %+v", pr)
	}
	// The connection is still usable.
	if code := dev.publish(t, "sensors/b1/r1/temp", []byte(`2`)); code != 0 {
		t.Fatalf("after the refusal: %#x", code)
	}
}

// Bridge.Publish reaches the project's MQTT subscribers and never a queue, and refuses command topics.
func TestPublishAsBroker(t *testing.T) {
	e := newEnv(t)
	op := e.v5("ops", e.token("ops", signing.RoleMember))
	op.subscribe(t, "sensors/#", 1)
	other := e.v5("ops-2", e.tokenFor("ops-2", "other-project", nil, signing.RoleMember))
	other.subscribe(t, "sensors/#", 1)
	if err := e.b.Publish(testProject, "sensors/b8/r1/temp", []byte(`{"from":"zedge"}`), 1, false); err != nil {
		t.Fatal(err)
	}
	if got := op.next(t); string(got.Payload) != `{"from":"zedge"}` || got.Topic != "sensors/b8/r1/temp" {
		t.Errorf("subscriber got %s on %q", got.Payload, got.Topic)
	}
	if err := e.b.Publish("other-project", "sensors/b9/r1/temp", []byte(`{"to":"other"}`), 1, false); err != nil {
		t.Fatal(err)
	}
	if got := other.next(t); string(got.Payload) != `{"to":"other"}` {
		t.Errorf("the other project's subscriber got %s (its own project's publish was first)", got.Payload)
	}
	select {
	case m := <-op.msgs:
		t.Errorf("a publish to another project reached this one: %s %s", m.Topic, m.Payload)
	default:
	}
	if n := len(e.messages("telemetry-b8")); n != 0 {
		t.Errorf("the broker's own publish was stored: %d", n)
	}
	for topic, want := range map[string]error{"devices/ac-1/commands": ErrCommandTopic, "a/+/b": ErrBadTopic,
		"$SYS/x": ErrBadTopic, "": ErrBadTopic} {
		if err := e.b.Publish(testProject, topic, []byte(`{}`), 1, false); !errors.Is(err, want) {
			t.Errorf("Publish(%q) = %v, want %v", topic, err, want)
		}
	}
}
