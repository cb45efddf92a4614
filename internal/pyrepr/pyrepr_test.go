package pyrepr

import (
	"math"
	"testing"
)

// The expected values are what CPython 3.11 prints for repr().
func TestStr(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"foo", `'foo'`},
		{"it's", `"it's"`},
		{`a"b`, `'a"b'`},
		{`a'"b`, `'a\'"b'`},
		{"\x00\u2028\U0001F600é\\", `'\x00\u2028😀é\\'`},
		{"tab\there\r\n", `'tab\there\r\n'`},
		{"\u00a0\u00ad\x7f\u0085", `'\xa0\xad\x7f\x85'`},
		{"\U000e0001", `'\U000e0001'`},
		{"bad\xffutf8", `'bad\xffutf8'`},
	} {
		if got := Str(tc.in); got != tc.want {
			t.Errorf("Str(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestFloat(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want string
	}{
		{60, "60.0"},
		{0.1, "0.1"},
		{-2.5, "-2.5"},
		{1e16, "1e+16"},
		{1e15, "1000000000000000.0"},
		{1.5e-5, "1.5e-05"},
		{0.0001, "0.0001"},
		{1.7976931348623157e308, "1.7976931348623157e+308"},
		{math.Inf(1), "inf"},
		{math.Inf(-1), "-inf"},
		{math.NaN(), "nan"},
	} {
		if got := Float(tc.in); got != tc.want {
			t.Errorf("Float(%v) = %s, want %s", tc.in, got, tc.want)
		}
	}
}
