package firmwaresim

// The Go API against the real zedge binary in auth none (Options.Project = mqtt.default_project, sensor URLs
// signed locally), with a command posted by someone else (as the web app does) to a thermostat.

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

const (
	e2eURLKey    = "firmwaresim-e2e-url-signing-key-0123456789"
	e2eJWTSecret = "firmwaresim-e2e-jwt-secret-0123456789abcdef"
)

// zedgeProc is one zedge process of a test; restart keeps its ports, data directory and configuration.
type zedgeProc struct {
	t        *testing.T
	bin, dir string
	env      []string
	cmd      *exec.Cmd
	logs     *bytes.Buffer
	done     chan struct{}
	httpAddr string
	mqttAddr string
	config   bool
}

var zedgeBinOnce struct {
	sync.Once
	path string
	err  error
	out  []byte
}

func TestMain(m *testing.M) {
	code := m.Run()
	if zedgeBinOnce.path != "" {
		_ = os.RemoveAll(filepath.Dir(zedgeBinOnce.path))
	}
	os.Exit(code)
}

// zedgeBinary builds the zedge binary once per test binary (removed by TestMain).
func zedgeBinary(t *testing.T) string {
	t.Helper()
	zedgeBinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "firmwaresim-zedge-")
		if err != nil {
			zedgeBinOnce.err = err
			return
		}
		zedgeBinOnce.path = filepath.Join(dir, "zedge")
		zedgeBinOnce.out, zedgeBinOnce.err = exec.Command("go", "build", "-o", zedgeBinOnce.path,
			"github.com/zedge-io/zedge/cmd/zedge").CombinedOutput()
	})
	if zedgeBinOnce.err != nil {
		t.Fatalf("building zedge: %v\n%s", zedgeBinOnce.err, zedgeBinOnce.out)
	}
	return zedgeBinOnce.path
}

// startZedge starts zedge with env (addresses, data dir and ready file are added) and an optional config.
func startZedge(t *testing.T, env []string, config string) *zedgeProc {
	t.Helper()
	z := &zedgeProc{t: t, bin: zedgeBinary(t), dir: t.TempDir(), env: env, config: config != ""}
	if config != "" {
		path := filepath.Join(z.dir, "zedge.yaml")
		if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	z.env = append(z.env, "ZEDGE_HTTP_ADDR=127.0.0.1:0", "ZEDGE_MQTT_ADDR=127.0.0.1:0", "ZEDGE_WS_ADDR=127.0.0.1:0",
		"ZEDGE_DATA_DIR="+filepath.Join(z.dir, "data"), "ZEDGE_LOG_LEVEL=warn")
	z.start()
	// A restart must come back on the same addresses.
	z.env = append(z.env, "ZEDGE_HTTP_ADDR="+z.httpAddr, "ZEDGE_MQTT_ADDR="+z.mqttAddr)
	t.Cleanup(func() {
		z.stop()
		if t.Failed() {
			t.Logf("zedge log:\n%s", z.logs.String())
		}
	})
	return z
}

func (z *zedgeProc) start() {
	t := z.t
	readyFile := filepath.Join(z.dir, "ready.json")
	_ = os.Remove(readyFile)
	args := []string{"serve"}
	if z.config {
		args = append(args, "-config", filepath.Join(z.dir, "zedge.yaml"))
	}
	z.cmd = exec.Command(z.bin, args...)
	z.cmd.Env = append(append(os.Environ(), z.env...), "ZEDGE_READY_FILE="+readyFile)
	if z.logs == nil {
		z.logs = &bytes.Buffer{}
	}
	z.cmd.Stdout, z.cmd.Stderr = z.logs, z.logs
	if err := z.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	z.done = done
	cmd := z.cmd
	go func() { _ = cmd.Wait(); close(done) }()
	for deadline := time.Now().Add(60 * time.Second); ; {
		var ready struct{ HTTP, MQTT string }
		if raw, err := os.ReadFile(readyFile); err == nil && json.Unmarshal(raw, &ready) == nil {
			z.httpAddr, z.mqttAddr = ready.HTTP, ready.MQTT
			return
		}
		select {
		case <-done:
			t.Fatalf("zedge exited:\n%s", z.logs.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no ready file:\n%s", z.logs.String())
		}
	}
}

// stop ends the process with SIGINT (its orderly shutdown), or SIGKILL after 30 s.
func (z *zedgeProc) stop() {
	select {
	case <-z.done:
		return
	default:
	}
	_ = z.cmd.Process.Signal(os.Interrupt)
	select {
	case <-z.done:
	case <-time.After(30 * time.Second):
		_ = z.cmd.Process.Kill()
		<-z.done
	}
}

// kill is a crash: SIGKILL, no shutdown.
func (z *zedgeProc) kill() {
	_ = z.cmd.Process.Kill()
	<-z.done
}

func TestOneOfficeAuthNoneE2E(t *testing.T) {
	z := startZedge(t, []string{"ZEDGE_AUTH=none", "ZEDGE_MQTT_PROJECT=site-7", "ZEDGE_SIGNING_KEY=" + e2eURLKey,
		"ZEDGE_STORE=memory"}, "")
	httpAddr, mqttAddr := z.httpAddr, z.mqttAddr
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
