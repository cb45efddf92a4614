package bridge

import (
	"context"
	"testing"
	"time"

	"github.com/zedge-io/zedge/signing"
	"github.com/zedge-io/zedge/store"
)

// gatedStore holds every message post until the test lets it through.
type gatedStore struct {
	store.Store
	entered chan struct{} // one value per post that reached the store
	gate    chan struct{} // closed to let posts through
}

func (g *gatedStore) PostMessages(ctx context.Context, project, queue string, msgs []store.NewMessage, now time.Time) ([]string, error) {
	g.entered <- struct{}{}
	<-g.gate
	return g.Store.PostMessages(ctx, project, queue, msgs, now)
}

// When every ingest slot is busy, an MQTT 5 publisher is told 0x97 after ingest_wait, while an MQTT 3.1.1
// publisher waits for a slot and is acknowledged once its reading is stored. Nothing is lost.
func TestBackpressure(t *testing.T) {
	g := &gatedStore{entered: make(chan struct{}, 10), gate: make(chan struct{})}
	e := newEnvOver(t, func(s store.Store) store.Store { g.Store = s; return g }, func(c *Config) {
		c.IngestConcurrency = 1
		c.IngestWait = 50 * time.Millisecond
	})
	first := e.v5("s-1", e.token("s-1", signing.RoleDevice))
	firstDone := make(chan byte, 1)
	go func() { firstDone <- first.publish(t, "sensors/b1/r1/t", []byte(`1`)) }()
	<-g.entered // the only slot is taken, its store write held

	busy := e.v5("s-2", e.token("s-2", signing.RoleDevice))
	if code := busy.publish(t, "sensors/b1/r2/t", []byte(`2`)); code != 0x97 {
		t.Errorf("MQTT 5 publish while the store is busy: %#x, want 0x97", code)
	}

	v3 := e.v3("s-3", e.token("s-3", signing.RoleDevice))
	v3Done := v3.Publish("sensors/b1/r3/t", 1, false, `3`)
	select {
	case <-v3Done.Done():
		t.Fatalf("MQTT 3.1.1 publish acknowledged while no slot was free: %v", v3Done.Error())
	case <-time.After(200 * time.Millisecond): // it is waiting; no claim on how long it would
	}
	close(g.gate)
	if code := <-firstDone; code != 0 {
		t.Errorf("first publish: %#x", code)
	}
	if err := wait(t, v3Done); err != nil {
		t.Fatal(err)
	}
	msgs := e.messages("telemetry-b1")
	if len(msgs) != 2 {
		t.Fatalf("stored %d, want the two acknowledged readings", len(msgs))
	}
	if c := e.b.Counters(); c["telemetry.busy"] != 1 || c["telemetry.stored"] != 2 {
		t.Errorf("counters %v", c)
	}
}
