package engine

import (
	"math/rand/v2"
	"testing"
)

func TestExpiryHeap(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var h expiryHeap
	live := map[*Msg]bool{}
	for i := range 2000 {
		switch op := r.IntN(4); {
		case op < 2 || len(live) == 0:
			m := &Msg{Seq: uint64(i), Expires: r.Int64N(1000)}
			h.push(m)
			live[m] = true
		case op == 2:
			for m := range live {
				h.remove(m)
				delete(live, m)
				if m.heapIdx != -1 {
					t.Fatal("removed message keeps its index")
				}
				break
			}
		default:
			for m := range live {
				m.Expires = r.Int64N(1000)
				h.fix(m)
				break
			}
		}
		if len(h) != len(live) {
			t.Fatalf("heap holds %d, want %d", len(h), len(live))
		}
		for m := range live {
			if h.min().Expires > m.Expires {
				t.Fatalf("min %d is above %d", h.min().Expires, m.Expires)
			}
			if h[m.heapIdx] != m {
				t.Fatal("index out of date")
			}
		}
	}
}
