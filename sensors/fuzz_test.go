package sensors

import (
	"bytes"
	"testing"
)

// FuzzDecode: any input either fails with an error or decodes to a reading whose encoding decodes to the
// same reading and encodes to the same bytes (a fixed point after one round).
func FuzzDecode(f *testing.F) {
	f.Add([]byte(exampleJSON))
	f.Add([]byte(`{"sensor":"s","kind":"occupancy","value":3,"unit":"persons","building":"b","office":"o","ts":"2026-11-22T06:01:02+01:00"}`))
	f.Add([]byte(`{"sensor":"\u00e9\n","kind":"","value":-0,"unit":"","building":"","office":"","ts":"0001-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"value":1e308}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := Decode(in)
		if err != nil {
			return
		}
		first, err := r.MarshalJSON()
		if err != nil {
			t.Fatalf("decoded %+v but cannot encode it: %v", r, err)
		}
		r2, err := Decode(first)
		if err != nil {
			t.Fatalf("own encoding %s does not decode: %v", first, err)
		}
		second, err := r2.MarshalJSON()
		if err != nil || !bytes.Equal(first, second) {
			t.Fatalf("not a fixed point:\n%s\n%s (%v)", first, second, err)
		}
		if r2.Sensor != r.Sensor || r2.Kind != r.Kind || r2.Value != r.Value || r2.Unit != r.Unit ||
			r2.Building != r.Building || r2.Office != r.Office {
			t.Fatalf("round trip changed %+v into %+v", r, r2)
		}
		// Validation never panics, whatever was decoded.
		_ = r.Validate(exampleTS)
	})
}
