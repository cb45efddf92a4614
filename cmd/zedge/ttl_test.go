package main

import (
	"slices"
	"testing"
	"time"
)

// TestShortTTL lowers the minimum TTLs in the config file and checks that short-lived messages and claims run out
// on time as seen through the API: gone from listing, get and stats; claims lapse and give their messages back;
// a claim extends a message that would otherwise expire under it. (Reclaiming the disk space is tested in the store
// package.)
func TestShortTTL(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{config: shortTTLConfig})
	producer := newClient(t, s, "sensors")
	reader := newClient(t, s, "sensors")

	short := producer.post("readings",
		map[string]any{"body": map[string]any{"temp": 20.1}, "ttl": 1},
		map[string]any{"body": map[string]any{"temp": 20.2}, "ttl": 2})
	long := producer.post("readings", map[string]any{"body": map[string]any{"temp": 20.3}, "ttl": 60})

	// A short-lived message under a claim lives at least claim ttl + grace.
	// (ttl 2, so that it lives at least a second whatever the rounding, long enough to be claimed.)
	extended := producer.post("extended", map[string]any{"body": "keep", "ttl": 2})[0]
	claimID, msgs, status := reader.claim("extended", 8, 2, 1)
	if status != 201 || len(msgs) != 1 || msgs[0].ID != extended {
		t.Fatalf("claim of the 2 s message: status %d, messages %v", status, ids(msgs))
	}
	if msgs[0].TTL != 10 {
		t.Errorf("claimed 2 s message reports ttl %d, want claim ttl + grace = 10", msgs[0].TTL)
	}

	// A short claim on everything still live (the long message at least).
	shortClaim, claimed, status := reader.claim("readings", 1, 1, 10)
	if status != 201 {
		t.Fatalf("short claim status %d", status)
	}

	// Wait out the TTLs (whole seconds; up to one more second of rounding).
	time.Sleep(3500 * time.Millisecond)

	if got := reader.list("readings", "include_claimed=true"); !slices.Equal(ids(got), long) {
		t.Errorf("after expiry the listing shows %v, want only %v", ids(got), long)
	}
	for _, id := range short {
		if _, r := reader.get("readings", id); r.status != 404 {
			t.Errorf("%s: want 404 for an expired message", r)
		}
	}
	if r := reader.do("GET", "/v2/queues/readings/messages?ids="+short[0]+","+short[1], nil); r.status != 404 {
		t.Errorf("%s: want 404 when every requested message expired", r)
	}
	total, claimedN, free := reader.stats("readings")
	if total != 1 || claimedN != 0 || free != 1 {
		t.Errorf("stats after expiry: total %d claimed %d free %d, want 1 0 1", total, claimedN, free)
	}

	// The short claim lapsed: its message is back, the claim is gone.
	if !slices.Contains(ids(claimed), long[0]) {
		t.Errorf("short claim took %v, want it to include the long message %s", ids(claimed), long[0])
	}
	if r := reader.do("GET", "/v2/queues/readings/claims/"+shortClaim, nil); r.status != 404 {
		t.Errorf("%s: want 404 for an expired claim", r)
	}
	if got := reader.list("readings", ""); !slices.Equal(ids(got), long) {
		t.Errorf("after the claim lapsed the listing shows %v, want %v", ids(got), long)
	}
	if m, r := reader.get("readings", long[0]); r.status != 200 || m.TTL != 60 {
		t.Errorf("%s: the long message's ttl must stay 60 (the claim did not need to extend it)", r)
	}

	// The extended message outlived its own 2 s ttl and is still held by its claim.
	if _, r := reader.get("extended", extended); r.status != 200 {
		t.Errorf("%s: the claimed message expired before claim ttl + grace", r)
	}
	reader.deleteMessage("extended", extended, claimID).expect(t, 204)
}
