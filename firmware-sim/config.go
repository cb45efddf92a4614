package firmwaresim

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/zedge-io/zedge/sensors"
)

// MaxDevices bounds a campus: far past what one box can simulate, low enough that no count overflows.
const MaxDevices = 1_000_000

// maxDimension bounds buildings, floors and offices per floor each.
const maxDimension = 10_000

// ErrConfig wraps every configuration problem.
var ErrConfig = errors.New("firmwaresim: bad config")

// Config is a campus scenario, as written in configs/campus-*.yaml and configs/load-*.yaml.
type Config struct {
	// Name labels the scenario in reports.
	Name string `yaml:"name"`
	// Project is the zedge project of every queue and token (in auth none also zedge's mqtt.default_project).
	Project string `yaml:"project"`
	// Seed makes a run's layout, occupancy, skews and flakiness repeatable.
	Seed uint64 `yaml:"seed"`
	// Buildings, Floors (per building) and OfficesPerFloor shape the campus.
	Buildings       int `yaml:"buildings"`
	Floors          int `yaml:"floors"`
	OfficesPerFloor int `yaml:"offices_per_floor"`
	// Offices, when positive, stops the campus at that many offices (filled building by building, floor by
	// floor); 0 means every office of buildings × floors × offices_per_floor.
	Offices int `yaml:"offices"`
	// Office says what is in every office.
	Office OfficeConfig `yaml:"office"`
	// TelemetryInterval is how often a thermostat or air conditioner publishes its state.
	TelemetryInterval time.Duration `yaml:"telemetry_interval"`
	// SensorInterval is how often a sensor posts a reading.
	SensorInterval time.Duration `yaml:"sensor_interval"`
	// ReadingTTL is the ttl (seconds) of posted readings (at least zedge's limits.min_message_ttl).
	ReadingTTL int `yaml:"reading_ttl"`
	// TimeScale speeds up the thermal model and the energy account: 60 makes a wall second a simulated minute.
	TimeScale float64 `yaml:"time_scale"`
	// OutsideTemp (°C) is what rooms drift towards.
	OutsideTemp float64 `yaml:"outside_temp"`
	// ComfortSetpoint (°C) is every AC's setpoint at the start.
	ComfortSetpoint float64 `yaml:"comfort_setpoint"`
	// Firmware is the devices' behaviour: sessions, skew, flakiness, offline spells, backoff.
	Firmware FirmwareConfig `yaml:"firmware"`
	// Controller is the "go green" controller's loop.
	Controller ControllerConfig `yaml:"controller"`
	// Directive is the company's "go green" directive.
	Directive DirectiveConfig `yaml:"directive"`
	// DrainTimeout bounds the end of a run: flushing pending readings and waiting for command acknowledgements.
	DrainTimeout time.Duration `yaml:"drain_timeout"`
	// Verify lists the queues over REST at the end to check that every acknowledged reading is stored.
	Verify bool `yaml:"verify"`
}

// OfficeConfig is the equipment and people of one office.
type OfficeConfig struct {
	// Thermostats is 0 or 1.
	Thermostats int `yaml:"thermostats"`
	// ACs is the number of air conditioners.
	ACs int `yaml:"acs"`
	// Sensors are the kinds of signed-URL sensor in the office, each at most once.
	Sensors []sensors.Kind `yaml:"sensors"`
	// ACRatedW is an air conditioner's electrical power at full cooling.
	ACRatedW float64 `yaml:"ac_rated_w"`
	// MaxOccupancy bounds the people in an office.
	MaxOccupancy int `yaml:"max_occupancy"`
	// EmptyFraction of offices nobody uses during the run (where going green saves the most).
	EmptyFraction float64 `yaml:"empty_fraction"`
}

// FirmwareConfig is how the MQTT devices behave.
type FirmwareConfig struct {
	// PersistentFraction of devices connect with clean session false (the broker keeps their session).
	PersistentFraction float64 `yaml:"persistent_fraction"`
	// ClockSkew: each device's clock is off by a fixed amount within ±ClockSkew (in its timestamps).
	ClockSkew time.Duration `yaml:"clock_skew"`
	// FlakyFraction of devices lose their connection abruptly (no DISCONNECT) every FlakyMeanUptime on
	// average, and reconnect with backoff.
	FlakyFraction   float64       `yaml:"flaky_fraction"`
	FlakyMeanUptime time.Duration `yaml:"flaky_mean_uptime"`
	// OfflineProbability is the chance, at each telemetry tick, that a device goes offline (a clean
	// DISCONNECT) for about OfflineDuration; it keeps measuring and sends its backlog when it is back.
	OfflineProbability float64       `yaml:"offline_probability"`
	OfflineDuration    time.Duration `yaml:"offline_duration"`
	// BackoffMin and BackoffMax bound the reconnect backoff (doubling, with jitter).
	BackoffMin time.Duration `yaml:"backoff_min"`
	BackoffMax time.Duration `yaml:"backoff_max"`
	// OutboxLimit bounds the readings a device buffers while it cannot send; older ones are dropped and
	// counted (never silently).
	OutboxLimit int `yaml:"outbox_limit"`
}

// ControllerConfig is the controller's loop.
type ControllerConfig struct {
	// Enabled runs the controller. Without it nobody consumes telemetry-devices and no command is sent
	// except by others (the web app).
	Enabled bool `yaml:"enabled"`
	// Workers claim from telemetry-devices concurrently (task distribution).
	Workers int `yaml:"workers"`
	// ClaimTTL and ClaimGrace (seconds) of the controller's claims.
	ClaimTTL   int `yaml:"claim_ttl"`
	ClaimGrace int `yaml:"claim_grace"`
	// Interval is how often the controller decides, from what it has read.
	Interval time.Duration `yaml:"interval"`
	// CommandTTL (seconds) of the commands it posts.
	CommandTTL int `yaml:"command_ttl"`
}

// DirectiveConfig is "go green": from At on, empty offices are cooled less and each building's AC power is capped.
type DirectiveConfig struct {
	// At is when the directive takes effect after the start; 0 means never (the controller keeps comfort).
	At time.Duration `yaml:"at"`
	// EmptySetpoint (°C) for offices with nobody in them.
	EmptySetpoint float64 `yaml:"empty_setpoint"`
	// OccupiedSetpoint (°C) for occupied offices (only raised, never lowered, by the controller).
	OccupiedSetpoint float64 `yaml:"occupied_setpoint"`
	// BuildingPowerCapW caps the AC power of a building; above it the controller turns off ACs in empty
	// offices, then second ACs in occupied ones. 0: no cap.
	BuildingPowerCapW float64 `yaml:"building_power_cap_w"`
}

// DefaultConfig is the small campus: 2 buildings × 5 offices (configs/campus-small.yaml).
func DefaultConfig() Config {
	return Config{
		Name: "campus-small", Project: "campus", Seed: 1,
		Buildings: 2, Floors: 1, OfficesPerFloor: 5,
		Office: OfficeConfig{Thermostats: 1, ACs: 2, Sensors: sensors.Kinds(), ACRatedW: 1200, MaxOccupancy: 4,
			EmptyFraction: 0.4},
		TelemetryInterval: 2 * time.Second, SensorInterval: 3 * time.Second, ReadingTTL: 300,
		TimeScale: 60, OutsideTemp: 31, ComfortSetpoint: 22,
		Firmware: FirmwareConfig{PersistentFraction: 0.5, ClockSkew: 2 * time.Second, FlakyFraction: 0.2,
			FlakyMeanUptime: 8 * time.Second, OfflineProbability: 0.02, OfflineDuration: 3 * time.Second,
			BackoffMin: 100 * time.Millisecond, BackoffMax: 3 * time.Second, OutboxLimit: 1000},
		Controller: ControllerConfig{Enabled: true, Workers: 2, ClaimTTL: 60, ClaimGrace: 60,
			Interval: time.Second, CommandTTL: 300},
		Directive:    DirectiveConfig{At: 10 * time.Second, EmptySetpoint: 27, OccupiedSetpoint: 24, BuildingPowerCapW: 6000},
		DrainTimeout: 30 * time.Second,
		Verify:       true,
	}
}

// Load reads a scenario file over DefaultConfig (keys not in the file keep their defaults) and validates it.
// Unknown keys are errors.
func Load(path string) (Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	return Parse(raw)
}

// Parse is Load for bytes.
func Parse(raw []byte) (Config, error) {
	cfg := DefaultConfig()
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		return Config{}, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	return cfg, cfg.Validate()
}

// Validate reports the first problem with c.
func (c Config) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrConfig}, a...)...)
	}
	fraction := func(name string, f float64) error {
		if math.IsNaN(f) || f < 0 || f > 1 {
			return bad("%s %v is not within 0..1", name, f)
		}
		return nil
	}
	switch {
	case c.Project == "":
		return bad("project is empty")
	case c.Buildings < 1 || c.Floors < 1 || c.OfficesPerFloor < 1:
		return bad("buildings, floors and offices_per_floor must be at least 1")
	case c.Buildings > maxDimension || c.Floors > maxDimension || c.OfficesPerFloor > maxDimension || c.Offices > MaxDevices:
		return bad("buildings, floors and offices_per_floor must be at most %d, offices at most %d", maxDimension, MaxDevices)
	case c.Offices < 0:
		return bad("offices is negative")
	case c.Office.Thermostats < 0 || c.Office.Thermostats > 1:
		return bad("office.thermostats must be 0 or 1")
	case c.Office.ACs < 0 || c.Office.ACs > 9:
		return bad("office.acs must be 0..9")
	case c.Office.ACRatedW <= 0:
		return bad("office.ac_rated_w must be positive")
	case c.Office.MaxOccupancy < 0:
		return bad("office.max_occupancy is negative")
	case c.TelemetryInterval <= 0 || c.SensorInterval <= 0:
		return bad("telemetry_interval and sensor_interval must be positive")
	case c.ReadingTTL < 1:
		return bad("reading_ttl must be at least 1")
	case c.TimeScale <= 0:
		return bad("time_scale must be positive")
	case c.Firmware.ClockSkew < 0 || c.Firmware.ClockSkew > sensors.DefaultMaxFutureSkew:
		return bad("firmware.clock_skew must be within 0..%s (what readings may be ahead)", sensors.DefaultMaxFutureSkew)
	case c.Firmware.FlakyFraction > 0 && c.Firmware.FlakyMeanUptime <= 0:
		return bad("firmware.flaky_mean_uptime must be positive")
	case c.Firmware.OfflineProbability > 0 && c.Firmware.OfflineDuration <= 0:
		return bad("firmware.offline_duration must be positive")
	case c.Firmware.BackoffMin <= 0 || c.Firmware.BackoffMax < c.Firmware.BackoffMin:
		return bad("firmware.backoff_min..backoff_max is not a range")
	case c.Firmware.OutboxLimit < 1:
		return bad("firmware.outbox_limit must be at least 1")
	case c.Controller.Enabled && (c.Controller.Workers < 1 || c.Controller.Interval <= 0):
		return bad("controller.workers and controller.interval must be positive")
	case c.Controller.Enabled && (c.Controller.ClaimTTL < 1 || c.Controller.ClaimGrace < 0 || c.Controller.CommandTTL < 1):
		return bad("controller claim_ttl, claim_grace and command_ttl must be positive")
	case c.Directive.At < 0:
		return bad("directive.at is negative")
	case c.Directive.BuildingPowerCapW < 0:
		return bad("directive.building_power_cap_w is negative")
	case c.DrainTimeout <= 0:
		return bad("drain_timeout must be positive")
	}
	for _, f := range []struct {
		n string
		v float64
	}{{"office.empty_fraction", c.Office.EmptyFraction}, {"firmware.persistent_fraction", c.Firmware.PersistentFraction},
		{"firmware.flaky_fraction", c.Firmware.FlakyFraction}, {"firmware.offline_probability", c.Firmware.OfflineProbability}} {
		if err := fraction(f.n, f.v); err != nil {
			return err
		}
	}
	seen := map[sensors.Kind]bool{}
	for _, k := range c.Office.Sensors {
		if _, ok := sensors.SpecOf(k); !ok {
			return bad("office.sensors: unknown kind %q", k)
		}
		if seen[k] {
			return bad("office.sensors: %q twice", k)
		}
		seen[k] = true
	}
	if c.DevicesPerOffice() == 0 {
		return bad("an office has no device")
	}
	if c.Devices() > MaxDevices {
		return bad("%d devices; at most %d", c.Devices(), MaxDevices)
	}
	return nil
}

// DevicesPerOffice counts thermostats, air conditioners and sensors in one office.
func (c Config) DevicesPerOffice() int {
	return c.Office.Thermostats + c.Office.ACs + len(c.Office.Sensors)
}

// OfficeCount is the number of offices of the campus.
func (c Config) OfficeCount() int {
	all := c.Buildings * c.Floors * c.OfficesPerFloor
	if c.Offices > 0 && c.Offices < all {
		return c.Offices
	}
	return all
}

// Devices is the campus's device count.
func (c Config) Devices() int { return c.OfficeCount() * c.DevicesPerOffice() }

// ScaleTo resizes the campus to about n devices, keeping what an office holds: ceil(n / devices per office)
// offices, on floors of up to 10 offices in buildings of up to 10 floors, and a controller worker per 40
// offices (at most 16). Below one office's worth, the office
// keeps only its first n devices (thermostat, air conditioners, then sensors), so n = 1 is one thermostat.
func (c Config) ScaleTo(n int) Config {
	per := c.DevicesPerOffice()
	if per == 0 || n < 1 {
		return c
	}
	n = min(n, MaxDevices)
	if n < per {
		o := &c.Office
		o.Thermostats = min(o.Thermostats, n)
		n -= o.Thermostats
		o.ACs = min(o.ACs, n)
		n -= o.ACs
		o.Sensors = append([]sensors.Kind(nil), o.Sensors[:n]...)
		c.Offices, c.Buildings, c.Floors, c.OfficesPerFloor = 1, 1, 1, 1
		return c
	}
	perBuildingBefore := float64(min(c.OfficeCount(), c.Floors*c.OfficesPerFloor))
	offices := (n + per - 1) / per
	c.Offices = offices
	// More telemetry needs more claimers to keep up: one per 40 offices, within 16.
	c.Controller.Workers = max(c.Controller.Workers, min(16, offices/40))
	c.OfficesPerFloor = min(offices, 10)
	floors := (offices + c.OfficesPerFloor - 1) / c.OfficesPerFloor
	c.Floors = min(floors, 10)
	c.Buildings = (floors + c.Floors - 1) / c.Floors
	// The power cap is a building's: it grows or shrinks with the offices a building has.
	perBuildingAfter := float64(min(c.OfficeCount(), c.Floors*c.OfficesPerFloor))
	c.Directive.BuildingPowerCapW *= perBuildingAfter / perBuildingBefore
	return c
}
