package revoke

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
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

func TestRevokeAndLookUp(t *testing.T) {
	file := tempFile(t)
	l := open(t, file)
	if l.SignatureRevoked(sig) || l.TokenRevoked("j1", "thermostat-7", now) {
		t.Fatal("an empty list revokes something")
	}
	mustRevoke(t, l, ForSignature(sig, now.Add(time.Hour)))
	mustRevoke(t, l, Entry{Kind: TokenID, ID: "j1", Reason: "laptop stolen"})
	mustRevoke(t, l, Entry{Kind: Subject, ID: "thermostat-7"})

	for _, tc := range []struct {
		name string
		got  bool
		want bool
	}{
		{"revoked signature", l.SignatureRevoked(sig), true},
		{"other signature", l.SignatureRevoked(strings.Repeat("0", 64)), false},
		{"revoked jti", l.TokenRevoked("j1", "someone", now.Add(time.Hour)), true},
		{"other jti, other subject", l.TokenRevoked("j2", "someone", now), false},
		{"subject, issued before", l.TokenRevoked("j3", "thermostat-7", now.Add(-time.Hour)), true},
		{"subject, issued the same second", l.TokenRevoked("j3", "thermostat-7", now), true},
		{"subject, no iat", l.TokenRevoked("j3", "thermostat-7", time.Time{}), true},
		{"subject, issued after", l.TokenRevoked("j3", "thermostat-7", now.Add(time.Second)), false},
		{"subject is not a jti", l.TokenRevoked("thermostat-7", "x", now), false},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: got %v", tc.name, tc.got)
		}
	}

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

	// A restart: a new List over the same file knows everything.
	again := open(t, file)
	if !again.SignatureRevoked(sig) || !again.TokenRevoked("j1", "x", now) || !again.TokenRevoked("", "thermostat-7", now) {
		t.Fatal("revocations lost across a reopen")
	}
	if n := len(again.Entries()); n != 3 {
		t.Fatalf("%d entries after reopen", n)
	}
}

func TestRevokeAgainMerges(t *testing.T) {
	l := open(t, tempFile(t))
	first := mustRevoke(t, l, Entry{Kind: Subject, ID: "dev-1", Expires: now.Add(time.Hour)})
	later := now.Add(time.Minute)
	got, err := l.Revoke(Entry{Kind: Subject, ID: "dev-1", RevokedAt: later, Reason: "again"}, later)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Entries()) != 1 || !got.RevokedAt.Equal(later) || got.Reason != "again" || !got.Expires.IsZero() {
		t.Fatalf("merged %+v from %+v, entries %v", got, first, l.Entries())
	}
	// The cut-off moved: a token issued between the two revocations is refused now.
	if !l.TokenRevoked("", "dev-1", now.Add(30*time.Second)) {
		t.Fatal("token issued before the second revocation accepted")
	}
}

func TestExpiredEntriesDropped(t *testing.T) {
	l := open(t, tempFile(t))
	mustRevoke(t, l, Entry{Kind: TokenID, ID: "short", Expires: now.Add(time.Minute)})
	mustRevoke(t, l, Entry{Kind: TokenID, ID: "forever"})
	// Within the leeway the entry is kept, since a verifier with leeway still accepts the token.
	if _, err := l.Revoke(Entry{Kind: TokenID, ID: "x"}, now.Add(time.Minute+MaxLeeway-time.Second)); err != nil {
		t.Fatal(err)
	}
	if !l.TokenRevoked("short", "", now) {
		t.Fatal("dropped within the leeway")
	}
	if _, err := l.Revoke(Entry{Kind: TokenID, ID: "y"}, now.Add(time.Minute+MaxLeeway)); err != nil {
		t.Fatal(err)
	}
	if l.TokenRevoked("short", "", now) || !l.TokenRevoked("forever", "", now) || len(l.Entries()) != 3 {
		t.Fatalf("entries after expiry: %+v", l.Entries())
	}
}

func TestRemove(t *testing.T) {
	l := open(t, tempFile(t))
	mustRevoke(t, l, Entry{Kind: TokenID, ID: "oops"})
	if err := l.Remove(TokenID, "oops", now); err != nil {
		t.Fatal(err)
	}
	if l.TokenRevoked("oops", "", now) {
		t.Fatal("removed entry still revokes")
	}
	if err := l.Remove(TokenID, "oops", now); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second remove: %v", err)
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
}

// TestCorruptFile: a file that does not parse stops Open, and a reload keeps the last good list instead of
// falling back to an empty one.
func TestCorruptFile(t *testing.T) {
	file := tempFile(t)
	l := open(t, file)
	mustRevoke(t, l, Entry{Kind: TokenID, ID: "j1"})
	for name, content := range map[string]string{
		"not json":      "revoked: j1",
		"wrong version": `{"version": 2, "entries": []}`,
		"unknown field": `{"version": 1, "entries": [{"kind": "jti", "id": "j1", "revoked_at": "2026-01-01T00:00:00Z", "expire": "x"}]}`,
		"bad entry":     `{"version": 1, "entries": [{"kind": "jti", "id": "", "revoked_at": "2026-01-01T00:00:00Z"}]}`,
		"two documents": `{"version": 1, "entries": []} {}`,
	} {
		if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg := Config{File: file, PollInterval: time.Second}
		if _, err := Open(cfg, nil); !errors.Is(err, ErrCorruptFile) {
			t.Errorf("%s: Open: %v", name, err)
		}
		if _, err := l.Reload(); !errors.Is(err, ErrCorruptFile) {
			t.Errorf("%s: Reload: %v", name, err)
		}
		if !l.TokenRevoked("j1", "", now) {
			t.Fatalf("%s: the last good list was dropped", name)
		}
		if _, err := l.Revoke(Entry{Kind: TokenID, ID: "j2"}, now); !errors.Is(err, ErrCorruptFile) {
			t.Errorf("%s: a write over a corrupt file: %v", name, err)
		}
	}
}

// TestWatchSeesOtherWriter is the server and `zedge revoke` on one file: a change written through another List
// takes effect in the watching one without a restart.
func TestWatchSeesOtherWriter(t *testing.T) {
	file := tempFile(t)
	server := open(t, file)
	server.Watch()
	cli := open(t, file)
	mustRevoke(t, cli, Entry{Kind: Subject, ID: "thermostat-7"})
	waitFor(t, func() bool { return server.TokenRevoked("", "thermostat-7", now) })
	if err := cli.Remove(Subject, "thermostat-7", now); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return !server.TokenRevoked("", "thermostat-7", now) })
	// Removing the file empties the list (an operator's explicit act).
	mustRevoke(t, cli, Entry{Kind: TokenID, ID: "j9"})
	waitFor(t, func() bool { return server.TokenRevoked("j9", "", now) })
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return !server.TokenRevoked("j9", "", now) })
	if err := server.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestConcurrentWritersLoseNothing: two Lists on one file (as two processes would be) and several goroutines
// each write; the file lock serialises the read-modify-writes, so every entry survives.
func TestConcurrentWritersLoseNothing(t *testing.T) {
	file := tempFile(t)
	a, b := open(t, file), open(t, file)
	a.Watch()
	const perWriter = 15
	var wg sync.WaitGroup
	for w, l := range []*List{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				if _, err := l.Revoke(Entry{Kind: TokenID, ID: fmt.Sprintf("w%d-%d", w, i)}, now); err != nil {
					t.Error(err)
					return
				}
				_ = l.SignatureRevoked(sig) // readers run alongside
			}
		}()
	}
	wg.Wait()
	final := open(t, file)
	if n := len(final.Entries()); n != 4*perWriter {
		t.Fatalf("%d entries, want %d", n, 4*perWriter)
	}
}

func TestCloseWithoutWatch(t *testing.T) {
	l := open(t, tempFile(t))
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l.Watch() // after Close: must not start or block
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second) // a generous bound, not a timing assertion
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func FuzzDecode(f *testing.F) {
	good, _ := encode([]Entry{ForSignature(sig, now), {Kind: Subject, ID: "s", RevokedAt: now, Reason: "r"}})
	f.Add(good)
	f.Add([]byte(`{"version": 1, "entries": null}`))
	f.Add([]byte(`{"version": 1, "entries": [{"kind": "jti", "id": "\u0000"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := decode(data)
		if err != nil {
			if !errors.Is(err, ErrCorruptFile) {
				t.Fatalf("error not ErrCorruptFile: %v", err)
			}
			return
		}
		for _, e := range entries {
			if e.Validate() != nil {
				t.Fatalf("invalid entry accepted: %+v", e)
			}
		}
		// What was accepted round-trips.
		again, err := encode(entries)
		if err != nil {
			t.Fatal(err)
		}
		back, err := decode(again)
		if err != nil || len(back) != len(entries) {
			t.Fatalf("round trip: %v", err)
		}
	})
}
