package firmwaresim

// The Go API against the real zedge binary in auth none (Options.Project = mqtt.default_project, sensor URLs
// signed locally), with a command posted by someone else (as the web app does) to a thermostat.

import (
	"bytes"
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/zedge-io/zedge/internal/zedgetest"
)

const (
	e2eURLKey    = "firmwaresim-e2e-url-signing-key-0123456789"
	e2eJWTSecret = "firmwaresim-e2e-jwt-secret-0123456789abcdef"
)

func TestMain(m *testing.M) { zedgetest.Main(m) }

// startZedge starts the real zedge with env and an optional config file.
func startZedge(t *testing.T, env []string, config string) *zedgetest.Server {
	return zedgetest.Start(t, zedgetest.Options{Env: env, Config: config})
}

func TestOneOfficeAuthNoneE2E(t *testing.T) {
	z := startZedge(t, []string{"ZEDGE_AUTH=none", "ZEDGE_MQTT_PROJECT=site-7", "ZEDGE_SIGNING_KEY=" + e2eURLKey,
		"ZEDGE_STORE=memory"}, "")
	httpAddr, mqttAddr := z.HTTP, z.MQTT
	cfg := DefaultConfig().ScaleTo(8) // one office: thermostat, two ACs, five sensors
	cfg.Directive.At = 0              // the controller only reads; the only command is ours
	ready := make(chan struct{})
	sim, err := New(cfg, Options{HTTP: "http://" + httpAddr, MQTT: mqttAddr, Project: "site-7", SigningKey: e2eURLKey, Ready: ready})
	if err != nil {
		t.Fatal(err)
	}
	if l := sim.Layout(); l.Project != "site-7" || len(l.Buildings) != 1 || l.Buildings[0].Offices[0].Thermostat != "b1-f1-o1-th" {
		t.Fatalf("layout %+v", l)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	type result struct {
		r   *Report
		err error
	}
	out := make(chan result, 1)
	go func() { r, err := sim.Run(ctx); out <- result{r, err} }()
	select {
	case <-ready:
	case res := <-out:
		t.Fatalf("Run ended before the devices connected: %v", res.err)
	}
	if st := sim.Stats(); st.DevicesConnected != 3 || st.Devices != 3 || st.Sensors != 5 {
		t.Errorf("stats after Ready: %+v", st)
	}

	// Someone else (the web app) sets the office's temperature through the thermostat.
	body := `{"messages": [{"body": {"command": "set_setpoint", "setpoint": 19.5, "by": "app"}, "ttl": 300}]}`
	req, _ := http.NewRequest(http.MethodPost, "http://"+httpAddr+"/v2/queues/cmd-b1-f1-o1-th/messages", bytes.NewBufferString(body))
	req.Header.Set("Client-ID", uuid.NewString())
	req.Header.Set("X-Project-ID", "site-7")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("posting the command: %v %v", resp, err)
	}
	resp.Body.Close()
	// Wait (count-based: until the device has it; the bound only stops a broken build from hanging).
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if ds, _ := sim.DeviceState("b1-f1-o1-th"); ds.CommandsApplied == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the thermostat never applied the command")
		}
	}
	os, ok := sim.OfficeState("b1-f1-o1")
	if !ok || os.Setpoint != 19.5 || len(os.Devices) != 3 {
		t.Fatalf("office %+v", os)
	}
	for _, d := range os.Devices {
		if d.Setpoint != 19.5 {
			t.Errorf("%s setpoint %v: the office's ACs follow the thermostat", d.ID, d.Setpoint)
		}
	}
	if _, ok := sim.OfficeState("b9-f1-o1"); ok {
		t.Error("an unknown office has a state")
	}
	// Let every device report at least once (count-based) so that every flow has something to verify.
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if st := sim.Stats(); st.TelemetryAcked >= 3 && st.ReadingsAcked >= 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the devices did not report: %+v", sim.Stats())
		}
	}
	stop()
	res := <-out
	if res.err != nil {
		t.Fatal(res.err)
	}
	r := res.r
	t.Logf("report:\n%s", r.Text())
	if !r.Verified || r.Telemetry.Lost != 0 || r.Readings.Lost != 0 || r.Telemetry.Acked == 0 || r.Readings.Acked == 0 ||
		r.Telemetry.Pending != 0 || r.Readings.Pending != 0 {
		t.Errorf("flows: telemetry %+v, readings %+v", r.Telemetry, r.Readings)
	}
	if r.Commands.Sent != 0 || r.Commands.AppDelivered != 1 || r.Commands.ResultRecords < 1 {
		t.Errorf("commands %+v", r.Commands)
	}
	if _, err := sim.Run(context.Background()); err != ErrAlreadyRun {
		t.Errorf("second Run: %v", err)
	}
}
