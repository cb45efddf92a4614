package firmwaresim

import (
	"fmt"

	"github.com/zedge-io/zedge/sensors"
)

// Queue names the sim uses (the bridge's default rules and the conventions).
const (
	// TelemetryQueue holds every thermostat and AC publish on devices/{device}/telemetry (bridge envelope).
	TelemetryQueue = "telemetry-devices"
	// ResultsQueue holds the bridge's status record of every acknowledged command.
	ResultsQueue = "cmd-results"
)

// ReadingsQueue is the queue a building's sensors post to over signed URLs.
func ReadingsQueue(building string) string { return "readings-" + building }

// CommandQueue is a device's command queue (bridge rule cmd-{device} ↔ devices/{device}/commands).
func CommandQueue(device string) string { return "cmd-" + device }

// Device types in telemetry and DeviceState.
const (
	TypeThermostat = "thermostat"
	TypeAC         = "ac"
)

// Layout is the campus: its buildings, offices and what is in them. It is fixed by the Config.
type Layout struct {
	Project   string     `json:"project"`
	Buildings []Building `json:"buildings"`
}

// Building is one building and its offices.
type Building struct {
	ID            string   `json:"id"`
	ReadingsQueue string   `json:"readings_queue"`
	Offices       []Office `json:"offices"`
}

// Office is one office: b1-f2-o3 is office 3 on floor 2 of building b1.
type Office struct {
	ID         string   `json:"id"`
	Building   string   `json:"building"`
	Floor      int      `json:"floor"`
	Thermostat string   `json:"thermostat,omitempty"`
	ACs        []string `json:"acs"`
	Sensors    []Sensor `json:"sensors"`
}

// Sensor is one signed-URL sensor.
type Sensor struct {
	ID   string       `json:"id"`
	Kind sensors.Kind `json:"kind"`
}

// MQTTDevices counts thermostats and air conditioners.
func (l Layout) MQTTDevices() int {
	n := 0
	for _, b := range l.Buildings {
		for _, o := range b.Offices {
			n += len(o.ACs)
			if o.Thermostat != "" {
				n++
			}
		}
	}
	return n
}

// Sensors counts signed-URL sensors.
func (l Layout) Sensors() int {
	n := 0
	for _, b := range l.Buildings {
		for _, o := range b.Offices {
			n += len(o.Sensors)
		}
	}
	return n
}

// BuildLayout lays the campus out from cfg.
func BuildLayout(cfg Config) Layout {
	l := Layout{Project: cfg.Project}
	left := cfg.OfficeCount()
	for b := 1; b <= cfg.Buildings && left > 0; b++ {
		bid := fmt.Sprintf("b%d", b)
		bl := Building{ID: bid, ReadingsQueue: ReadingsQueue(bid)}
		for f := 1; f <= cfg.Floors && left > 0; f++ {
			for o := 1; o <= cfg.OfficesPerFloor && left > 0; o++ {
				left--
				oid := fmt.Sprintf("%s-f%d-o%d", bid, f, o)
				of := Office{ID: oid, Building: bid, Floor: f, ACs: []string{}, Sensors: []Sensor{}}
				if cfg.Office.Thermostats > 0 {
					of.Thermostat = oid + "-th"
				}
				for a := 1; a <= cfg.Office.ACs; a++ {
					of.ACs = append(of.ACs, fmt.Sprintf("%s-ac%d", oid, a))
				}
				for _, k := range cfg.Office.Sensors {
					of.Sensors = append(of.Sensors, Sensor{ID: sensors.SensorID(oid, k), Kind: k})
				}
				bl.Offices = append(bl.Offices, of)
			}
		}
		l.Buildings = append(l.Buildings, bl)
	}
	return l
}
