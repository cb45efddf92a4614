package broker

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/zedge-io/zedge/store/memstore"
	"github.com/zedge-io/zedge/store/storetest"
)

// fakeClock is a settable clock for the service.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 11, 22, 2, 12, 47, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is a service over a memstore behind storetest.Faulty, with a fake clock.
type env struct {
	svc   *Service
	st    *storetest.Faulty
	clock *fakeClock
	ctx   context.Context
}

const proj = "proj-1"

var (
	producer = Caller{Project: proj, ClientID: ClientID{0xaa, 1}}
	consumer = Caller{Project: proj, ClientID: ClientID{0xbb, 2}}
)

func newEnv(t testing.TB, opts ...Option) *env {
	t.Helper()
	mem := memstore.New()
	t.Cleanup(func() { _ = mem.Close() })
	fs := storetest.NewFaulty(mem)
	clock := newFakeClock()
	svc, err := New(fs, DefaultConfig(), append([]Option{WithClock(clock.Now)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return &env{svc: svc, st: fs, clock: clock, ctx: context.Background()}
}

// post posts bodies (raw JSON values) with the default ttl and returns the ids.
func (e *env) post(t testing.TB, c Caller, queue string, bodies ...string) []string {
	t.Helper()
	body := `{"messages": [`
	for i, b := range bodies {
		if i > 0 {
			body += ","
		}
		body += `{"body": ` + b + `}`
	}
	body += `]}`
	ids, err := e.svc.PostMessages(e.ctx, c, queue, []byte(body), 0)
	if err != nil {
		t.Fatalf("post: %v", err)
	}
	return ids
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func msgIDs(ms []Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

func sameStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
