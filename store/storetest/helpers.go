package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/zedge-io/zedge/store"
)

// clock is the suite's fake clock. It starts at the current second so that backends whose storage expires data
// by the wall clock agree with it, and it only moves forward.
type clock struct{ now time.Time }

func newClock() *clock { return &clock{now: time.Now().Truncate(time.Second)} }

func (c *clock) advance(d time.Duration) time.Time {
	c.now = c.now.Add(d)
	return c.now
}

var ctx = context.Background()

const (
	proj  = "p1"
	other = "p2"
)

var (
	alice = store.ClientID{1, 2, 3}
	bob   = store.ClientID{9, 8, 7}
)

func msg(body string, ttl time.Duration) store.NewMessage {
	return store.NewMessage{Body: []byte(body), TTL: ttl, ClientID: alice}
}

func msgs(ttl time.Duration, bodies ...string) []store.NewMessage {
	out := make([]store.NewMessage, len(bodies))
	for i, b := range bodies {
		out[i] = msg(b, ttl)
	}
	return out
}

func post(t testing.TB, s store.Store, project, queue string, now time.Time, m ...store.NewMessage) []string {
	t.Helper()
	ids, err := s.PostMessages(ctx, project, queue, m, now)
	if err != nil {
		t.Fatalf("PostMessages(%s/%s): %v", project, queue, err)
	}
	if len(ids) != len(m) {
		t.Fatalf("PostMessages returned %d ids for %d messages", len(ids), len(m))
	}
	return ids
}

// all lists every message visible with the most inclusive query.
var everything = store.MessageQuery{Limit: 1000, Echo: true, IncludeClaimed: true, IncludeDelayed: true}

func list(t testing.TB, s store.Store, project, queue string, q store.MessageQuery, now time.Time) store.MessagePage {
	t.Helper()
	page, err := s.ListMessages(ctx, project, queue, q, now)
	if err != nil {
		t.Fatalf("ListMessages(%s/%s): %v", project, queue, err)
	}
	if page.Messages == nil {
		t.Fatalf("ListMessages returned a nil slice")
	}
	return page
}

func listIDs(t testing.TB, s store.Store, project, queue string, q store.MessageQuery, now time.Time) []string {
	t.Helper()
	return ids(list(t, s, project, queue, q, now).Messages)
}

func ids(ms []store.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

func bodies(ms []store.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = string(m.Body)
	}
	return out
}

func claim(t testing.TB, s store.Store, project, queue string, spec store.ClaimSpec, now time.Time) store.ClaimResult {
	t.Helper()
	res, err := s.CreateClaim(ctx, project, queue, spec, now)
	if err != nil {
		t.Fatalf("CreateClaim(%s/%s): %v", project, queue, err)
	}
	if res.Messages == nil {
		t.Fatalf("CreateClaim returned a nil message slice")
	}
	if len(res.Messages) == 0 && res.Claim.ID != "" {
		t.Fatalf("CreateClaim created claim %q without messages", res.Claim.ID)
	}
	if len(res.Messages) > 0 && res.Claim.ID == "" {
		t.Fatalf("CreateClaim returned messages without a claim")
	}
	return res
}

func spec(limit int) store.ClaimSpec {
	return store.ClaimSpec{TTL: 100 * time.Second, Grace: 60 * time.Second, Limit: limit}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t testing.TB, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("got error %v, want %v", err, want)
	}
}

func eq[T comparable](t testing.TB, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}

func eqSlice[T comparable](t testing.TB, what string, got, want []T) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}

func eqTime(t testing.TB, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}

func eqJSON(t testing.TB, what string, got []byte, want string) {
	t.Helper()
	if !bytes.Equal(got, []byte(want)) {
		t.Fatalf("%s = %s, want %s", what, got, want)
	}
}

func numbered(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf(`{"%s":%d}`, prefix, i)
	}
	return out
}
