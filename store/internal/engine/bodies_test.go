package engine

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zedge-io/zedge/store"
)

// failingBodies serves bodies from a map until told to fail.
type failingBodies struct {
	bodies map[uint64][]byte
	fail   atomic.Bool
}

func (f *failingBodies) LoadBodies(_, _ string, seqs []uint64, dst [][]byte) error {
	if f.fail.Load() {
		return errors.New("injected: disk read failed")
	}
	for i, s := range seqs {
		dst[i] = f.bodies[s]
	}
	return nil
}

// A renewal that fails reading the bodies it must rewrite changes nothing: the claim keeps its expiry in memory,
// as on disk, rather than hide its messages for the new ttl although the call failed.
func TestFailedRenewalChangesNothing(t *testing.T) {
	ctx := context.Background()
	loader := &failingBodies{bodies: map[uint64][]byte{}}
	e := New(Options{Bodies: loader, BodyMemoryMax: 0})
	defer e.Close()
	now := time.Unix(1_000_000, 0)
	ids, err := e.PostMessages(ctx, "p", "q", []store.NewMessage{{Body: []byte(`1`), TTL: time.Minute}}, now)
	if err != nil {
		t.Fatal(err)
	}
	seq, _ := ParseID(ids[0])
	loader.bodies[seq] = []byte(`1`)
	res, err := e.CreateClaim(ctx, "p", "q", store.ClaimSpec{TTL: time.Minute, Grace: time.Minute, Limit: 1}, now)
	if err != nil || len(res.Messages) != 1 {
		t.Fatalf("claim: %+v, %v", res, err)
	}

	loader.fail.Store(true)
	// The renewal extends the message's life, so it must rewrite the message and read its body.
	err = e.RenewClaim(ctx, "p", "q", res.Claim.ID, time.Hour, time.Hour, now)
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("renewal with a failing disk: %v, want ErrUnavailable", err)
	}
	later := now.Add(90 * time.Second) // the claim, not renewed, has ended; its message lives on
	st, err := e.Stats(ctx, "p", "q", later)
	if err != nil {
		t.Fatal(err)
	}
	if st.Claimed != 0 {
		t.Fatalf("after a failed renewal, %d messages are still claimed when the claim should have ended", st.Claimed)
	}
}
