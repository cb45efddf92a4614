package revoke

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zedge-io/zedge/signing"
)

var now = time.Date(2026, 11, 22, 2, 12, 47, 0, time.UTC)

const sig = "570f25a4008b45ec380945e5e0de63efbd5c7e39a6ccbad45698bce8bea956d8"

func open(t *testing.T, file string) *List {
	t.Helper()
	cfg := DefaultConfig()
	cfg.File = file
	cfg.PollInterval = 20 * time.Millisecond
	l, err := Open(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func tempFile(t *testing.T) string { return filepath.Join(t.TempDir(), "data", DefaultFileName) }

func mustRevoke(t *testing.T, l *List, e Entry) Entry {
	t.Helper()
	got, err := l.Revoke(e, now)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// TestFileContents: the file holds the fingerprint, never the signature (itself a bearer credential), and is
// readable by its owner only. The behaviour shared with the Redis backend is checked by the conformance suite
// (conformance_test.go).
func TestFileContents(t *testing.T) {
	file := tempFile(t)
	l := open(t, file)
	mustRevoke(t, l, ForSignature(sig, now.Add(time.Hour)))
	mustRevoke(t, l, Entry{Kind: TokenID, ID: "j1", Reason: "laptop stolen"})
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), sig) {
		t.Fatal("the file holds the signature itself")
	}
	if !strings.Contains(string(data), signing.Fingerprint(sig)) || !strings.Contains(string(data), "laptop stolen") {
		t.Fatalf("file: %s", data)
	}
	if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v", fi.Mode())
	}
	if got, want := l.Where(), "file "+file; got != want {
		t.Errorf("Where() = %q, want %q", got, want)
	}
}

func TestEntryValidate(t *testing.T) {
	for _, tc := range []struct {
		e  Entry
		ok bool
	}{
		{ForSignature(sig, time.Time{}), true},
		{Entry{Kind: Signature, ID: sig}, true}, // shaped like a fingerprint, so accepted as one
		{Entry{Kind: Signature, ID: strings.ToUpper(sig)}, false},
		{Entry{Kind: Signature, ID: "abc"}, false},
		{Entry{Kind: TokenID, ID: "0f3a"}, true},
		{Entry{Kind: TokenID}, false},
		{Entry{Kind: TokenID, ID: strings.Repeat("j", MaxIDLength+1)}, false},
		{Entry{Kind: Subject, ID: "thermostat-7"}, true},
		{Entry{Kind: Subject, ID: "a\nb"}, false},
		{Entry{Kind: Subject, ID: "bad\xffutf8"}, false},
		{Entry{Kind: "user", ID: "x"}, false},
		{Entry{Kind: Subject, ID: "x", Reason: strings.Repeat("r", MaxReasonLength+1)}, false},
	} {
		err := tc.e.Validate()
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrInvalidEntry)) {
			t.Errorf("%+v: %v", tc.e, err)
		}
	}
	l := open(t, tempFile(t))
	if _, err := l.Revoke(Entry{Kind: "user", ID: "x"}, now); !errors.Is(err, ErrInvalidEntry) {
		t.Fatalf("invalid entry stored: %v", err)
	}
	if len(l.Entries()) != 0 {
		t.Fatal("invalid entry in memory")
	}
}

func TestConfigValidate(t *testing.T) {
	for name, c := range map[string]Config{
		"no file":   {PollInterval: time.Second},
		"zero poll": {File: "x"},
		"slow poll": {File: "x", PollInterval: 2 * time.Second},
		"fast poll": {File: "x", PollInterval: time.Millisecond},
	} {
		if err := c.Validate(); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: %v", name, err)
		}
	}
	c := DefaultConfig()
	c.File = "x"
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, poll := range []time.Duration{0, MinPollInterval - 1, MaxPollInterval + 1} {
		if _, err := New(&File{path: tempFile(t)}, poll, nil); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("New with poll %v: %v", poll, err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	good, _ := Encode([]Entry{ForSignature(sig, now), {Kind: Subject, ID: "s", RevokedAt: now, Reason: "r"}})
	f.Add(good)
	f.Add([]byte(`{"version": 1, "entries": null}`))
	f.Add([]byte(`{"version": 1, "entries": [{"kind": "jti", "id": "\u0000"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := Decode(data)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error not ErrCorrupt: %v", err)
			}
			return
		}
		for _, e := range entries {
			if e.Validate() != nil {
				t.Fatalf("invalid entry accepted: %+v", e)
			}
		}
		// What was accepted round-trips.
		again, err := Encode(entries)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Decode(again)
		if err != nil || len(back) != len(entries) {
			t.Fatalf("round trip: %v", err)
		}
	})
}
