package firmwaresim

import (
	"errors"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/zedge-io/zedge/sensors"
)

func configsDir(t *testing.T) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "configs")
}

func TestShippedScenariosLoad(t *testing.T) {
	for _, tc := range []struct {
		file    string
		devices int
		offices int
	}{
		{"campus-small.yaml", 80, 10},
		{"campus-large.yaml", 1536, 192},
		{"load-1000.yaml", 1000, 125},
	} {
		cfg, err := Load(filepath.Join(configsDir(t), tc.file))
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		l := BuildLayout(cfg)
		if cfg.Devices() != tc.devices || cfg.OfficeCount() != tc.offices || l.MQTTDevices()+l.Sensors() != tc.devices {
			t.Errorf("%s: %d devices in %d offices (layout %d+%d), want %d in %d", tc.file, cfg.Devices(),
				cfg.OfficeCount(), l.MQTTDevices(), l.Sensors(), tc.devices, tc.offices)
		}
	}
	// The built-in default is the small campus file.
	small, _ := Load(filepath.Join(configsDir(t), "campus-small.yaml"))
	def := DefaultConfig()
	if def.Devices() != small.Devices() || def.Directive != small.Directive || def.Project != small.Project {
		t.Errorf("DefaultConfig differs from campus-small.yaml: %+v vs %+v", def, small)
	}
}

func TestParseRejectsUnknownKeysAndBadValues(t *testing.T) {
	for name, yaml := range map[string]string{
		"unknown key":        "buildngs: 3\n",
		"no buildings":       "buildings: 0\n",
		"two thermostats":    "office: {thermostats: 2}\n",
		"unknown sensor":     "office: {sensors: [pressure]}\n",
		"sensor twice":       "office: {sensors: [co2, co2]}\n",
		"fraction over 1":    "firmware: {flaky_fraction: 1.5}\n",
		"skew too large":     "firmware: {clock_skew: 10m}\n",
		"no interval":        "telemetry_interval: 0s\n",
		"backoff reversed":   "firmware: {backoff_min: 2s, backoff_max: 1s}\n",
		"negative directive": "directive: {at: -1s}\n",
		"empty project":      "project: ''\n",
		"no time scale":      "time_scale: 0\n",
		"huge campus":        "buildings: 10000\nfloors: 10000\noffices_per_floor: 10000\n",
		"overflowing campus": "buildings: 9223372036854775807\n",
	} {
		if _, err := Parse([]byte(yaml)); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: err = %v, want ErrConfig", name, err)
		}
	}
	cfg, err := Parse([]byte("buildings: 3\ndirective: {at: 0s}\n"))
	if err != nil || cfg.Buildings != 3 || cfg.Directive.At != 0 || cfg.Floors != 1 || cfg.TelemetryInterval != 2*time.Second {
		t.Errorf("partial file: %+v %v", cfg, err)
	}
}

func TestScaleTo(t *testing.T) {
	for _, tc := range []struct {
		n, devices, mqtt int
	}{
		{1, 1, 1},    // a lone thermostat
		{3, 3, 3},    // thermostat and two ACs
		{5, 5, 3},    // and two sensors
		{8, 8, 3},    // one whole office
		{9, 16, 6},   // two offices
		{80, 80, 30}, // the small campus
		{1000, 1000, 375},
		{10000, 10000, 3750},
	} {
		cfg := DefaultConfig().ScaleTo(tc.n)
		if err := cfg.Validate(); err != nil {
			t.Fatalf("ScaleTo(%d): %v", tc.n, err)
		}
		l := BuildLayout(cfg)
		if tc.n >= 8 {
			// The power cap follows the offices per building (5 in the small campus).
			perBuilding := min(cfg.OfficeCount(), cfg.Floors*cfg.OfficesPerFloor)
			if want := DefaultConfig().Directive.BuildingPowerCapW * float64(perBuilding) / 5; cfg.Directive.BuildingPowerCapW != want {
				t.Errorf("ScaleTo(%d): cap %v W, want %v", tc.n, cfg.Directive.BuildingPowerCapW, want)
			}
		}
		if got := l.MQTTDevices() + l.Sensors(); got != tc.devices || cfg.Devices() != tc.devices || l.MQTTDevices() != tc.mqtt {
			t.Errorf("ScaleTo(%d): %d devices (%d MQTT), want %d (%d)", tc.n, got, l.MQTTDevices(), tc.devices, tc.mqtt)
		}
	}
}

func TestLayoutNames(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Floors = 2
	l := BuildLayout(cfg)
	if len(l.Buildings) != 2 || len(l.Buildings[1].Offices) != 10 {
		t.Fatalf("layout %+v", l)
	}
	o := l.Buildings[1].Offices[7]
	if o.ID != "b2-f2-o3" || o.Building != "b2" || o.Floor != 2 || o.Thermostat != "b2-f2-o3-th" ||
		len(o.ACs) != 2 || o.ACs[1] != "b2-f2-o3-ac2" || o.Sensors[0] != (Sensor{"b2-f2-o3-temp", sensors.Temperature}) ||
		l.Buildings[1].ReadingsQueue != "readings-b2" {
		t.Errorf("office %+v", o)
	}
	if CommandQueue(o.ACs[0]) != "cmd-b2-f2-o3-ac1" {
		t.Error(CommandQueue(o.ACs[0]))
	}
}
