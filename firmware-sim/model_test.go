package firmwaresim

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"
)

func testRoom(occupancy int) *room {
	cfg := DefaultConfig()
	cfg.Office.EmptyFraction = 0
	r := newRoom("b1-f1-o1", "b1", []string{"b1-f1-o1-ac1", "b1-f1-o1-ac2"}, cfg, rand.New(rand.NewPCG(1, 2)))
	r.neverUsed = true // fixed occupancy
	r.occupancy = occupancy
	r.temp = 22
	return r
}

func TestRoomPhysics(t *testing.T) {
	// ACs off: the room drifts towards the outside temperature, and people make it warmer still.
	off := testRoom(0)
	busy := testRoom(4)
	for _, r := range []*room{off, busy} {
		for _, a := range r.acs {
			a.mode = "off"
		}
	}
	if kWh := off.step(2 * time.Hour); kWh != 0 {
		t.Errorf("ACs off used %v kWh", kWh)
	}
	busy.step(2 * time.Hour)
	if off.temp <= 25 || off.temp >= 31 || busy.temp <= off.temp {
		t.Errorf("drift: empty %v, busy %v", off.temp, busy.temp)
	}
	// ACs cooling hold the room near the setpoint, and a higher setpoint costs less.
	cool22, cool27 := testRoom(2), testRoom(2)
	sp := 27.0
	for _, a := range cool27.acs {
		cool27.setAC(a.id, &sp, "")
	}
	e22, e27 := cool22.step(3*time.Hour), cool27.step(3*time.Hour)
	if cool22.temp > 23.5 || cool27.temp < cool22.temp || e27 >= e22 || e27 <= 0 {
		t.Errorf("22 °C: %v °C %v kWh; 27 °C: %v °C %v kWh", cool22.temp, e22, cool27.temp, e27)
	}
	if cool27.view().target != 27 {
		t.Errorf("the thermostat's target follows the last AC setpoint: %v", cool27.view().target)
	}
	// A thermostat's setpoint is followed by every AC of the office.
	cool22.setTarget(20)
	for _, a := range cool22.view().acs {
		if a.setpoint != 20 {
			t.Errorf("AC %s setpoint %v after setTarget(20)", a.id, a.setpoint)
		}
	}
}

func TestTelemetryJSONIsTheAgreedShape(t *testing.T) {
	r := testRoom(2)
	r.temp = 23.14
	th := &device{id: "b1-f1-o1-th", typ: TypeThermostat, building: "b1", officeID: "b1-f1-o1", room: r}
	ac := &device{id: "b1-f1-o1-ac1", typ: TypeAC, building: "b1", officeID: "b1-f1-o1", room: r}
	r.step(time.Second) // sets the AC's power
	for _, tc := range []struct {
		d    *device
		keys []string
	}{
		{th, []string{"type", "device", "building", "office", "temperature", "setpoint", "occupancy", "ts"}},
		{ac, []string{"type", "device", "building", "office", "mode", "setpoint", "power_w", "ts"}},
	} {
		it := tc.d.sample()
		var m map[string]any
		if err := json.Unmarshal(it.payload, &m); err != nil {
			t.Fatalf("%s", it.payload)
		}
		if len(m) != len(tc.keys) {
			t.Errorf("%s: keys %v", it.payload, m)
		}
		for _, k := range tc.keys {
			if _, ok := m[k]; !ok {
				t.Errorf("%s: no %q", it.payload, k)
			}
		}
		if it.id != tc.d.id+"@"+m["ts"].(string) || m["device"] != tc.d.id || m["type"] != tc.d.typ {
			t.Errorf("%s: id %s", it.payload, it.id)
		}
	}
	p := string(th.sample().payload)
	want := `{"type":"thermostat","device":"b1-f1-o1-th","building":"b1","office":"b1-f1-o1","temperature":23.1,"setpoint":22.0,"occupancy":2,"ts":"`
	if p[:len(want)] != want {
		t.Errorf("thermostat telemetry\n got %s\nwant %s...", p, want)
	}
}

func TestDeviceApply(t *testing.T) {
	r := testRoom(1)
	th := &device{id: "b1-f1-o1-th", typ: TypeThermostat, room: r}
	ac := &device{id: "b1-f1-o1-ac2", typ: TypeAC, room: r}
	f := func(v float64) *float64 { return &v }
	for _, tc := range []struct {
		d      *device
		cmd    Command
		status string
	}{
		{ac, Command{Command: "set_setpoint", Setpoint: f(25)}, "applied"},
		{ac, Command{Command: "set_mode", Mode: "off"}, "applied"},
		{ac, Command{Command: "set_mode", Mode: "heat"}, "rejected"},
		{ac, Command{Command: "set_setpoint"}, "rejected"},
		{ac, Command{Command: "set_setpoint", Setpoint: f(80)}, "rejected"},
		{ac, Command{Command: "reboot"}, "rejected"},
		{th, Command{Command: "set_setpoint", Setpoint: f(21.5)}, "applied"},
	} {
		if got, _ := tc.d.apply(tc.cmd); got != tc.status {
			t.Errorf("%s %+v: %s, want %s", tc.d.id, tc.cmd, got, tc.status)
		}
	}
	v := r.view()
	if v.target != 21.5 || v.acs[0].setpoint != 21.5 || v.acs[1].setpoint != 21.5 || v.acs[1].mode != "off" || v.acs[0].mode != "cool" {
		t.Errorf("room after commands: %+v", v)
	}
}

// controllerFor builds a controller over a one-building campus without a Sim's network parts.
func controllerFor(cfg Config) *controller {
	s := &Sim{cfg: cfg, layout: BuildLayout(cfg)}
	return newController(s, nil)
}

func TestControllerDecisions(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Buildings, cfg.OfficesPerFloor = 1, 3
	cfg.Directive.BuildingPowerCapW = 0
	c := controllerFor(cfg)
	see := func(office string, occ int) {
		for _, o := range c.offices {
			if o.id == office {
				o.occupancy, o.occKnown = occ, true
			}
		}
	}
	for _, a := range c.acs {
		a.known, a.powerW = true, 900
	}
	see("b1-f1-o1", 0) // empty
	see("b1-f1-o2", 3) // occupied
	// b1-f1-o3: no thermostat telemetry yet: left alone.
	now := time.Now()
	got := map[string]Command{}
	for _, p := range c.decide(now) {
		got[p.device] = p.body
	}
	if len(got) != 2 || *got["b1-f1-o1-ac1"].Setpoint != 27 || *got["b1-f1-o1-ac2"].Setpoint != 27 || got["b1-f1-o1-ac1"].By != "controller" {
		t.Fatalf("first round: %+v", got)
	}
	if again := c.decide(now.Add(time.Second)); len(again) != 0 {
		t.Errorf("decided again before telemetry: %+v", again)
	}
	// The office fills up again: its ACs get comfort back.
	see("b1-f1-o1", 2)
	back := c.decide(now.Add(2 * time.Second))
	if len(back) != 2 || *back[0].body.Setpoint != cfg.Directive.OccupiedSetpoint {
		t.Errorf("refilled office: %+v", back)
	}

	// With a power cap the empty office's ACs are turned off instead, then occupied ones raised.
	cfg.Directive.BuildingPowerCapW = 1500
	c = controllerFor(cfg)
	for _, a := range c.acs {
		a.known, a.powerW = true, 900
	}
	see = func(office string, occ int) {
		for _, o := range c.offices {
			if o.id == office {
				o.occupancy, o.occKnown = occ, true
			}
		}
	}
	see("b1-f1-o1", 0)
	see("b1-f1-o2", 3)
	see("b1-f1-o3", 1)
	modes, raised := 0, 0
	for _, p := range c.decide(now) {
		switch {
		case p.body.Command == "set_mode" && p.body.Mode == "off":
			modes++
		case p.body.Command == "set_setpoint" && *p.body.Setpoint == cfg.Directive.OccupiedSetpoint:
			raised++
		default:
			t.Errorf("unexpected %+v", p)
		}
	}
	if modes != 2 || raised == 0 {
		t.Errorf("capped: %d turned off, %d raised", modes, raised)
	}
}

func TestCompareCountsLossesAndDuplicates(t *testing.T) {
	fr := FlowReport{StoredMessages: 5}
	acked := map[string]struct{}{"a": {}, "b": {}, "c": {}}
	found := map[string]struct{}{"a": {}, "b": {}, "d": {}}
	compare(&fr, acked, found)
	if fr.Lost != 1 || fr.StoredUnique != 3 || fr.Duplicates != 2 || fr.StoredUnacked != 1 {
		t.Errorf("%+v", fr)
	}
}
