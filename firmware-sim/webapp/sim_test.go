package webapp_test

// The campus for the browser test: the fleet engineer's simulator (package firmwaresim) against the real
// zedge, with its MQTT thermostats and air conditioners (device tokens it mints from zedge's JWT secret) and
// its signed-URL sensors.

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	firmwaresim "github.com/zedge-io/zedge/firmware-sim"
	"github.com/zedge-io/zedge/firmware-sim/webapp"
)

// campusSim is a running simulator.
type campusSim struct {
	sim  *firmwaresim.Sim
	site webapp.Site
	stop func() (*firmwaresim.Report, error) // ends the run (drain and verification) and returns its report
}

// startSim runs the small campus (2 buildings × 5 offices, a thermostat, two ACs and five sensors each)
// until stop. The app is the only commander: no controller, no directive. Devices neither flap nor go
// offline, so that the command the test sends is delivered at once rather than after a claim expiry; the
// sim's own tests cover flaky firmware. The thermal model runs 600 times faster than the wall clock, so a
// new target moves the room within seconds.
func startSim(t *testing.T, z *zedgeProc) *campusSim {
	t.Helper()
	cfg := firmwaresim.DefaultConfig()
	cfg.Project = testProject
	cfg.Controller.Enabled = false
	cfg.Directive.At = 0
	cfg.Firmware.FlakyFraction = 0
	cfg.Firmware.OfflineProbability = 0
	cfg.TelemetryInterval = time.Second
	cfg.SensorInterval = 2 * time.Second
	cfg.TimeScale = 600
	ready := make(chan struct{})
	sim, err := firmwaresim.New(cfg, firmwaresim.Options{HTTP: "http://" + z.http, MQTT: z.mqtt,
		JWTSecret: testJWTSecret, SigningKey: testURLKey, Ready: ready})
	if err != nil {
		t.Fatalf("firmwaresim.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var report *firmwaresim.Report
	var runErr error
	go func() {
		defer close(done)
		report, runErr = sim.Run(ctx)
	}()
	stop := func() (*firmwaresim.Report, error) {
		cancel()
		<-done
		return report, runErr
	}
	t.Cleanup(func() { stop() })
	select {
	case <-ready:
	case <-done:
		t.Fatalf("the simulator stopped before its devices were connected: %v", runErr)
	case <-time.After(browserDeadline):
		t.Fatal("the simulator's devices did not connect")
	}
	return &campusSim{sim: sim, site: siteOf(cfg.Name, sim.Layout()), stop: stop}
}

// siteOf describes the simulator's campus for the app (what cmd/zedge-sim does too).
func siteOf(name string, l firmwaresim.Layout) webapp.Site {
	site := webapp.Site{Name: name}
	for bi, b := range l.Buildings {
		building := webapp.Building{ID: b.ID, Name: fmt.Sprintf("Building %d", bi+1)}
		for oi, o := range b.Offices {
			office := webapp.Office{ID: o.ID, Name: fmt.Sprintf("Office %d.%d", bi+1, oi+1), Floor: strconv.Itoa(o.Floor),
				Thermostat: o.Thermostat, ACs: o.ACs}
			for _, s := range o.Sensors {
				office.Sensors = append(office.Sensors, s.ID)
			}
			building.Offices = append(building.Offices, office)
		}
		site.Buildings = append(site.Buildings, building)
	}
	return site
}

// offices counts the site's offices.
func (c *campusSim) offices() int {
	n := 0
	for _, b := range c.site.Buildings {
		n += len(b.Offices)
	}
	return n
}

// lastCommand is what the device applied last, as it received it.
func (c *campusSim) lastCommand(t *testing.T, device string) (firmwaresim.DeviceState, map[string]any) {
	t.Helper()
	ds, ok := c.sim.DeviceState(device)
	if !ok {
		t.Fatalf("the simulator has no device %s", device)
	}
	var body map[string]any
	if len(ds.LastCommand) > 0 {
		if err := json.Unmarshal(ds.LastCommand, &body); err != nil {
			t.Fatalf("%s: last command %s: %v", device, ds.LastCommand, err)
		}
	}
	return ds, body
}

// temperature is the simulated room's temperature now.
func (c *campusSim) temperature(t *testing.T, office string) float64 {
	t.Helper()
	st, ok := c.sim.OfficeState(office)
	if !ok {
		t.Fatalf("the simulator has no office %s", office)
	}
	return st.Temperature
}
