package broker

import (
	"errors"
	"strings"
	"testing"
)

func TestParseClientID(t *testing.T) {
	const canon = "3381af92-2b9e-11e3-b191-71861300734c"
	// Expectations checked against Python 3.11's uuid.UUID.
	tests := []struct {
		in   string
		want string // "" means rejected
	}{
		{"3381af92-2b9e-11e3-b191-71861300734c", canon},
		{"3381af922b9e11e3b19171861300734c", canon},
		{"3381AF922B9E11E3B19171861300734C", canon},
		{"{3381af92-2b9e-11e3-b191-71861300734c}", canon},
		{"{{3381af92-2b9e-11e3-b191-71861300734c}", canon},
		{"urn:uuid:3381af92-2b9e-11e3-b191-71861300734c", canon},
		{"uuid:3381af92-2b9e-11e3-b191-71861300734c", canon},
		{"3381-af922b9e11e3b191-71861300734c", canon},
		{"-3381af922b9e11e3b19171861300734c-", canon},
		{"uuurn:id:" + strings.Repeat("a", 32), "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa"},
		{"0x_1f" + strings.Repeat("0", 27), "0001f000-0000-0000-0000-000000000000"},
		{" +0x" + strings.Repeat("1", 28), "00001111-1111-1111-1111-111111111111"},
		{"+" + strings.Repeat("f", 31), "0fffffff-ffff-ffff-ffff-ffffffffffff"},
		{"0X" + strings.Repeat("f", 30), "00ffffff-ffff-ffff-ffff-ffffffffffff"},
		{"a_" + strings.Repeat("b", 30), "0abbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb"},
		{"\t" + strings.Repeat("c", 31), "0ccccccc-cccc-cccc-cccc-cccccccccccc"},
		{"", ""},
		{"not-a-uuid", ""},
		{"3381af92-2b9e-11e3-b191-71861300734", ""},
		{"3381af92-2b9e-11e3-b191-71861300734cc", ""},
		{"3381af92-2b9e-11e3-b191-71861300734g", ""},
		{"URN:UUID:3381af92-2b9e-11e3-b191-71861300734c", ""},
		{"_1f" + strings.Repeat("0", 29), ""},
		{"a__" + strings.Repeat("b", 29), ""},
		{strings.Repeat("b", 31) + "_", ""},
		{"\x1c" + strings.Repeat("a", 31), ""},
		{"0x" + strings.Repeat(" ", 30), ""},
		{strings.Repeat("٣", 32), ""}, // Python accepts Unicode digits; we do not
	}
	for _, tc := range tests {
		id, err := ParseClientID(tc.in)
		if tc.want == "" {
			if err == nil {
				t.Errorf("ParseClientID(%q) = %s, want an error", tc.in, ClientIDString(id))
				continue
			}
			if !errors.Is(err, ErrBadClientID) || Describe(err) != "Malformed hexadecimal UUID." {
				t.Errorf("ParseClientID(%q) error = %v", tc.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseClientID(%q): %v", tc.in, err)
			continue
		}
		if got := ClientIDString(id); got != tc.want {
			t.Errorf("ParseClientID(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestValidQueueName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"q", true},
		{"Queue_1-a.b", true},
		{strings.Repeat("a", 64), true},
		{strings.Repeat("a", 65), false},
		{"", false},
		{"a b", false},
		{"a/b", false},
		{"é", false},
		{"abc\n", false},
	}
	for _, tc := range tests {
		if got := ValidQueueName(tc.name); got != tc.ok {
			t.Errorf("ValidQueueName(%q) = %v", tc.name, got)
		}
	}
	if !ValidProjectID(strings.Repeat("p", 256)) || ValidProjectID(strings.Repeat("p", 257)) {
		t.Error("project length limit is 256 bytes")
	}
}

func FuzzParseClientID(f *testing.F) {
	for _, s := range []string{"3381af92-2b9e-11e3-b191-71861300734c", "3381af922b9e11e3b19171861300734c",
		"{urn:uuid:3381af92-2b9e-11e3-b191-71861300734c}", "0x_1f00000000000000000000000000000", "", "-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseClientID(s)
		if err != nil {
			if !errors.Is(err, ErrBadClientID) {
				t.Fatalf("rejection of %q is not ErrBadClientID: %v", s, err)
			}
			return
		}
		// The canonical form must parse back to the same value.
		again, err := ParseClientID(ClientIDString(id))
		if err != nil || again != id {
			t.Fatalf("canonical form of %q does not round-trip", s)
		}
	})
}
