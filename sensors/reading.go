package sensors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Kind is what a sensor measures.
type Kind string

// The sensor kinds of a campus.
const (
	Temperature Kind = "temperature"
	Humidity    Kind = "humidity"
	CO2         Kind = "co2"
	Occupancy   Kind = "occupancy"
	Power       Kind = "power"
)

// Unit is the unit of a reading's value; each kind has exactly one.
type Unit string

// The units, one per kind.
const (
	Celsius Unit = "celsius"
	Percent Unit = "percent"
	PPM     Unit = "ppm"
	Persons Unit = "persons"
	Watts   Unit = "watts"
)

// Spec is what a kind allows: its unit, its physical range and whether values are whole numbers.
type Spec struct {
	Unit     Unit
	Min, Max float64
	Integer  bool
	// Suffix names the kind in a sensor id (b1-f1-o3-temp).
	Suffix string
}

// specs holds the kinds in a fixed order (Kinds).
var specs = []struct {
	kind Kind
	spec Spec
}{
	// A sensor outside its range is broken or lying; these are generous physical bounds, not comfort bands.
	{Temperature, Spec{Unit: Celsius, Min: -50, Max: 100, Suffix: "temp"}},
	{Humidity, Spec{Unit: Percent, Min: 0, Max: 100, Suffix: "hum"}},
	{CO2, Spec{Unit: PPM, Min: 0, Max: 40000, Suffix: "co2"}},
	{Occupancy, Spec{Unit: Persons, Min: 0, Max: 10000, Integer: true, Suffix: "occ"}},
	{Power, Spec{Unit: Watts, Min: 0, Max: 10_000_000, Suffix: "pwr"}},
}

// Kinds lists every kind, in a fixed order.
func Kinds() []Kind {
	out := make([]Kind, len(specs))
	for i, s := range specs {
		out[i] = s.kind
	}
	return out
}

// SpecOf returns the spec of k, false for an unknown kind.
func SpecOf(k Kind) (Spec, bool) {
	for _, s := range specs {
		if s.kind == k {
			return s.spec, true
		}
	}
	return Spec{}, false
}

// Reading is one measurement, as sent on the wire (see the package comment for the JSON).
type Reading struct {
	Sensor   string
	Kind     Kind
	Value    float64
	Unit     Unit
	Building string
	Office   string
	// TS is the sensor's clock when it measured; it is sent in UTC with millisecond precision.
	TS time.Time
}

// TSLayout is the wire form of ts: UTC, milliseconds, Z.
const TSLayout = "2006-01-02T15:04:05.000Z"

// ID identifies a reading across retries: its sensor and its ts (in wire precision).
func (r Reading) ID() string { return r.Sensor + "@" + r.TS.UTC().Format(TSLayout) }

// Codec errors.
var (
	// ErrMalformed: the bytes are not a reading object (bad JSON, a field of the wrong type or missing).
	ErrMalformed = errors.New("sensors: malformed reading")
	// ErrNotFinite: a value that JSON cannot carry (NaN, ±Inf).
	ErrNotFinite = errors.New("sensors: value is not a finite number")
)

// MarshalJSON writes the reading exactly as the package comment shows.
func (r Reading) MarshalJSON() ([]byte, error) { return r.AppendJSON(make([]byte, 0, 160)) }

// AppendJSON appends the reading's JSON to dst. Values that JSON cannot carry are refused with ErrNotFinite.
func (r Reading) AppendJSON(dst []byte) ([]byte, error) {
	if math.IsNaN(r.Value) || math.IsInf(r.Value, 0) {
		return dst, fmt.Errorf("%w: %v", ErrNotFinite, r.Value)
	}
	dst = append(dst, `{"sensor":`...)
	dst = appendString(dst, r.Sensor)
	dst = append(dst, `,"kind":`...)
	dst = appendString(dst, string(r.Kind))
	dst = append(dst, `,"value":`...)
	dst = strconv.AppendFloat(dst, r.Value, 'f', -1, 64)
	dst = append(dst, `,"unit":`...)
	dst = appendString(dst, string(r.Unit))
	dst = append(dst, `,"building":`...)
	dst = appendString(dst, r.Building)
	dst = append(dst, `,"office":`...)
	dst = appendString(dst, r.Office)
	dst = append(dst, `,"ts":"`...)
	dst = r.TS.UTC().AppendFormat(dst, TSLayout)
	return append(dst, `"}`...), nil
}

// appendString appends s as a JSON string. Ids are plain ASCII and are copied as they are; anything else
// goes through encoding/json's escaping, which keeps the output valid for any input.
func appendString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			b, _ := json.Marshal(s) // a string always marshals
			return append(dst, b...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// wireReading is the decoding shape: pointers tell a missing field from a zero one.
type wireReading struct {
	Sensor   *string  `json:"sensor"`
	Kind     *string  `json:"kind"`
	Value    *float64 `json:"value"`
	Unit     *string  `json:"unit"`
	Building *string  `json:"building"`
	Office   *string  `json:"office"`
	TS       *string  `json:"ts"`
}

// UnmarshalJSON decodes a reading. Every field must be present with its JSON type; unknown fields are
// ignored (newer firmware may add some). ts must be RFC 3339 (a fraction and any zone are accepted and
// kept). It does not validate units or ranges: that is Validate's job, so that a consumer can still see
// what a broken sensor sent.
func (r *Reading) UnmarshalJSON(b []byte) error {
	var w wireReading
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&w); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: data after the object", ErrMalformed)
	}
	missing := ""
	switch {
	case w.Sensor == nil:
		missing = "sensor"
	case w.Kind == nil:
		missing = "kind"
	case w.Value == nil:
		missing = "value"
	case w.Unit == nil:
		missing = "unit"
	case w.Building == nil:
		missing = "building"
	case w.Office == nil:
		missing = "office"
	case w.TS == nil:
		missing = "ts"
	}
	if missing != "" {
		return fmt.Errorf("%w: %q missing", ErrMalformed, missing)
	}
	ts, err := time.Parse(time.RFC3339Nano, *w.TS)
	if err != nil {
		return fmt.Errorf("%w: ts %q is not RFC 3339", ErrMalformed, *w.TS)
	}
	// The wire form is UTC with a four-digit year; a zone offset can push a parsable time out of it.
	if y := ts.UTC().Year(); y < 1 || y > 9999 {
		return fmt.Errorf("%w: ts %q is outside the years 0001-9999 in UTC", ErrMalformed, *w.TS)
	}
	*r = Reading{Sensor: *w.Sensor, Kind: Kind(*w.Kind), Value: *w.Value, Unit: Unit(*w.Unit),
		Building: *w.Building, Office: *w.Office, TS: ts}
	return nil
}

// Decode parses one reading (UnmarshalJSON).
func Decode(b []byte) (Reading, error) {
	var r Reading
	err := r.UnmarshalJSON(b)
	return r, err
}
