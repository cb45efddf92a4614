package sensors

import (
	"encoding/json"
	"errors"
	"math"
	"testing"
	"time"
)

const exampleJSON = `{"sensor":"b1-f1-o3-temp","kind":"temperature","value":22.4,"unit":"celsius","building":"b1","office":"b1-f1-o3","ts":"2026-11-22T06:01:02.123Z"}`

var exampleTS = time.Date(2026, 11, 22, 6, 1, 2, 123_000_000, time.UTC)

func TestReadingJSONIsTheAgreedShape(t *testing.T) {
	r := New("b1-f1-o3-temp", Temperature, 22.4, "b1", "b1-f1-o3", exampleTS)
	got, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != exampleJSON {
		t.Fatalf("got  %s\nwant %s", got, exampleJSON)
	}
	back, err := Decode([]byte(exampleJSON))
	if err != nil {
		t.Fatal(err)
	}
	if back != r && !(back.TS.Equal(r.TS) && back.Sensor == r.Sensor && back.Value == r.Value) {
		t.Fatalf("decoded %+v, want %+v", back, r)
	}
	if back.ID() != "b1-f1-o3-temp@2026-11-22T06:01:02.123Z" {
		t.Errorf("ID = %q", back.ID())
	}
}

func TestEncodeTruncatesToMillisecondsInUTC(t *testing.T) {
	ts := time.Date(2026, 11, 22, 8, 1, 2, 123_456_789, time.FixedZone("CET", 3600))
	b, err := New("s", Power, 850, "b", "o", ts).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m["ts"] != "2026-11-22T07:01:02.123Z" || m["value"] != 850.0 || m["unit"] != "watts" {
		t.Errorf("got %s", b)
	}
}

func TestEncodeRefusesNonFinite(t *testing.T) {
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if _, err := New("s", Power, v, "b", "o", exampleTS).MarshalJSON(); !errors.Is(err, ErrNotFinite) {
			t.Errorf("value %v: err = %v, want ErrNotFinite", v, err)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	for name, in := range map[string]string{
		"not json":        `{"sensor":`,
		"array":           `[1,2]`,
		"value as string": `{"sensor":"s","kind":"co2","value":"400","unit":"ppm","building":"b","office":"o","ts":"2026-11-22T06:01:02Z"}`,
		"missing ts":      `{"sensor":"s","kind":"co2","value":400,"unit":"ppm","building":"b","office":"o"}`,
		"missing sensor":  `{"kind":"co2","value":400,"unit":"ppm","building":"b","office":"o","ts":"2026-11-22T06:01:02Z"}`,
		"bad ts":          `{"sensor":"s","kind":"co2","value":400,"unit":"ppm","building":"b","office":"o","ts":"yesterday"}`,
		"trailing data":   exampleJSON + `{}`,
		"null value":      `{"sensor":"s","kind":"co2","value":null,"unit":"ppm","building":"b","office":"o","ts":"2026-11-22T06:01:02Z"}`,
	} {
		if _, err := Decode([]byte(in)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", name, err)
		}
	}
	// Unknown fields are ignored: newer firmware may add some.
	extra := `{"sensor":"s","kind":"co2","value":400,"unit":"ppm","building":"b","office":"o","ts":"2026-11-22T06:01:02+01:00","battery":3.1}`
	r, err := Decode([]byte(extra))
	if err != nil || r.Value != 400 || !r.TS.Equal(time.Date(2026, 11, 22, 5, 1, 2, 0, time.UTC)) {
		t.Errorf("extra field: %+v %v", r, err)
	}
}

func TestValidate(t *testing.T) {
	now := exampleTS
	ok := New("b1-f1-o3-temp", Temperature, 22.4, "b1", "b1-f1-o3", now)
	mod := func(f func(*Reading)) Reading { r := ok; f(&r); return r }
	for _, tc := range []struct {
		name string
		r    Reading
		want error // nil: valid
	}{
		{"the example", ok, nil},
		{"humidity", New("h", Humidity, 45.5, "b1", "o", now), nil},
		{"humidity 100", New("h", Humidity, 100, "b1", "o", now), nil},
		{"humidity over 100", New("h", Humidity, 100.1, "b1", "o", now), ErrOutOfRange},
		{"co2", New("c", CO2, 612, "b1", "o", now), nil},
		{"co2 negative", New("c", CO2, -1, "b1", "o", now), ErrOutOfRange},
		{"occupancy", New("p", Occupancy, 3, "b1", "o", now), nil},
		{"occupancy fraction", New("p", Occupancy, 2.5, "b1", "o", now), ErrNotWhole},
		{"power", New("w", Power, 850, "b1", "o", now), nil},
		{"power negative", New("w", Power, -5, "b1", "o", now), ErrOutOfRange},
		{"temperature too hot", New("t", Temperature, 150, "b1", "o", now), ErrOutOfRange},
		{"temperature too cold", New("t", Temperature, -60, "b1", "o", now), ErrOutOfRange},
		{"NaN", New("t", Temperature, math.NaN(), "b1", "o", now), ErrOutOfRange},
		{"unknown kind", mod(func(r *Reading) { r.Kind = "pressure" }), ErrUnknownKind},
		{"fahrenheit", mod(func(r *Reading) { r.Unit = "fahrenheit" }), ErrWrongUnit},
		{"unit of another kind", mod(func(r *Reading) { r.Unit = Percent }), ErrWrongUnit},
		{"empty sensor", mod(func(r *Reading) { r.Sensor = "" }), ErrIdentity},
		{"sensor with a slash", mod(func(r *Reading) { r.Sensor = "b1/t" }), ErrIdentity},
		{"empty building", mod(func(r *Reading) { r.Building = "" }), ErrIdentity},
		{"long office", mod(func(r *Reading) { r.Office = string(make([]byte, 129)) }), ErrIdentity},
		{"no ts", mod(func(r *Reading) { r.TS = time.Time{} }), ErrTimestamp},
		{"ts 4 minutes ahead (skew)", mod(func(r *Reading) { r.TS = now.Add(4 * time.Minute) }), nil},
		{"ts 6 minutes ahead", mod(func(r *Reading) { r.TS = now.Add(6 * time.Minute) }), ErrTimestamp},
		{"ts 23 hours old", mod(func(r *Reading) { r.TS = now.Add(-23 * time.Hour) }), nil},
		{"ts 25 hours old", mod(func(r *Reading) { r.TS = now.Add(-25 * time.Hour) }), ErrTimestamp},
	} {
		err := tc.r.Validate(now)
		switch {
		case tc.want == nil && err != nil:
			t.Errorf("%s: unexpected error %v", tc.name, err)
		case tc.want != nil && (!errors.Is(err, tc.want) || !errors.Is(err, ErrInvalid)):
			t.Errorf("%s: err = %v, want %v wrapped in ErrInvalid", tc.name, err, tc.want)
		}
	}
}

func TestKindsSpecsAndSensorIDs(t *testing.T) {
	want := map[Kind]Unit{Temperature: Celsius, Humidity: Percent, CO2: PPM, Occupancy: Persons, Power: Watts}
	kinds := Kinds()
	if len(kinds) != len(want) {
		t.Fatalf("Kinds() = %v", kinds)
	}
	for _, k := range kinds {
		s, ok := SpecOf(k)
		if !ok || s.Unit != want[k] {
			t.Errorf("%s: spec %+v %v", k, s, ok)
		}
	}
	if _, ok := SpecOf("pressure"); ok {
		t.Error("SpecOf(pressure) found")
	}
	if got := SensorID("b1-f1-o3", Temperature); got != "b1-f1-o3-temp" {
		t.Errorf("SensorID = %q", got)
	}
}
