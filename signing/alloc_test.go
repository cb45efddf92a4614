//go:build !race

// Allocation counts mean nothing under the race detector, which allocates on its own.

package signing

import "testing"

// TestCheckRequestAllocatesNothing: the request-path check keeps no grant, so it needs no heap.
func TestCheckRequestAllocatesNothing(t *testing.T) {
	c := signedPOST(t)
	allocs := testing.AllocsPerRun(100, func() {
		if id, err := CheckRequest(c.ring, c.request, testNow); err != nil || id == "" {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per check", allocs)
	}
}
