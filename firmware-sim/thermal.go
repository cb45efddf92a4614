package firmwaresim

import (
	"math"
	"math/rand/v2"
	"sync"
	"time"
)

// The room model, in simulated hours. Its constants are plausible for a small office, not calibrated: the
// point is that cooling costs power, that a higher setpoint saves it, and that people and the weather heat
// the room.
const (
	// driftHours: the time constant of the room's drift towards the outside temperature.
	driftHours = 4.0
	// personHeat: °C per hour one person adds.
	personHeat = 0.4
	// coolingPerKW: °C per hour one kW of compressor power removes.
	coolingPerKW = 2.0
	// fanW: what a running AC draws with its compressor idle.
	fanW = 60.0
	// proportionalBand: the compressor runs fully this many °C above the setpoint.
	proportionalBand = 1.5
	// maxStep bounds one integration step, so fast-forwarding stays stable.
	maxStep = time.Minute
)

// acState is one air conditioner's controls and draw.
type acState struct {
	id       string
	setpoint float64
	mode     string // cool | off
	powerW   float64
	ratedW   float64
}

// room is one office's physical state, shared by its thermostat, ACs and sensors.
type room struct {
	mu          sync.Mutex
	id          string
	building    string
	temp        float64
	target      float64 // the office's target, as the thermostat reports it
	occupancy   int
	maxOcc      int
	neverUsed   bool
	outside     float64
	acs         []*acState
	rng         *rand.Rand
	occClockMin float64 // simulated minutes not yet spent on occupancy changes
}

func newRoom(id, building string, acIDs []string, cfg Config, rng *rand.Rand) *room {
	r := &room{id: id, building: building, target: cfg.ComfortSetpoint, maxOcc: cfg.Office.MaxOccupancy,
		outside: cfg.OutsideTemp, rng: rng}
	r.neverUsed = rng.Float64() < cfg.Office.EmptyFraction
	if !r.neverUsed && r.maxOcc > 0 {
		r.occupancy = 1 + rng.IntN(r.maxOcc)
	}
	r.temp = cfg.ComfortSetpoint + rng.Float64()*1.5
	for _, a := range acIDs {
		r.acs = append(r.acs, &acState{id: a, setpoint: cfg.ComfortSetpoint, mode: "cool", ratedW: cfg.Office.ACRatedW})
	}
	return r
}

// step advances the room by simulated time dt and returns the AC energy used (kWh).
func (r *room) step(dt time.Duration) (kWh float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for dt > 0 {
		h := min(dt, maxStep)
		dt -= h
		hours := h.Hours()
		compressorKW := 0.0
		for _, a := range r.acs {
			a.powerW = acPower(a, r.temp)
			if a.powerW > fanW {
				compressorKW += (a.powerW - fanW) / 1000
			}
			kWh += a.powerW / 1000 * hours
		}
		dT := (r.outside-r.temp)/driftHours + personHeat*float64(r.occupancy) - coolingPerKW*compressorKW
		r.temp += dT * hours
		r.walkOccupancy(h.Minutes())
	}
	return kWh
}

// acPower is proportional control with a fan floor: off draws nothing, cool draws the fan and a compressor
// share that grows over proportionalBand above the setpoint.
func acPower(a *acState, temp float64) float64 {
	if a.mode != "cool" {
		return 0
	}
	demand := math.Max(0, math.Min(1, (temp-a.setpoint+0.2)/proportionalBand))
	return fanW + (a.ratedW-fanW)*demand
}

// walkOccupancy moves people in and out: about once every 20 simulated minutes someone arrives or leaves.
func (r *room) walkOccupancy(minutes float64) {
	if r.neverUsed || r.maxOcc == 0 {
		return
	}
	r.occClockMin += minutes
	for ; r.occClockMin >= 1; r.occClockMin-- {
		if r.rng.Float64() < 0.05 {
			if r.rng.IntN(2) == 0 && r.occupancy > 0 {
				r.occupancy--
			} else if r.occupancy < r.maxOcc {
				r.occupancy++
			}
		}
	}
}

// roomView is a consistent copy of a room.
type roomView struct {
	temp, target, outside float64
	occupancy             int
	acs                   []acState
	totalACW              float64
}

func (r *room) view() roomView {
	r.mu.Lock()
	defer r.mu.Unlock()
	v := roomView{temp: r.temp, target: r.target, outside: r.outside, occupancy: r.occupancy, acs: make([]acState, len(r.acs))}
	for i, a := range r.acs {
		v.acs[i] = *a
		v.totalACW += a.powerW
	}
	return v
}

// setTarget is a thermostat's set_setpoint: the office's target, followed by all of its ACs.
func (r *room) setTarget(sp float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.target = sp
	for _, a := range r.acs {
		a.setpoint = sp
	}
}

// setAC changes one AC; a setpoint also becomes the office's target (the thermostat shows the last one set).
func (r *room) setAC(id string, setpoint *float64, mode string) (acState, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range r.acs {
		if a.id != id {
			continue
		}
		if setpoint != nil {
			a.setpoint = *setpoint
			r.target = *setpoint
		}
		if mode != "" {
			a.mode = mode
		}
		a.powerW = acPower(a, r.temp)
		return *a, true
	}
	return acState{}, false
}
