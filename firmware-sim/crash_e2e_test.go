package firmwaresim

// A crash in the middle of a run: zedge is SIGKILLed while devices publish and sensors post, and restarted on
// the same data directory and addresses. Devices reconnect with backoff, sensors retry, commands stored before
// the crash are delivered after it, and at the end every reading that was acknowledged before or after the
// crash is found over REST: nothing acknowledged is lost. Everything waits on counts, never on times.

import (
	"context"
	"testing"
	"time"
)

// waitFor polls cond; the bound only keeps a broken build from hanging the suite.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(90 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting: %s", what)
		}
	}
}

func TestZedgeCrashMidRunLosesNothing(t *testing.T) {
	z := startZedge(t, []string{"ZEDGE_AUTH=jwt", "ZEDGE_JWT_SECRET=" + e2eJWTSecret, "ZEDGE_SIGNING_KEY=" + e2eURLKey,
		"ZEDGE_DURABILITY=sync"}, `
limits:
  min_claim_ttl: 1
  min_claim_grace: 1
mqtt:
  commands:
    # A command delivered just before the crash is delivered again soon after the restart.
    claim_ttl: 2s
    claim_grace: 1s
`)
	cfg := DefaultConfig().ScaleTo(24) // three offices: 9 MQTT devices, 15 sensors
	cfg.TelemetryInterval, cfg.SensorInterval = 500*time.Millisecond, 500*time.Millisecond
	cfg.Firmware.FlakyFraction, cfg.Firmware.OfflineProbability = 0, 0 // the crash is the fault here
	cfg.Directive.At = time.Millisecond                                // the controller acts from the start
	ready := make(chan struct{})
	sim, err := New(cfg, Options{HTTP: "http://" + z.HTTP, MQTT: z.MQTT, JWTSecret: e2eJWTSecret,
		SigningKey: e2eURLKey, Ready: ready})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	out := make(chan *Report, 1)
	go func() {
		r, err := sim.Run(ctx)
		if err != nil {
			t.Error(err)
		}
		out <- r
	}()
	<-ready
	waitFor(t, "traffic before the crash", func() bool {
		st := sim.Stats()
		return st.TelemetryAcked >= 30 && st.ReadingsAcked >= 30
	})
	z.Kill()
	before := sim.Stats()
	waitFor(t, "every device noticing the crash", func() bool { return sim.Stats().DevicesConnected == 0 })
	z.Restart()
	waitFor(t, "every device back and traffic after the restart", func() bool {
		st := sim.Stats()
		return st.DevicesConnected == int64(st.Devices) && st.TelemetryAcked >= before.TelemetryAcked+30 &&
			st.ReadingsAcked >= before.ReadingsAcked+30
	})
	stop()
	r := <-out
	if r == nil {
		t.Fatal("no report")
	}
	t.Logf("report:\n%s", r.Text())
	if !r.Verified {
		t.Fatal("not verified")
	}
	for name, f := range map[string]FlowReport{"telemetry": r.Telemetry, "readings": r.Readings} {
		if f.Lost != 0 || f.Pending != 0 || f.Dropped != 0 || f.Rejected != 0 || f.StoredUnique < f.Acked {
			t.Errorf("%s across the crash: %+v", name, f)
		}
	}
	if r.Commands.Unacked != 0 {
		t.Errorf("commands across the crash: %+v", r.Commands)
	}
	if r.Firmware.Reconnects < int64(r.MQTTDevices) {
		t.Errorf("%d reconnects for %d devices", r.Firmware.Reconnects, r.MQTTDevices)
	}
}
