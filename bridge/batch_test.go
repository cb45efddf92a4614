package bridge

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/zedge-io/zedge/broker"
	"github.com/zedge-io/zedge/signing"
	"github.com/zedge-io/zedge/store"
)

// holdFirstPost holds the first store post until the test lets it through, so that the publishes behind it
// wait for their queue and are batched.
func holdFirstPost(t *testing.T, opts ...envOption) (*env, *gatedStore) {
	g := &gatedStore{entered: make(chan struct{}, 100), gate: make(chan struct{})}
	e := newEnvOver(t, func(s store.Store) store.Store { g.Store = s; return g }, opts...)
	t.Cleanup(func() { // a failing test must not leave the bridge's publishers held (Close would wait)
		select {
		case <-g.gate:
		default:
			close(g.gate)
		}
	})
	return e, g
}

// waitBatched waits until n publishes wait behind the post under way for queue.
func (e *env) waitBatched(t *testing.T, queue string, n int) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		e.b.batches.mu.Lock()
		got := 0
		if bt := e.b.batches.m[queueKey{testProject, queue}]; bt != nil {
			got = len(bt.waiting)
		}
		e.b.batches.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d publishes waiting for %s, want %d", got, queue, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// publishAsync publishes at QoS 1 from an MQTT 5 client and delivers the PUBACK's reason code (0xff: none).
func publishAsync(c *v5, topic string, payload []byte) <-chan byte {
	out := make(chan byte, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		pr, _ := c.Publish(ctx, &paho.Publish{Topic: topic, QoS: 1, Payload: payload})
		if pr == nil {
			out <- 0xff
			return
		}
		out <- pr.ReasonCode
	}()
	return out
}

// Publishes waiting for the same queue are stored by one post; each device gets its own PUBACK after it, and
// each message keeps its own poster.
func TestIngestBatch(t *testing.T) {
	e, g := holdFirstPost(t)
	devices := make([]*v5, 4)
	for i := range devices {
		id := fmt.Sprintf("s-%d", i)
		devices[i] = e.v5(id, e.token(id, signing.RoleDevice))
	}
	first := publishAsync(devices[0], "sensors/b1/r0/t", []byte(`{"n":0}`))
	<-g.entered
	var acks []<-chan byte
	for i, d := range devices[1:] {
		acks = append(acks, publishAsync(d, fmt.Sprintf("sensors/b1/r%d/t", i+1), []byte(fmt.Sprintf(`{"n":%d}`, i+1))))
	}
	e.waitBatched(t, "telemetry-b1", 3)
	for _, a := range acks {
		select {
		case code := <-a:
			t.Fatalf("PUBACK %#x before the reading was stored", code)
		default:
		}
	}
	close(g.gate)
	for i, a := range append([]<-chan byte{first}, acks...) {
		if code := <-a; code != 0 {
			t.Errorf("device %d: PUBACK %#x", i, code)
		}
	}
	msgs := e.messages("telemetry-b1")
	if len(msgs) != 4 {
		t.Fatalf("stored %d, want 4", len(msgs))
	}
	for _, m := range msgs {
		var env envelope
		if err := json.Unmarshal(m.Body, &env); err != nil {
			t.Fatal(err)
		}
		if want := deviceClientID(testProject, env.Device); m.ClientID != want {
			t.Errorf("message of %s posted as %v, want %v", env.Device, m.ClientID, want)
		}
	}
	if c := e.b.Counters(); c["telemetry.stored"] != 4 || c["telemetry.posts"] != 2 || c["telemetry.batches_split"] != 0 {
		t.Errorf("counters %v, want 4 stored in 2 posts", c)
	}
	if got := len(e.posts.waitPosted(t, "telemetry-b1", 4)); got != 4 {
		t.Errorf("observers saw %d messages", got)
	}
}

// A batch the Service refuses for one message's sake (here: the batch exceeds the queue's post size, and one
// reading alone does too) is posted message by message: the others are stored, the one is refused.
func TestIngestBatchOneRefused(t *testing.T) {
	e, g := holdFirstPost(t)
	if _, err := e.svc.CreateQueue(e.ctx, testProject, "telemetry-b1", []byte(`{"_max_messages_post_size": 400}`)); err != nil {
		t.Fatal(err)
	}
	devices := make([]*v5, 4)
	for i := range devices {
		id := fmt.Sprintf("s-%d", i)
		devices[i] = e.v5(id, e.token(id, signing.RoleDevice))
	}
	first := publishAsync(devices[0], "sensors/b1/r0/t", []byte(`0`))
	<-g.entered
	big := []byte(`"` + strings.Repeat("x", 300) + `"`)
	ok1 := publishAsync(devices[1], "sensors/b1/r1/t", []byte(`1`))
	e.waitBatched(t, "telemetry-b1", 1)
	refused := publishAsync(devices[2], "sensors/b1/r2/t", big)
	e.waitBatched(t, "telemetry-b1", 2)
	ok3 := publishAsync(devices[3], "sensors/b1/r3/t", []byte(`3`))
	e.waitBatched(t, "telemetry-b1", 3)
	close(g.gate)
	for name, a := range map[string]<-chan byte{"first": first, "s-1": ok1, "s-3": ok3} {
		if code := <-a; code != 0 {
			t.Errorf("%s: PUBACK %#x", name, code)
		}
	}
	if code := <-refused; code != 0x99 {
		t.Errorf("the reading too large for the queue: PUBACK %#x, want 0x99", code)
	}
	if msgs := e.messages("telemetry-b1"); len(msgs) != 3 {
		t.Fatalf("stored %d, want the 3 that fit", len(msgs))
	}
	c := e.b.Counters()
	if c["telemetry.stored"] != 3 || c["telemetry.refused"] != 1 || c["telemetry.batches_split"] != 1 ||
		c["telemetry.posts"] != 5 {
		t.Errorf("counters %v, want 3 stored, 1 refused, 1 batch split, 5 posts (1 + the batch + 3 alone)", c)
	}
}

// QoS 0 publishes are batched the same way; none is lost.
func TestIngestBatchQoS0(t *testing.T) {
	e, g := holdFirstPost(t)
	lead := e.v3("s-0", e.token("s-0", signing.RoleDevice))
	if err := wait(t, lead.Publish("sensors/b2/r0/t", 0, false, `0`)); err != nil {
		t.Fatal(err)
	}
	<-g.entered
	for i := 1; i <= 5; i++ {
		id := fmt.Sprintf("s-%d", i)
		c := e.v3(id, e.token(id, signing.RoleDevice))
		if err := wait(t, c.Publish(fmt.Sprintf("sensors/b2/r%d/t", i), 0, false, fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	e.waitBatched(t, "telemetry-b2", 5)
	close(g.gate)
	if got := len(e.posts.waitPosted(t, "telemetry-b2", 6)); got != 6 {
		t.Fatalf("stored %d, want 6", got)
	}
	// The counters follow the observers (QoS 0 has no PUBACK to wait for).
	deadline := time.Now().Add(waitLimit)
	for e.b.Counters()["telemetry.stored"] < 6 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if c := e.b.Counters(); c["telemetry.stored"] != 6 || c["telemetry.posts"] != 2 {
		t.Errorf("counters %v, want 6 stored in 2 posts", c)
	}
}

func TestPostShare(t *testing.T) {
	for _, ttl := range []int{0, 1, 9, 10, 60, 1209600} {
		m := broker.BodyMessage{Body: []byte(`{"a":1}`), TTL: ttl}
		var wrapped []byte
		wrapped = appendPostStart(wrapped, ttl)
		wrapped = append(wrapped, m.Body...)
		wrapped = append(wrapped, postEnd...)
		// One message: the post is the overhead plus its share, less the comma it does not need.
		if got := postOverhead + postShare(m) - 1; got != len(wrapped) {
			t.Errorf("ttl %d: counted %d, the post has %d bytes: %s", ttl, got, len(wrapped), wrapped)
		}
	}
}
