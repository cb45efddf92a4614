package firmwaresim

import (
	"context"
	"encoding/json"
	"sync"
	"time"
)

// controller follows the "go green" directive. Its workers claim telemetry from telemetry-devices (task
// distribution: any worker, or several controllers, may take any batch), update its view of the campus,
// and delete what they processed; its decision loop posts commands to the devices' queues (point to point).
type controller struct {
	sim  *Sim
	rest *restClient

	mu       sync.Mutex
	offices  []*officeView
	acs      map[string]*acView
	lastSent map[string]desire // device → the last command sent to it
}

type officeView struct {
	id, building string
	occupancy    int
	occKnown     bool
	occTS        string
	acs          []*acView
}

type acView struct {
	id       string
	setpoint float64
	mode     string
	powerW   float64
	known    bool
	ts       string
}

type desire struct {
	key string
	at  time.Time
}

// resendAfter: a command the telemetry does not yet reflect is sent again only after this long (the first
// is normally acknowledged within a second; this covers one lost in a crash of the controller's view).
const resendAfter = 60 * time.Second

func newController(s *Sim, rest *restClient) *controller {
	c := &controller{sim: s, rest: rest, acs: map[string]*acView{}, lastSent: map[string]desire{}}
	for _, b := range s.layout.Buildings {
		for _, o := range b.Offices {
			ov := &officeView{id: o.ID, building: b.ID}
			for _, a := range o.ACs {
				av := &acView{id: a, mode: "cool", setpoint: s.cfg.ComfortSetpoint}
				ov.acs = append(ov.acs, av)
				c.acs[a] = av
			}
			c.offices = append(c.offices, ov)
		}
	}
	return c
}

// telemetryEnvelope is the bridge's envelope around a device's telemetry.
type telemetryEnvelope struct {
	Device  string `json:"device"`
	Payload struct {
		Type        string   `json:"type"`
		Device      string   `json:"device"`
		Office      string   `json:"office"`
		Occupancy   *int     `json:"occupancy"`
		Setpoint    *float64 `json:"setpoint"`
		Mode        string   `json:"mode"`
		PowerW      *float64 `json:"power_w"`
		Temperature *float64 `json:"temperature"`
		TS          string   `json:"ts"`
	} `json:"payload"`
}

// claimLoop is one worker.
func (c *controller) claimLoop(gen context.Context) {
	cc := c.sim.cfg.Controller
	for gen.Err() == nil {
		msgs, err := c.rest.claim(gen, TelemetryQueue, 20, cc.ClaimTTL, cc.ClaimGrace)
		if err != nil {
			if gen.Err() == nil {
				c.sim.errorf("controller: claim: %v", err)
				sleepCtx(gen, 500*time.Millisecond)
			}
			continue
		}
		if len(msgs) == 0 {
			sleepCtx(gen, 200*time.Millisecond)
			continue
		}
		ids := make([]string, 0, len(msgs))
		found := make([]string, 0, len(msgs))
		for _, m := range msgs {
			ids = append(ids, m.ID)
			var env telemetryEnvelope
			if err := json.Unmarshal(m.Body, &env); err != nil || env.Payload.Device == "" {
				c.sim.errorf("controller: telemetry %s is not a device envelope: %.120s", m.ID, m.Body)
				continue
			}
			found = append(found, env.Payload.Device+"@"+env.Payload.TS)
			c.observe(&env)
		}
		// The delete is the acknowledgement; it must not be cut short by the end of generation.
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err = c.rest.deleteIDs(dctx, TelemetryQueue, ids)
		cancel()
		if err != nil {
			c.sim.errorf("controller: delete: %v", err)
			continue
		}
		c.sim.processed(found, len(ids))
	}
}

func (c *controller) observe(env *telemetryEnvelope) {
	p := &env.Payload
	c.mu.Lock()
	defer c.mu.Unlock()
	switch p.Type {
	case TypeThermostat:
		for _, o := range c.offices {
			if o.id == p.Office && p.Occupancy != nil && p.TS >= o.occTS {
				o.occupancy, o.occKnown, o.occTS = *p.Occupancy, true, p.TS
			}
		}
	case TypeAC:
		a := c.acs[p.Device]
		if a == nil || p.TS < a.ts || p.Setpoint == nil || p.PowerW == nil {
			return
		}
		a.setpoint, a.mode, a.powerW, a.known, a.ts = *p.Setpoint, p.Mode, *p.PowerW, true, p.TS
	}
}

// decideLoop applies the directive once it is in force.
func (c *controller) decideLoop(gen context.Context) {
	t := time.NewTicker(c.sim.cfg.Controller.Interval)
	defer t.Stop()
	for {
		select {
		case <-gen.Done():
			return
		case <-t.C:
		}
		if !c.sim.directiveActive() {
			continue
		}
		for _, cmd := range c.decide(time.Now()) {
			start := time.Now()
			id, err := c.rest.post(gen, CommandQueue(cmd.device), cmd.body, c.sim.cfg.Controller.CommandTTL)
			if err != nil {
				if gen.Err() == nil {
					c.sim.errorf("controller: command to %s: %v", cmd.device, err)
				}
				c.mu.Lock()
				delete(c.lastSent, cmd.device)
				c.mu.Unlock()
				continue
			}
			c.sim.commands.posted(id, cmd.device, "controller", start)
		}
	}
}

type plannedCommand struct {
	device string
	body   Command
}

// decide: in empty offices, raise the ACs' setpoints to the empty setpoint; when a building's AC power is
// over its cap, turn off the ACs of empty offices, then raise occupied offices to the occupied setpoint;
// an office that is occupied again gets back what the controller took (cool mode, comfort setpoint).
func (c *controller) decide(now time.Time) []plannedCommand {
	d := c.sim.cfg.Directive
	comfort := c.sim.cfg.ComfortSetpoint
	c.mu.Lock()
	defer c.mu.Unlock()
	power := map[string]float64{}
	for _, o := range c.offices {
		for _, a := range o.acs {
			power[o.building] += a.powerW
		}
	}
	var out []plannedCommand
	want := func(a *acView, cmd Command) {
		key := cmd.Command + ":" + cmd.Mode
		if cmd.Setpoint != nil {
			key += ":" + jsonNumber(*cmd.Setpoint)
		}
		if last, ok := c.lastSent[a.id]; ok && last.key == key && now.Sub(last.at) < resendAfter {
			return
		}
		c.lastSent[a.id] = desire{key: key, at: now}
		cmd.By = "controller"
		out = append(out, plannedCommand{device: a.id, body: cmd})
		// Assume it is applied until telemetry says otherwise, so the next round does not decide it again.
		if cmd.Setpoint != nil {
			a.setpoint = *cmd.Setpoint
		}
		if cmd.Mode != "" {
			a.mode = cmd.Mode
		}
	}
	sp := func(v float64) *float64 { return &v }
	for _, o := range c.offices {
		if !o.occKnown {
			continue
		}
		empty := o.occupancy == 0
		for _, a := range o.acs {
			if !a.known {
				continue
			}
			switch {
			case empty && d.BuildingPowerCapW > 0 && power[o.building] > d.BuildingPowerCapW && a.mode != "off":
				power[o.building] -= a.powerW
				want(a, Command{Command: "set_mode", Mode: "off"})
			case empty && a.setpoint < d.EmptySetpoint:
				want(a, Command{Command: "set_setpoint", Setpoint: sp(d.EmptySetpoint)})
			case !empty && a.mode == "off":
				want(a, Command{Command: "set_mode", Mode: "cool"})
			case !empty && a.setpoint >= d.EmptySetpoint:
				want(a, Command{Command: "set_setpoint", Setpoint: sp(max(comfort, d.OccupiedSetpoint))})
			}
		}
	}
	if d.BuildingPowerCapW > 0 {
		for _, o := range c.offices {
			if !o.occKnown || o.occupancy == 0 || power[o.building] <= d.BuildingPowerCapW {
				continue
			}
			for _, a := range o.acs {
				if a.known && a.mode == "cool" && a.setpoint < d.OccupiedSetpoint {
					power[o.building] -= a.powerW / 2 // a guess: the next telemetry tells
					want(a, Command{Command: "set_setpoint", Setpoint: sp(d.OccupiedSetpoint)})
				}
			}
		}
	}
	return out
}

func jsonNumber(f float64) string {
	b, _ := json.Marshal(f)
	return string(b)
}

// resultRecord is the bridge's status record in cmd-results.
type resultRecord struct {
	ID      string `json:"id"`
	Device  string `json:"device"`
	Via     string `json:"via"`
	AckedAt string `json:"acked_at"`
}

// watchResults follows cmd-results (listing does not consume, so the web app and others see it too) and
// matches records to the commands the sim posted.
func (s *Sim) watchResults(live context.Context, rest *restClient) {
	marker := ""
	for live.Err() == nil {
		page, next, err := rest.listPage(live, ResultsQueue, marker)
		if err != nil {
			if live.Err() == nil {
				s.errorf("results: %v", err)
				sleepCtx(live, time.Second)
			}
			continue
		}
		for _, m := range page {
			s.noteResult(m.Body, false)
		}
		marker = next
		if len(page) < 20 {
			sleepCtx(live, 300*time.Millisecond)
		}
	}
}

func (s *Sim) noteResult(body json.RawMessage, final bool) {
	var r resultRecord
	if json.Unmarshal(body, &r) != nil || r.ID == "" {
		return
	}
	at, err := time.Parse(time.RFC3339Nano, r.AckedAt)
	if err != nil {
		at = time.Now()
	}
	if final {
		s.commands.finalResult(r.ID, at)
	} else {
		s.commands.result(r.ID, at)
	}
}
