package storetest

import (
	"testing"
	"time"

	"github.com/zedge-io/zedge/store"
)

func testPostList(t *testing.T, s store.Store) {
	c := newClock()
	in := []store.NewMessage{
		{Body: []byte(`{"event":"one"}`), TTL: 300 * time.Second, ClientID: alice},
		{Body: []byte(`[1, 2, 3]`), TTL: 60 * time.Second, ClientID: bob},
		{Body: []byte(`null`), TTL: time.Hour, ClientID: alice},
	}
	got := post(t, s, proj, "q", c.now, in...)
	seen := map[string]bool{}
	for _, id := range got {
		if id == "" || seen[id] {
			t.Fatalf("ids %v are not distinct and non-empty", got)
		}
		seen[id] = true
	}
	page := list(t, s, proj, "q", everything, c.now)
	eqSlice(t, "listed ids", ids(page.Messages), got)
	for i, m := range page.Messages {
		eq(t, "body", string(m.Body), string(in[i].Body))
		eq(t, "ttl", m.TTL, in[i].TTL)
		eqTime(t, "created", m.Created, c.now)
		eqTime(t, "expires", m.Expires, c.now.Add(in[i].TTL))
		eq(t, "client id", m.ClientID, in[i].ClientID)
		eq(t, "claim id", m.ClaimID, "")
		eq(t, "claim count", m.ClaimCount, 0)
		if m.Claimed(c.now) || m.Delayed(c.now) {
			t.Fatalf("fresh message %s is claimed or delayed", m.ID)
		}
	}
	if page.Marker == "" {
		t.Fatal("a non-empty page has no marker")
	}
	// The marker resumes after the last message: nothing is left.
	rest := list(t, s, proj, "q", store.MessageQuery{Marker: page.Marker, Limit: 10, Echo: true}, c.now)
	eq(t, "messages after the last marker", len(rest.Messages), 0)
	eq(t, "marker of an empty page", rest.Marker, "")

	// A missing queue lists as an empty page.
	empty := list(t, s, proj, "missing", everything, c.now)
	eq(t, "missing queue", len(empty.Messages), 0)
	eq(t, "missing queue marker", empty.Marker, "")
	if _, err := s.GetQueue(ctx, proj, "missing"); err == nil {
		t.Fatal("listing created the queue")
	}
}

func testFIFO(t *testing.T, s store.Store) {
	c := newClock()
	var want []string
	for i := range 5 {
		want = append(want, post(t, s, proj, "q", c.now, msgs(time.Hour, numbered("b"+string(rune('0'+i)), 3)...)...)...)
		c.advance(time.Second)
	}
	// A second queue interleaved must not disturb the order.
	post(t, s, proj, "other", c.now, msgs(time.Hour, `x`)...)
	want = append(want, post(t, s, proj, "q", c.now, msg(`last`, time.Hour))...)
	eqSlice(t, "post order", listIDs(t, s, proj, "q", everything, c.now), want)
	// Claims take from the head in the same order.
	res := claim(t, s, proj, "q", spec(4), c.now)
	eqSlice(t, "claim order", ids(res.Messages), want[:4])
	popped, err := s.PopMessages(ctx, proj, "q", 3, c.now)
	must(t, err)
	eqSlice(t, "pop order", ids(popped), want[4:7])
}

func testPaging(t *testing.T, s store.Store) {
	c := newClock()
	all := post(t, s, proj, "q", c.now, msgs(time.Hour, numbered("m", 7)...)...)
	q := store.MessageQuery{Limit: 3, Echo: true}
	var got []string
	for range 10 {
		page := list(t, s, proj, "q", q, c.now)
		if len(page.Messages) == 0 {
			eq(t, "empty page marker", page.Marker, "")
			break
		}
		if len(page.Messages) > 3 {
			t.Fatalf("page of %d for limit 3", len(page.Messages))
		}
		got = append(got, ids(page.Messages)...)
		q.Marker = page.Marker
	}
	eqSlice(t, "paged ids", got, all)

	// Deleting the message a marker points at does not lose the rest.
	first := list(t, s, proj, "q", store.MessageQuery{Limit: 2, Echo: true}, c.now)
	must(t, s.DeleteMessage(ctx, proj, "q", first.Messages[1].ID, "", c.now))
	next := list(t, s, proj, "q", store.MessageQuery{Limit: 2, Echo: true, Marker: first.Marker}, c.now)
	eqSlice(t, "page after a deleted marker", ids(next.Messages), all[2:4])

	// Messages posted after the last page show up with its marker.
	last := list(t, s, proj, "q", store.MessageQuery{Limit: 100, Echo: true}, c.now)
	more := post(t, s, proj, "q", c.now, msg(`more`, time.Hour))
	eqSlice(t, "new after marker", listIDs(t, s, proj, "q", store.MessageQuery{Limit: 10, Echo: true, Marker: last.Marker}, c.now), more)
}

func testBadMarkers(t *testing.T, s store.Store) {
	c := newClock()
	post(t, s, proj, "q", c.now, msgs(time.Hour, `1`, `2`)...)
	for _, m := range []string{"abc", "-1", "1.5", " 1", "0x10", "１", "99999999999999999999999", "18446744073709551615", "18446744073709551614"} {
		page := list(t, s, proj, "q", store.MessageQuery{Limit: 10, Echo: true, Marker: m}, c.now)
		if len(page.Messages) != 0 {
			t.Fatalf("marker %q gave %d messages, want an empty page", m, len(page.Messages))
		}
	}
	// A marker the store returned resumes correctly.
	page := list(t, s, proj, "q", store.MessageQuery{Limit: 1, Echo: true}, c.now)
	eq(t, "rest after first marker", len(list(t, s, proj, "q", store.MessageQuery{Limit: 10, Echo: true, Marker: page.Marker}, c.now).Messages), 1)
}

func testEcho(t *testing.T, s store.Store) {
	c := newClock()
	a := post(t, s, proj, "q", c.now, store.NewMessage{Body: []byte(`"a"`), TTL: time.Hour, ClientID: alice})
	b := post(t, s, proj, "q", c.now, store.NewMessage{Body: []byte(`"b"`), TTL: time.Hour, ClientID: bob})
	eqSlice(t, "alice without echo", listIDs(t, s, proj, "q", store.MessageQuery{Limit: 10, ClientID: alice}, c.now), b)
	eqSlice(t, "bob without echo", listIDs(t, s, proj, "q", store.MessageQuery{Limit: 10, ClientID: bob}, c.now), a)
	eqSlice(t, "alice with echo", listIDs(t, s, proj, "q", store.MessageQuery{Limit: 10, ClientID: alice, Echo: true}, c.now), append(a, b...))
	// Claims ignore echo.
	res := claim(t, s, proj, "q", spec(10), c.now)
	eq(t, "claimed own messages too", len(res.Messages), 2)
}

func testIncludeClaimed(t *testing.T, s store.Store) {
	c := newClock()
	all := post(t, s, proj, "q", c.now, msgs(time.Hour, `1`, `2`, `3`)...)
	res := claim(t, s, proj, "q", spec(2), c.now)
	q := store.MessageQuery{Limit: 10, Echo: true}
	eqSlice(t, "without claimed", listIDs(t, s, proj, "q", q, c.now), all[2:])
	q.IncludeClaimed = true
	page := list(t, s, proj, "q", q, c.now)
	eqSlice(t, "with claimed", ids(page.Messages), all)
	for _, m := range page.Messages[:2] {
		eq(t, "listed claim id", m.ClaimID, res.Claim.ID)
		if !m.Claimed(c.now) {
			t.Fatalf("listed message %s is not claimed", m.ID)
		}
		eqTime(t, "listed claim expiry", m.ClaimExpires, res.Claim.Expires)
	}
	// After the claim ends they list again without include_claimed, and keep their last claim id.
	c.advance(101 * time.Second)
	q.IncludeClaimed = false
	page = list(t, s, proj, "q", q, c.now)
	eqSlice(t, "after the claim ended", ids(page.Messages), all)
	eq(t, "stale claim id kept", page.Messages[0].ClaimID, res.Claim.ID)
	if page.Messages[0].Claimed(c.now) {
		t.Fatal("message still claimed after the claim ended")
	}
}

func testDelayed(t *testing.T, s store.Store) {
	c := newClock()
	d := msg(`delayed`, time.Hour)
	d.Delay = 30 * time.Second
	ids0 := post(t, s, proj, "q", c.now, d, msg(`now`, time.Hour))
	q := store.MessageQuery{Limit: 10, Echo: true}
	eqSlice(t, "delayed hidden", listIDs(t, s, proj, "q", q, c.now), ids0[1:])
	q.IncludeDelayed = true
	page := list(t, s, proj, "q", q, c.now)
	eqSlice(t, "include_delayed", ids(page.Messages), ids0)
	eqTime(t, "delay until", page.Messages[0].DelayUntil, c.now.Add(30*time.Second))
	if !page.Messages[0].Delayed(c.now) || page.Messages[1].Delayed(c.now) {
		t.Fatal("Delayed() disagrees with the delay")
	}
	// Fetchable by id and counted while delayed, but neither claimable nor poppable.
	got, err := s.GetMessages(ctx, proj, "q", ids0[:1], c.now)
	must(t, err)
	eq(t, "get delayed", len(got), 1)
	st, err := s.Stats(ctx, proj, "q", c.now)
	must(t, err)
	eq(t, "stats count the delayed", st.Total, 2)
	res := claim(t, s, proj, "q", spec(10), c.now)
	eqSlice(t, "claim skips the delayed", ids(res.Messages), ids0[1:])
	popped, err := s.PopMessages(ctx, proj, "q", 10, c.now)
	must(t, err)
	eq(t, "pop skips the delayed", len(popped), 0)

	// Once the delay has passed it behaves normally; the ttl clock started at post.
	c.advance(30 * time.Second)
	q.IncludeDelayed = false
	eqSlice(t, "after the delay", listIDs(t, s, proj, "q", q, c.now), ids0[:1])
	res = claim(t, s, proj, "q", spec(10), c.now)
	eqSlice(t, "claimable after the delay", ids(res.Messages), ids0[:1])
	eqTime(t, "expiry counts from post", res.Messages[0].Expires, c.now.Add(-30*time.Second+time.Hour))
}

func testMessageExpiry(t *testing.T, s store.Store) {
	c := newClock()
	t0 := c.now
	ids0 := post(t, s, proj, "q", t0, msg(`short`, 60*time.Second), msg(`long`, time.Hour))
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	eq(t, "alive just before expiry", len(listIDs(t, s, proj, "q", everything, at(59*time.Second))), 2)
	got, err := s.GetMessages(ctx, proj, "q", ids0, at(59*time.Second))
	must(t, err)
	eq(t, "get just before expiry", len(got), 2)

	// now >= expires means gone, everywhere.
	c.advance(60 * time.Second)
	eqSlice(t, "list at expiry", listIDs(t, s, proj, "q", everything, c.now), ids0[1:])
	got, err = s.GetMessages(ctx, proj, "q", ids0, c.now)
	must(t, err)
	eqSlice(t, "get at expiry", ids(got), ids0[1:])
	must(t, s.DeleteMessage(ctx, proj, "q", ids0[0], "", c.now))
	must(t, s.DeleteMessage(ctx, proj, "q", ids0[0], "00000000-0000-4000-8000-000000000000", c.now))
	res := claim(t, s, proj, "q", spec(10), c.now)
	eqSlice(t, "claim at expiry", ids(res.Messages), ids0[1:])
	must(t, s.ReleaseClaim(ctx, proj, "q", res.Claim.ID, c.now))
	popped, err := s.PopMessages(ctx, proj, "q", 10, c.now)
	must(t, err)
	eqSlice(t, "pop at expiry", ids(popped), ids0[1:])
}

func testGetMessages(t *testing.T, s store.Store) {
	c := newClock()
	all := post(t, s, proj, "q", c.now, msgs(time.Hour, `1`, `2`, `3`)...)
	otherQ := post(t, s, proj, "q2", c.now, msg(`x`, time.Hour))
	got, err := s.GetMessages(ctx, proj, "q", []string{all[2], "nope", all[0], all[2], otherQ[0], ""}, c.now)
	must(t, err)
	eqSlice(t, "get in post order, found only, once", ids(got), []string{all[0], all[2]})
	eqSlice(t, "bodies", bodies(got), []string{`1`, `3`})
	got, err = s.GetMessages(ctx, proj, "missing", all, c.now)
	must(t, err)
	eq(t, "get from a missing queue", len(got), 0)
	// Claimed messages are returned with their claim.
	res := claim(t, s, proj, "q", spec(1), c.now)
	got, err = s.GetMessages(ctx, proj, "q", all[:1], c.now)
	must(t, err)
	eq(t, "claim id on get", got[0].ClaimID, res.Claim.ID)
	eq(t, "claim count on get", got[0].ClaimCount, 1)
}

func testDeleteRules(t *testing.T, s store.Store) {
	c := newClock()
	ids0 := post(t, s, proj, "q", c.now, msgs(time.Hour, `0`, `1`, `2`, `3`, `4`, `5`)...)
	exists := func(id string) bool {
		got, err := s.GetMessages(ctx, proj, "q", []string{id}, c.now)
		must(t, err)
		return len(got) == 1
	}
	const unknownClaim = "00000000-0000-4000-8000-000000000000"

	// Not claimed, no claim id: deleted.
	must(t, s.DeleteMessage(ctx, proj, "q", ids0[0], "", c.now))
	eq(t, "deleted unclaimed", exists(ids0[0]), false)
	// Idempotent: already deleted, unknown id, missing queue.
	must(t, s.DeleteMessage(ctx, proj, "q", ids0[0], "", c.now))
	must(t, s.DeleteMessage(ctx, proj, "q", "unknown", "", c.now))
	must(t, s.DeleteMessage(ctx, proj, "missing", ids0[1], "", c.now))
	must(t, s.DeleteMessage(ctx, proj, "q", ids0[0], unknownClaim, c.now))

	// Not claimed, a claim id given: not claimed.
	wantErr(t, s.DeleteMessage(ctx, proj, "q", ids0[1], unknownClaim, c.now), store.ErrNotClaimed)
	eq(t, "kept after ErrNotClaimed", exists(ids0[1]), true)

	c1 := claim(t, s, proj, "q", spec(2), c.now) // ids0[1], ids0[2]
	c2 := claim(t, s, proj, "q", spec(1), c.now) // ids0[3]
	eqSlice(t, "first claim", ids(c1.Messages), ids0[1:3])

	// Claimed, no claim id: claimed.
	wantErr(t, s.DeleteMessage(ctx, proj, "q", ids0[1], "", c.now), store.ErrClaimed)
	// Claimed, another live claim's id: claimed.
	wantErr(t, s.DeleteMessage(ctx, proj, "q", ids0[1], c2.Claim.ID, c.now), store.ErrClaimed)
	// Claimed, an unknown claim id: claim not found.
	wantErr(t, s.DeleteMessage(ctx, proj, "q", ids0[1], unknownClaim, c.now), store.ErrClaimNotFound)
	wantErr(t, s.DeleteMessage(ctx, proj, "q", ids0[1], "not-a-uuid", c.now), store.ErrClaimNotFound)
	eq(t, "kept after refused deletes", exists(ids0[1]), true)
	// Claimed, its own claim id: deleted; the claim keeps its other message.
	must(t, s.DeleteMessage(ctx, proj, "q", ids0[1], c1.Claim.ID, c.now))
	eq(t, "deleted under its claim", exists(ids0[1]), false)
	_, held, err := s.GetClaim(ctx, proj, "q", c1.Claim.ID, c.now)
	must(t, err)
	eqSlice(t, "claim after deleting one of its messages", ids(held), ids0[2:3])

	// Released claim: its id no longer counts as a claim.
	must(t, s.ReleaseClaim(ctx, proj, "q", c2.Claim.ID, c.now))
	wantErr(t, s.DeleteMessage(ctx, proj, "q", ids0[3], c2.Claim.ID, c.now), store.ErrNotClaimed)
	// An ended claim: the same.
	c.advance(101 * time.Second)
	wantErr(t, s.DeleteMessage(ctx, proj, "q", ids0[2], c1.Claim.ID, c.now), store.ErrNotClaimed)
	must(t, s.DeleteMessage(ctx, proj, "q", ids0[2], "", c.now))
	eq(t, "deleted after its claim ended", exists(ids0[2]), false)

	// A message claimed by a live claim, named with an ended claim's id: that claim does not exist.
	c3 := claim(t, s, proj, "q", spec(1), c.now)
	eqSlice(t, "third claim", ids(c3.Messages), ids0[3:4])
	wantErr(t, s.DeleteMessage(ctx, proj, "q", ids0[3], c1.Claim.ID, c.now), store.ErrClaimNotFound)
}

func testDeleteMany(t *testing.T, s store.Store) {
	c := newClock()
	all := post(t, s, proj, "q", c.now, msgs(time.Hour, `1`, `2`, `3`, `4`)...)
	claim(t, s, proj, "q", spec(2), c.now)
	// Bulk delete ignores claims and unknown ids.
	must(t, s.DeleteMessages(ctx, proj, "q", []string{all[0], all[2], "nope", all[0]}, c.now))
	eqSlice(t, "left after bulk delete", listIDs(t, s, proj, "q", everything, c.now), []string{all[1], all[3]})
	must(t, s.DeleteMessages(ctx, proj, "missing", all, c.now))
	must(t, s.DeleteMessages(ctx, other, "q", all, c.now))
	eq(t, "other project's bulk delete", len(listIDs(t, s, proj, "q", everything, c.now)), 2)
}

func testPop(t *testing.T, s store.Store) {
	c := newClock()
	all := post(t, s, proj, "q", c.now, msgs(time.Hour, `1`, `2`, `3`, `4`, `5`)...)
	claim(t, s, proj, "q", spec(2), c.now) // 1, 2
	popped, err := s.PopMessages(ctx, proj, "q", 2, c.now)
	must(t, err)
	eqSlice(t, "pop skips claimed", ids(popped), all[2:4])
	eqSlice(t, "pop bodies", bodies(popped), []string{`3`, `4`})
	eqSlice(t, "left after pop", listIDs(t, s, proj, "q", everything, c.now), []string{all[0], all[1], all[4]})
	popped, err = s.PopMessages(ctx, proj, "q", 10, c.now)
	must(t, err)
	eqSlice(t, "second pop", ids(popped), all[4:])
	popped, err = s.PopMessages(ctx, proj, "q", 10, c.now)
	must(t, err)
	eq(t, "pop with only claimed left", len(popped), 0)
	if popped == nil {
		t.Fatal("pop returned a nil slice")
	}
	// After the claim ends they can be popped.
	c.advance(101 * time.Second)
	popped, err = s.PopMessages(ctx, proj, "q", 10, c.now)
	must(t, err)
	eqSlice(t, "pop after the claim ended", ids(popped), all[:2])
	popped, err = s.PopMessages(ctx, proj, "missing", 10, c.now)
	must(t, err)
	eq(t, "pop of a missing queue", len(popped), 0)
}

func testPurge(t *testing.T, s store.Store) {
	c := newClock()
	_, err := s.CreateQueue(ctx, proj, "q", []byte(`{"k":1}`), c.now)
	must(t, err)
	post(t, s, proj, "q", c.now, msgs(time.Hour, `1`, `2`, `3`)...)
	res := claim(t, s, proj, "q", spec(2), c.now)
	must(t, s.PurgeMessages(ctx, proj, "q"))
	eq(t, "messages after purge", len(listIDs(t, s, proj, "q", everything, c.now)), 0)
	_, _, err = s.GetClaim(ctx, proj, "q", res.Claim.ID, c.now)
	wantErr(t, err, store.ErrNotFound)
	q, err := s.GetQueue(ctx, proj, "q")
	must(t, err)
	eqJSON(t, "queue kept by purge", q.Metadata, `{"k":1}`)
	fresh := post(t, s, proj, "q", c.now, msg(`4`, time.Hour))
	res = claim(t, s, proj, "q", spec(10), c.now)
	eqSlice(t, "claim after purge", ids(res.Messages), fresh)
	must(t, s.PurgeMessages(ctx, proj, "missing"))
}
