package revoketest

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zedge-io/zedge/signing/revoke"
)

// Target is the storage of one test, seen the ways the suite needs it.
type Target struct {
	// Open returns a Backend on the test's storage. Every call is another handle on the same list, as another
	// process (zedge revoke) or another node would hold.
	Open func(t *testing.T) revoke.Backend
	// Overwrite stores data as the list, bypassing the Backend, as a hand edit or a foreign writer would, in a
	// way that a watching List notices (a new file renamed into place, a new version in Redis).
	Overwrite func(t *testing.T, data []byte)
	// Clear removes the stored list (deletes the file, or the key).
	Clear func(t *testing.T)
}

// Run runs the suite; newTarget gives every subtest storage of its own.
func Run(t *testing.T, newTarget func(t *testing.T) Target) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, Target)
	}{
		{"RevokeLookUpReopen", testRevokeLookUpReopen},
		{"RevokeAgainMerges", testRevokeAgainMerges},
		{"ExpiredEntriesDropped", testExpiredEntriesDropped},
		{"Remove", testRemove},
		{"RevokeAll", testRevokeAll},
		{"InvalidEntryStoresNothing", testInvalidEntry},
		{"CorruptKeepsLastGood", testCorrupt},
		{"WatchSeesOtherWriter", testWatchSeesOtherWriter},
		{"ConcurrentWritersLoseNothing", testConcurrentWriters},
		{"MaxEntries", testMaxEntries},
		{"CloseWithoutWatch", testCloseWithoutWatch},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newTarget(t)) })
	}
}

// now is the suite's clock: entries' expiries are relative to it, and pruning happens at the now a write
// passes.
var now = time.Date(2026, 11, 22, 2, 12, 47, 0, time.UTC)

// poll is short so that the tests that wait for a watcher finish quickly.
const poll = 20 * time.Millisecond

const sig = "570f25a4008b45ec380945e5e0de63efbd5c7e39a6ccbad45698bce8bea956d8"

func open(t *testing.T, tg Target) *revoke.List {
	t.Helper()
	l, err := revoke.New(tg.Open(t), poll, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func mustRevoke(t *testing.T, l *revoke.List, e revoke.Entry) revoke.Entry {
	t.Helper()
	got, err := l.Revoke(e, now)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// waitFor polls cond; the bound only keeps a broken backend from hanging the suite, it is not a speed check.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func testRevokeLookUpReopen(t *testing.T, tg Target) {
	l := open(t, tg)
	if l.SignatureRevoked(sig) || l.TokenRevoked("j1", "thermostat-7", now) {
		t.Fatal("an empty list revokes something")
	}
	mustRevoke(t, l, revoke.ForSignature(sig, now.Add(time.Hour)))
	mustRevoke(t, l, revoke.Entry{Kind: revoke.TokenID, ID: "j1", Reason: "laptop stolen"})
	mustRevoke(t, l, revoke.Entry{Kind: revoke.Subject, ID: "thermostat-7"})

	check := func(l *revoke.List) {
		t.Helper()
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
	}
	check(l)
	// A restart: a new List over the same storage knows everything.
	again := open(t, tg)
	check(again)
	got := again.Entries()
	if len(got) != 3 || got[1].Reason != "laptop stolen" || !got[0].Expires.Equal(now.Add(time.Hour)) {
		t.Fatalf("entries after reopen: %+v", got)
	}
}

func testRevokeAgainMerges(t *testing.T, tg Target) {
	l := open(t, tg)
	mustRevoke(t, l, revoke.Entry{Kind: revoke.Subject, ID: "dev-1", Expires: now.Add(time.Hour)})
	later := now.Add(time.Minute)
	got, err := l.Revoke(revoke.Entry{Kind: revoke.Subject, ID: "dev-1", RevokedAt: later, Reason: "again"}, later)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Entries()) != 1 || !got.RevokedAt.Equal(later) || got.Reason != "again" || !got.Expires.IsZero() {
		t.Fatalf("merged %+v, entries %+v", got, l.Entries())
	}
	// The cut-off moved: a token issued between the two revocations is refused now, also after a reopen.
	for _, l := range []*revoke.List{l, open(t, tg)} {
		if !l.TokenRevoked("", "dev-1", now.Add(30*time.Second)) {
			t.Fatal("token issued before the second revocation accepted")
		}
	}
}

func testExpiredEntriesDropped(t *testing.T, tg Target) {
	l := open(t, tg)
	mustRevoke(t, l, revoke.Entry{Kind: revoke.TokenID, ID: "short", Expires: now.Add(time.Minute)})
	mustRevoke(t, l, revoke.Entry{Kind: revoke.TokenID, ID: "forever"})
	// Within the leeway the entry is kept, since a verifier with leeway still accepts the token.
	if _, err := l.Revoke(revoke.Entry{Kind: revoke.TokenID, ID: "x"}, now.Add(time.Minute+revoke.MaxLeeway-time.Second)); err != nil {
		t.Fatal(err)
	}
	if !l.TokenRevoked("short", "", now) {
		t.Fatal("dropped within the leeway")
	}
	if _, err := l.Revoke(revoke.Entry{Kind: revoke.TokenID, ID: "y"}, now.Add(time.Minute+revoke.MaxLeeway)); err != nil {
		t.Fatal(err)
	}
	if l.TokenRevoked("short", "", now) || !l.TokenRevoked("forever", "", now) || len(l.Entries()) != 3 {
		t.Fatalf("entries after expiry: %+v", l.Entries())
	}
	// Dropped from the storage too, not only from memory.
	if again := open(t, tg); again.TokenRevoked("short", "", now) || len(again.Entries()) != 3 {
		t.Fatalf("stored entries after expiry: %+v", again.Entries())
	}
}

func testRemove(t *testing.T, tg Target) {
	l := open(t, tg)
	mustRevoke(t, l, revoke.Entry{Kind: revoke.TokenID, ID: "oops"})
	mustRevoke(t, l, revoke.Entry{Kind: revoke.TokenID, ID: "meant"})
	if err := l.Remove(revoke.TokenID, "oops", now); err != nil {
		t.Fatal(err)
	}
	if l.TokenRevoked("oops", "", now) || !l.TokenRevoked("meant", "", now) {
		t.Fatal("remove took the wrong entry")
	}
	if err := l.Remove(revoke.TokenID, "oops", now); !errors.Is(err, revoke.ErrNotFound) {
		t.Fatalf("second remove: %v", err)
	}
	if err := l.Remove(revoke.Subject, "meant", now); !errors.Is(err, revoke.ErrNotFound) {
		t.Fatalf("remove of another kind: %v", err)
	}
	if again := open(t, tg); again.TokenRevoked("oops", "", now) || !again.TokenRevoked("meant", "", now) {
		t.Fatalf("stored after remove: %+v", again.Entries())
	}
}

// testRevokeAll: a batch is merged in one write, all or nothing.
func testRevokeAll(t *testing.T, tg Target) {
	l := open(t, tg)
	mustRevoke(t, l, revoke.Entry{Kind: revoke.Subject, ID: "dev-1", RevokedAt: now.Add(-time.Hour)})
	batch := []revoke.Entry{
		{Kind: revoke.Subject, ID: "dev-1"}, // merged: the cut-off moves to now
		{Kind: revoke.TokenID, ID: "j1", Reason: "imported"},
		revoke.ForSignature(sig, time.Time{}),
	}
	added, err := l.RevokeAll(batch, now)
	if err != nil || added != 2 {
		t.Fatalf("RevokeAll: %d added, %v", added, err)
	}
	bad := []revoke.Entry{{Kind: revoke.TokenID, ID: "j2"}, {Kind: "user", ID: "x"}}
	if _, err := l.RevokeAll(bad, now); !errors.Is(err, revoke.ErrInvalidEntry) {
		t.Fatalf("RevokeAll with an invalid entry: %v", err)
	}
	for _, l := range []*revoke.List{l, open(t, tg)} {
		if len(l.Entries()) != 3 || !l.TokenRevoked("", "dev-1", now.Add(-time.Minute)) || !l.TokenRevoked("j1", "", now) ||
			!l.SignatureRevoked(sig) || l.TokenRevoked("j2", "", now) {
			t.Fatalf("after RevokeAll: %+v", l.Entries())
		}
	}
}

func testInvalidEntry(t *testing.T, tg Target) {
	l := open(t, tg)
	if _, err := l.Revoke(revoke.Entry{Kind: "user", ID: "x"}, now); !errors.Is(err, revoke.ErrInvalidEntry) {
		t.Fatalf("invalid entry stored: %v", err)
	}
	if len(l.Entries()) != 0 || len(open(t, tg).Entries()) != 0 {
		t.Fatal("invalid entry kept")
	}
}

// testCorrupt: stored data that does not parse stops New, and neither a reload nor the watcher falls back to
// an empty list (that would silently re-enable revoked credentials); a write over it fails rather than
// replacing what an operator may still repair. Good data stored afterwards is picked up again.
func testCorrupt(t *testing.T, tg Target) {
	l := open(t, tg)
	l.Watch()
	mustRevoke(t, l, revoke.Entry{Kind: revoke.TokenID, ID: "j1"})
	for _, tc := range []struct{ name, data string }{
		{"not json", "revoked: j1"},
		{"wrong version", `{"version": 2, "entries": []}`},
		{"unknown field", `{"version": 1, "entries": [{"kind": "jti", "id": "j1", "revoked_at": "2026-01-01T00:00:00Z", "expire": "x"}]}`},
		{"bad entry", `{"version": 1, "entries": [{"kind": "jti", "id": "", "revoked_at": "2026-01-01T00:00:00Z"}]}`},
		{"two documents", `{"version": 1, "entries": []} {}`},
		{"empty", ""},
	} {
		tg.Overwrite(t, []byte(tc.data))
		if _, err := revoke.New(tg.Open(t), poll, nil); !errors.Is(err, revoke.ErrCorrupt) {
			t.Errorf("%s: New: %v", tc.name, err)
		}
		if _, err := l.Reload(); !errors.Is(err, revoke.ErrCorrupt) {
			t.Errorf("%s: Reload: %v", tc.name, err)
		}
		if !l.TokenRevoked("j1", "", now) {
			t.Fatalf("%s: the last good list was dropped", tc.name)
		}
		if _, err := l.Revoke(revoke.Entry{Kind: revoke.TokenID, ID: "j2"}, now); !errors.Is(err, revoke.ErrCorrupt) {
			t.Errorf("%s: a write over corrupt data: %v", tc.name, err)
		}
		if l.TokenRevoked("j2", "", now) {
			t.Fatalf("%s: a failed write is in memory", tc.name)
		}
	}
	// The operator repairs it: the watcher installs the good list.
	good, err := revoke.Encode([]revoke.Entry{{Kind: revoke.TokenID, ID: "j3", RevokedAt: now}})
	if err != nil {
		t.Fatal(err)
	}
	tg.Overwrite(t, good)
	waitFor(t, "repaired list picked up", func() bool { return l.TokenRevoked("j3", "", now) })
	if l.TokenRevoked("j1", "", now) {
		t.Fatal("the repaired list was merged with the old one")
	}
}

// testWatchSeesOtherWriter is the server and `zedge revoke` (or two nodes) on one list: a change written
// through another List takes effect in the watching one without a restart.
func testWatchSeesOtherWriter(t *testing.T, tg Target) {
	server := open(t, tg)
	server.Watch()
	cli := open(t, tg)
	mustRevoke(t, cli, revoke.Entry{Kind: revoke.Subject, ID: "thermostat-7"})
	waitFor(t, "revocation seen", func() bool { return server.TokenRevoked("", "thermostat-7", now) })
	if err := cli.Remove(revoke.Subject, "thermostat-7", now); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "removal seen", func() bool { return !server.TokenRevoked("", "thermostat-7", now) })
	// Removing the stored list empties the list (an operator's explicit act).
	mustRevoke(t, cli, revoke.Entry{Kind: revoke.TokenID, ID: "j9"})
	waitFor(t, "second revocation seen", func() bool { return server.TokenRevoked("j9", "", now) })
	tg.Clear(t)
	waitFor(t, "cleared list seen", func() bool { return !server.TokenRevoked("j9", "", now) })
	// And a list written after the clear is seen again.
	mustRevoke(t, cli, revoke.Entry{Kind: revoke.TokenID, ID: "j10"})
	waitFor(t, "revocation after the clear seen", func() bool { return server.TokenRevoked("j10", "", now) })
	if err := server.Close(); err != nil {
		t.Fatal(err)
	}
}

// testConcurrentWriters: two Lists on one storage (as two processes would be) and several goroutines each
// write; the backend's atomic update serialises the read-modify-writes, so every entry survives.
func testConcurrentWriters(t *testing.T, tg Target) {
	a, b := open(t, tg), open(t, tg)
	a.Watch()
	const perWriter = 15
	var wg sync.WaitGroup
	for w, l := range []*revoke.List{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				if _, err := l.Revoke(revoke.Entry{Kind: revoke.TokenID, ID: fmt.Sprintf("w%d-%d", w, i)}, now); err != nil {
					t.Error(err)
					return
				}
				_ = l.SignatureRevoked(sig) // readers run alongside
			}
		}()
	}
	wg.Wait()
	final := open(t, tg)
	if n := len(final.Entries()); n != 4*perWriter {
		t.Fatalf("%d entries, want %d", n, 4*perWriter)
	}
	for w := range 4 {
		for i := range perWriter {
			if !final.TokenRevoked(fmt.Sprintf("w%d-%d", w, i), "", now) {
				t.Fatalf("w%d-%d lost", w, i)
			}
		}
	}
}

// testMaxEntries: a full list refuses a new entry, and stored data with more entries than MaxEntries is
// corrupt. (Each load of a full list decodes some MB of JSON, slow under the race detector, so the test keeps
// to the loads it needs.)
func testMaxEntries(t *testing.T, tg Target) {
	tg.Overwrite(t, tokenIDs(revoke.MaxEntries))
	l := open(t, tg)
	if n := len(l.Entries()); n != revoke.MaxEntries {
		t.Fatalf("%d entries loaded, want %d", n, revoke.MaxEntries)
	}
	if _, err := l.Revoke(revoke.Entry{Kind: revoke.TokenID, ID: "one-more"}, now); !errors.Is(err, revoke.ErrInvalidEntry) {
		t.Fatalf("entry past MaxEntries: %v", err)
	}
	if l.TokenRevoked("one-more", "", now) || !l.TokenRevoked("j7", "", now) {
		t.Fatal("the refused entry changed the list")
	}

	tg.Overwrite(t, tokenIDs(revoke.MaxEntries+1))
	if _, err := revoke.New(tg.Open(t), poll, nil); !errors.Is(err, revoke.ErrCorrupt) {
		t.Fatalf("more than MaxEntries stored: %v", err)
	}
}

// tokenIDs is a stored document of n jti entries, j0 to j<n-1>, written out directly (Encode of a list this
// long is what the test should not spend its time on).
func tokenIDs(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"version": 1, "entries": [`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"kind": "jti", "id": "j%d", "revoked_at": "2026-11-22T02:12:47Z"}`, i)
	}
	b.WriteString("]}\n")
	return []byte(b.String())
}

func testCloseWithoutWatch(t *testing.T, tg Target) {
	l := open(t, tg)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l.Watch() // after Close: must not start or block
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}
