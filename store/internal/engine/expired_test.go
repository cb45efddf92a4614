package engine

import (
	"sync"
	"testing"
	"time"

	"github.com/zedge-io/zedge/store"
)

// Expired messages are counted once, per queue, whether the reaper or an operation on the queue drops them;
// deleted messages are not counted.
func TestExpiredMessagesCounted(t *testing.T) {
	e := New(Options{})
	defer e.Close()
	var mu sync.Mutex
	seen := map[string]int{}
	e.SetExpiryObserver(func(project, queue string, n int) {
		mu.Lock()
		seen[project+"/"+queue] += n
		mu.Unlock()
	})
	now := time.Now()
	short := func(n int) []store.NewMessage {
		out := make([]store.NewMessage, n)
		for i := range out {
			out[i] = store.NewMessage{Body: []byte(`1`), TTL: time.Minute}
		}
		return out
	}
	if _, err := e.PostMessages(bg, "p", "a-1", short(3), now); err != nil {
		t.Fatal(err)
	}
	ids, err := e.PostMessages(bg, "p", "b-1", short(2), now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.PostMessages(bg, "p", "b-1", one("lives"), now); err != nil {
		t.Fatal(err)
	}
	if err := e.DeleteMessage(bg, "p", "b-1", ids[0], "", now); err != nil {
		t.Fatal(err)
	}
	later := now.Add(2 * time.Minute)
	// An operation on b-1 drops its expired message; the reaper (driven here by hand) drops a-1's.
	page, err := e.ListMessages(bg, "p", "b-1", store.MessageQuery{Limit: 10, Echo: true}, later)
	if err != nil || len(page.Messages) != 1 {
		t.Fatalf("b-1 lists %d messages (%v), want the one that lives", len(page.Messages), err)
	}
	e.Reap()
	e.Reap() // nothing left to count twice
	mu.Lock()
	defer mu.Unlock()
	if seen["p/a-1"] != 3 || seen["p/b-1"] != 1 || len(seen) != 2 {
		t.Errorf("observer saw %v, want p/a-1:3 p/b-1:1", seen)
	}
	if got := e.ExpiredMessages(); got != 4 {
		t.Errorf("ExpiredMessages = %d, want 4", got)
	}
}

// With DeleteExpired the reaper writes a delete record for every expired message, whether it or an operation
// dropped it from memory, once; without it nothing is written.
func TestReaperDeletesExpired(t *testing.T) {
	for _, del := range []bool{true, false} {
		l := &gateLog{autoComplete: true}
		e := New(Options{Log: l, DeleteExpired: del})
		now := time.Now()
		msgs := []store.NewMessage{{Body: []byte(`1`), TTL: time.Minute}, {Body: []byte(`2`), TTL: time.Minute},
			{Body: []byte(`3`), TTL: time.Hour}}
		ids, err := e.PostMessages(bg, "p", "a", msgs, now)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.PostMessages(bg, "p", "b", msgs[:1], now); err != nil {
			t.Fatal(err)
		}
		later := now.Add(2 * time.Minute)
		if _, err := e.ListMessages(bg, "p", "a", store.MessageQuery{Limit: 10, Echo: true}, later); err != nil {
			t.Fatal(err)
		}
		e.Reap()
		e.Reap()
		l.mu.Lock()
		deleted := append([]uint64(nil), l.deleted...)
		l.mu.Unlock()
		want := 0
		if del {
			want = 3 // two in a (dropped by the list), one in b (by the reaper)
		}
		if len(deleted) != want {
			t.Errorf("DeleteExpired %v: %d delete records %v, want %d", del, len(deleted), deleted, want)
		}
		if del {
			if got, err := e.GetMessages(bg, "p", "a", ids[2:], later); err != nil || len(got) != 1 {
				t.Errorf("the live message: %d found, %v", len(got), err)
			}
		}
		e.Close()
	}
}
