package engine

import (
	"math"
	"strings"
	"testing"
)

func TestIDs(t *testing.T) {
	for _, seq := range []uint64{0, 1, 15, 16, 255, 1 << 32, math.MaxUint64} {
		id := FormatID(seq)
		if len(id) != 16 || strings.ToLower(id) != id {
			t.Fatalf("FormatID(%d) = %q", seq, id)
		}
		got, ok := ParseID(id)
		if !ok || got != seq {
			t.Fatalf("ParseID(%q) = %d, %v", id, got, ok)
		}
	}
	if FormatID(9) >= FormatID(10) || FormatID(255) >= FormatID(256) {
		t.Fatal("ids do not sort like their sequence")
	}
	for _, bad := range []string{"", "0", "000000000000000g", "000000000000000A", "00000000000000001", " 000000000000001", "-00000000000001"} {
		if _, ok := ParseID(bad); ok {
			t.Fatalf("ParseID(%q) accepted", bad)
		}
	}
}

func TestMarkers(t *testing.T) {
	cases := []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"0", 0, true},
		{"1", 1, true},
		{"42", 42, true},
		{"18446744073709551615", math.MaxUint64, true},
		{"18446744073709551616", 0, false},
		{"99999999999999999999", 0, false},
		{"", 0, false},
		{"01", 0, false},
		{"00", 0, false},
		{"-1", 0, false},
		{"+1", 0, false},
		{"1 ", 0, false},
		{"1e3", 0, false},
		{"0x1", 0, false},
		{"١", 0, false},
	}
	for _, c := range cases {
		got, ok := ParseMarker(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("ParseMarker(%q) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func FuzzParseMarker(f *testing.F) {
	for _, s := range []string{"0", "1", "18446744073709551615", "18446744073709551616", "01", "-1", "abc", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, ok := ParseMarker(s)
		if !ok {
			return
		}
		if back := FormatMarker(v); back != s {
			t.Fatalf("ParseMarker(%q) = %d formats back as %q", s, v, back)
		}
	})
}

func FuzzParseID(f *testing.F) {
	for _, s := range []string{"0000000000000000", "ffffffffffffffff", "0000000000000001", "FFFFFFFFFFFFFFFF", "xyz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, ok := ParseID(s)
		if !ok {
			return
		}
		if back := FormatID(v); back != s {
			t.Fatalf("ParseID(%q) = %d formats back as %q", s, v, back)
		}
	})
}

func TestFormatIDs(t *testing.T) {
	msgs := []Msg{{Seq: 0}, {Seq: 1}, {Seq: 0xdeadbeef}, {Seq: ^uint64(0)}}
	ids := formatIDs(msgs)
	if len(ids) != len(msgs) {
		t.Fatalf("%d ids for %d messages", len(ids), len(msgs))
	}
	for i, m := range msgs {
		if want := FormatID(m.Seq); ids[i] != want {
			t.Errorf("formatIDs[%d] = %q, want %q", i, ids[i], want)
		}
	}
	if got := formatIDs(nil); len(got) != 0 {
		t.Errorf("formatIDs(nil) = %q", got)
	}
}
