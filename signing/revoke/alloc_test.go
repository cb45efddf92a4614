//go:build !race

// Allocation counts mean nothing under the race detector, which allocates on its own.

package revoke

import (
	"strings"
	"testing"
	"time"
)

// TestLookupsAllocateNothing: the request path's lookups need no heap, revoked or not.
func TestLookupsAllocateNothing(t *testing.T) {
	l := open(t, tempFile(t))
	mustRevoke(t, l, ForSignature(sig, time.Time{}))
	mustRevoke(t, l, Entry{Kind: TokenID, ID: "j1"})
	mustRevoke(t, l, Entry{Kind: Subject, ID: "s1"})
	other := strings.Repeat("1", 64)
	allocs := testing.AllocsPerRun(100, func() {
		if !l.SignatureRevoked(sig) || l.SignatureRevoked(other) || !l.TokenRevoked("j1", "x", now) ||
			l.TokenRevoked("j2", "x", now) || !l.TokenRevoked("j2", "s1", now) {
			t.Fatal("wrong answer")
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per lookup round", allocs)
	}
}
