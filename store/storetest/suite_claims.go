package storetest

import (
	"testing"
	"time"

	"github.com/zedge-io/zedge/store"
)

func testClaimCreate(t *testing.T, s store.Store) {
	c := newClock()
	all := post(t, s, proj, "q", c.now, msgs(time.Hour, `1`, `2`, `3`, `4`, `5`)...)
	res := claim(t, s, proj, "q", spec(3), c.now)
	eqSlice(t, "claimed", ids(res.Messages), all[:3])
	eqSlice(t, "claimed bodies", bodies(res.Messages), []string{`1`, `2`, `3`})
	eq(t, "dead-lettered", res.DeadLettered, 0)
	cl := res.Claim
	eq(t, "claim ttl", cl.TTL, 100*time.Second)
	eq(t, "claim grace", cl.Grace, 60*time.Second)
	eqTime(t, "claim updated", cl.Updated, c.now)
	eqTime(t, "claim expires", cl.Expires, c.now.Add(100*time.Second))
	for _, m := range res.Messages {
		eq(t, "message claim id", m.ClaimID, cl.ID)
		eq(t, "claim count", m.ClaimCount, 1)
		eqTime(t, "message claim expiry", m.ClaimExpires, cl.Expires)
		if !m.Claimed(c.now) {
			t.Fatalf("claimed message %s does not report Claimed", m.ID)
		}
	}
	// A second claim gets the rest, disjoint, with another id.
	res2 := claim(t, s, proj, "q", spec(10), c.now)
	eqSlice(t, "second claim", ids(res2.Messages), all[3:])
	if res2.Claim.ID == cl.ID {
		t.Fatal("two claims share an id")
	}
	// Nothing left: no messages and no claim.
	res3 := claim(t, s, proj, "q", spec(10), c.now)
	eq(t, "third claim", len(res3.Messages), 0)
	eq(t, "third claim id", res3.Claim.ID, "")
	// A missing queue is not an error and is not created.
	res4 := claim(t, s, proj, "missing", spec(10), c.now)
	eq(t, "claim of a missing queue", len(res4.Messages), 0)
	if _, err := s.GetQueue(ctx, proj, "missing"); err == nil {
		t.Fatal("claiming created the queue")
	}
}

func testClaimLifeExtension(t *testing.T, s store.Store) {
	c := newClock()
	ids0 := post(t, s, proj, "q", c.now, msg(`short`, 60*time.Second), msg(`long`, time.Hour))
	// ttl 60 claimed with ttl 100 and grace 60 reports ttl 160 and lives until now + 160.
	res := claim(t, s, proj, "q", store.ClaimSpec{TTL: 100 * time.Second, Grace: 60 * time.Second, Limit: 2}, c.now)
	eq(t, "extended ttl", res.Messages[0].TTL, 160*time.Second)
	eqTime(t, "extended expiry", res.Messages[0].Expires, c.now.Add(160*time.Second))
	eq(t, "long message ttl untouched", res.Messages[1].TTL, time.Hour)
	eqTime(t, "long message expiry untouched", res.Messages[1].Expires, c.now.Add(time.Hour))
	eqTime(t, "created kept", res.Messages[0].Created, c.now)

	// Renewed with ttl 200 (grace 60): 260.
	c.advance(10 * time.Second)
	must(t, s.RenewClaim(ctx, proj, "q", res.Claim.ID, 200*time.Second, 60*time.Second, c.now))
	got, err := s.GetMessages(ctx, proj, "q", ids0, c.now)
	must(t, err)
	eq(t, "renewed ttl", got[0].TTL, 260*time.Second)
	eqTime(t, "renewed expiry", got[0].Expires, c.now.Add(260*time.Second))
	eqTime(t, "claim expiry on message after renew", got[0].ClaimExpires, c.now.Add(200*time.Second))
	eq(t, "long message untouched by renew", got[1].TTL, time.Hour)
	cl, _, err := s.GetClaim(ctx, proj, "q", res.Claim.ID, c.now)
	must(t, err)
	eq(t, "renewed claim ttl", cl.TTL, 200*time.Second)
	eq(t, "renewed claim grace", cl.Grace, 60*time.Second)
	eqTime(t, "renewed claim updated", cl.Updated, c.now)
	eqTime(t, "renewed claim expires", cl.Expires, c.now.Add(200*time.Second))

	// The extended message really survives its original ttl, and disappears at its new expiry.
	c.advance(259 * time.Second)
	got, err = s.GetMessages(ctx, proj, "q", ids0[:1], c.now)
	must(t, err)
	eq(t, "alive before the extended expiry", len(got), 1)
	c.advance(time.Second)
	got, err = s.GetMessages(ctx, proj, "q", ids0[:1], c.now)
	must(t, err)
	eq(t, "gone at the extended expiry", len(got), 0)
}

func testClaimExpiry(t *testing.T, s store.Store) {
	c := newClock()
	all := post(t, s, proj, "q", c.now, msgs(time.Hour, `1`, `2`)...)
	res := claim(t, s, proj, "q", spec(10), c.now)
	c.advance(99 * time.Second)
	_, _, err := s.GetClaim(ctx, proj, "q", res.Claim.ID, c.now)
	must(t, err)
	eq(t, "still claimed", len(claim(t, s, proj, "q", spec(10), c.now).Messages), 0)

	c.advance(time.Second) // now == claim expiry: ended
	_, _, err = s.GetClaim(ctx, proj, "q", res.Claim.ID, c.now)
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.RenewClaim(ctx, proj, "q", res.Claim.ID, time.Minute, time.Minute, c.now), store.ErrNotFound)
	must(t, s.ReleaseClaim(ctx, proj, "q", res.Claim.ID, c.now))
	res2 := claim(t, s, proj, "q", spec(10), c.now)
	eqSlice(t, "claimable again", ids(res2.Messages), all)
	for _, m := range res2.Messages {
		eq(t, "claim count after the second claim", m.ClaimCount, 2)
	}
}

func testClaimRelease(t *testing.T, s store.Store) {
	c := newClock()
	all := post(t, s, proj, "q", c.now, msgs(time.Hour, `1`, `2`, `3`)...)
	res := claim(t, s, proj, "q", spec(2), c.now)
	must(t, s.ReleaseClaim(ctx, proj, "q", res.Claim.ID, c.now))
	_, _, err := s.GetClaim(ctx, proj, "q", res.Claim.ID, c.now)
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.RenewClaim(ctx, proj, "q", res.Claim.ID, time.Minute, time.Minute, c.now), store.ErrNotFound)
	page := list(t, s, proj, "q", store.MessageQuery{Limit: 10, Echo: true}, c.now)
	eqSlice(t, "listable after release", ids(page.Messages), all)
	if page.Messages[0].Claimed(c.now) {
		t.Fatal("released message still reports Claimed")
	}
	// Claim counts are kept across releases.
	res2 := claim(t, s, proj, "q", spec(10), c.now)
	eqSlice(t, "claimable after release", ids(res2.Messages), all)
	eq(t, "count kept", res2.Messages[0].ClaimCount, 2)
	eq(t, "count of the never-claimed", res2.Messages[2].ClaimCount, 1)
	// Releasing unknown claims, or in a missing queue, is fine.
	must(t, s.ReleaseClaim(ctx, proj, "q", "00000000-0000-4000-8000-000000000000", c.now))
	must(t, s.ReleaseClaim(ctx, proj, "missing", res.Claim.ID, c.now))
	must(t, s.ReleaseClaim(ctx, proj, "q", res.Claim.ID, c.now))
}

func testClaimChecksEveryMessage(t *testing.T, s store.Store) {
	c := newClock()
	all := post(t, s, proj, "q", c.now, msgs(time.Hour, `1`, `2`, `3`, `4`, `5`)...)
	c1 := claim(t, s, proj, "q", spec(2), c.now)
	c2 := claim(t, s, proj, "q", spec(2), c.now)
	eqSlice(t, "second claim", ids(c2.Messages), all[2:4])
	must(t, s.ReleaseClaim(ctx, proj, "q", c1.Claim.ID, c.now))
	// The free messages are 1, 2 and 5; 3 and 4 stay with the second claim.
	res := claim(t, s, proj, "q", spec(10), c.now)
	eqSlice(t, "claim after an out-of-order release", ids(res.Messages), []string{all[0], all[1], all[4]})

	// Short claims ending out of order are found too.
	c.advance(time.Hour - time.Minute)
	fresh := post(t, s, proj, "r", c.now, msgs(2*time.Hour, `a`, `b`, `c`)...)
	long := claim(t, s, proj, "r", store.ClaimSpec{TTL: 300 * time.Second, Grace: 60 * time.Second, Limit: 1}, c.now)
	short := claim(t, s, proj, "r", store.ClaimSpec{TTL: 60 * time.Second, Grace: 60 * time.Second, Limit: 1}, c.now)
	eqSlice(t, "long claim", ids(long.Messages), fresh[:1])
	eqSlice(t, "short claim", ids(short.Messages), fresh[1:2])
	eqSlice(t, "third", ids(claim(t, s, proj, "r", spec(10), c.now).Messages), fresh[2:])
	c.advance(60 * time.Second)
	eqSlice(t, "after the short claim ended", ids(claim(t, s, proj, "r", spec(10), c.now).Messages), fresh[1:2])
}

func testClaimGet(t *testing.T, s store.Store) {
	c := newClock()
	all := post(t, s, proj, "q", c.now, msgs(time.Hour, `1`, `2`, `3`)...)
	res := claim(t, s, proj, "q", spec(2), c.now)
	c.advance(5 * time.Second)
	cl, held, err := s.GetClaim(ctx, proj, "q", res.Claim.ID, c.now)
	must(t, err)
	eq(t, "id", cl.ID, res.Claim.ID)
	eqTime(t, "updated (age is measured from it)", cl.Updated, c.now.Add(-5*time.Second))
	eqSlice(t, "claimed messages", ids(held), all[:2])
	eqSlice(t, "claimed bodies", bodies(held), []string{`1`, `2`})
	_, _, err = s.GetClaim(ctx, proj, "q", "00000000-0000-4000-8000-000000000000", c.now)
	wantErr(t, err, store.ErrNotFound)
	_, _, err = s.GetClaim(ctx, proj, "missing", res.Claim.ID, c.now)
	wantErr(t, err, store.ErrNotFound)
	_, _, err = s.GetClaim(ctx, proj, "q2", res.Claim.ID, c.now)
	wantErr(t, err, store.ErrNotFound)
}

func dlSpec(limit, maxCount int, dlq string, dlTTL time.Duration) store.ClaimSpec {
	return store.ClaimSpec{TTL: 100 * time.Second, Grace: 60 * time.Second, Limit: limit,
		MaxClaimCount: maxCount, DeadLetterQueue: dlq, DeadLetterTTL: dlTTL}
}

func testDeadLetter(t *testing.T, s store.Store) {
	c := newClock()
	in := store.NewMessage{Body: []byte(`{"cmd":"on"}`), TTL: 300 * time.Second, ClientID: bob}
	id := post(t, s, proj, "q", c.now, in)[0]
	sp := dlSpec(10, 2, "dlq", 120*time.Second)
	// Claimed M=2 times...
	for i := 1; i <= 2; i++ {
		res := claim(t, s, proj, "q", sp, c.now)
		eqSlice(t, "claim before the limit", ids(res.Messages), []string{id})
		eq(t, "claim count", res.Messages[0].ClaimCount, i)
		must(t, s.ReleaseClaim(ctx, proj, "q", res.Claim.ID, c.now))
		c.advance(time.Second)
	}
	// ...and the third attempt moves it, in the same step, to the end of the dead-letter queue (created).
	if _, err := s.GetQueue(ctx, proj, "dlq"); err == nil {
		t.Fatal("dead-letter queue exists before anything moved")
	}
	res := claim(t, s, proj, "q", sp, c.now)
	eq(t, "messages of the dead-lettering claim", len(res.Messages), 0)
	eq(t, "claim of the dead-lettering claim", res.Claim.ID, "")
	eq(t, "dead-lettered", res.DeadLettered, 1)
	eq(t, "source after the move", len(listIDs(t, s, proj, "q", everything, c.now)), 0)
	q, err := s.GetQueue(ctx, proj, "dlq")
	must(t, err)
	eqJSON(t, "dead-letter queue metadata", q.Metadata, `{}`)

	moved := list(t, s, proj, "dlq", store.MessageQuery{Limit: 10, Echo: true}, c.now)
	if len(moved.Messages) != 1 {
		t.Fatalf("dead-letter queue holds %d messages, want 1 (unclaimed)", len(moved.Messages))
	}
	m := moved.Messages[0]
	eq(t, "moved body", string(m.Body), `{"cmd":"on"}`)
	eq(t, "moved poster", m.ClientID, bob)
	eq(t, "moved claim count", m.ClaimCount, 2)
	eq(t, "moved ttl", m.TTL, 120*time.Second)
	eqTime(t, "moved created", m.Created, c.now)
	eqTime(t, "moved expires", m.Expires, c.now.Add(120*time.Second))
	eq(t, "moved claim id", m.ClaimID, "")
	st, err := s.Stats(ctx, proj, "dlq", c.now)
	must(t, err)
	eq(t, "dead-letter stats", st.Total, 1)
	// It is a fresh message: claimable at once (no dead-lettering configured there).
	res = claim(t, s, proj, "dlq", spec(10), c.now)
	eq(t, "claim in the dead-letter queue", len(res.Messages), 1)
	eq(t, "its count keeps growing", res.Messages[0].ClaimCount, 3)
}

func testDeadLetterMixed(t *testing.T, s store.Store) {
	c := newClock()
	existing := post(t, s, proj, "dlq", c.now, msg(`old`, time.Hour))
	a := post(t, s, proj, "q", c.now, msg(`a`, time.Hour))
	sp := dlSpec(10, 1, "dlq", 0)
	first := claim(t, s, proj, "q", sp, c.now)
	must(t, s.ReleaseClaim(ctx, proj, "q", first.Claim.ID, c.now))
	b := post(t, s, proj, "q", c.now, msgs(time.Hour, `b`, `c`)...)
	// a has reached the count: it moves, b and c are claimed; the moved ones count toward the limit.
	res := claim(t, s, proj, "q", dlSpec(2, 1, "dlq", 0), c.now)
	eq(t, "dead-lettered", res.DeadLettered, 1)
	eqSlice(t, "claimed", ids(res.Messages), b[:1])
	res = claim(t, s, proj, "q", sp, c.now)
	eqSlice(t, "claimed next", ids(res.Messages), b[1:])
	// Appended after what the dead-letter queue already had.
	dl := list(t, s, proj, "dlq", everything, c.now)
	eqSlice(t, "dead-letter queue order", bodies(dl.Messages), []string{`old`, `a`})
	eq(t, "kept old id", dl.Messages[0].ID, existing[0])
	eq(t, "the moved message is unclaimed", dl.Messages[1].Claimed(c.now), false)
	eq(t, "the moved message's count", dl.Messages[1].ClaimCount, 1)
	eq(t, "nothing left in the source", len(listIDs(t, s, proj, "q", store.MessageQuery{Limit: 10, Echo: true}, c.now)), 0)
	if got, _ := s.GetMessages(ctx, proj, "q", a, c.now); len(got) != 0 {
		t.Fatal("the moved message is still in the source queue")
	}
}

func testDeadLetterOriginalTTL(t *testing.T, s store.Store) {
	c := newClock()
	post(t, s, proj, "q", c.now, msg(`x`, 300*time.Second))
	// A claim that extends the message's life does not change the ttl it moves with.
	sp := store.ClaimSpec{TTL: 400 * time.Second, Grace: 60 * time.Second, Limit: 1, MaxClaimCount: 1, DeadLetterQueue: "dlq"}
	res := claim(t, s, proj, "q", sp, c.now)
	eq(t, "extended", res.Messages[0].TTL, 460*time.Second)
	must(t, s.ReleaseClaim(ctx, proj, "q", res.Claim.ID, c.now))
	res = claim(t, s, proj, "q", sp, c.now)
	eq(t, "dead-lettered", res.DeadLettered, 1)
	dl := list(t, s, proj, "dlq", everything, c.now)
	eq(t, "moved with the original ttl", dl.Messages[0].TTL, 300*time.Second)
	eqTime(t, "fresh expiry", dl.Messages[0].Expires, c.now.Add(300*time.Second))
}

func testNoDeadLetter(t *testing.T, s store.Store) {
	c := newClock()
	post(t, s, proj, "q", c.now, msg(`x`, time.Hour))
	for i, sp := range []store.ClaimSpec{dlSpec(1, 0, "dlq", 0), dlSpec(1, 1, "", 0), dlSpec(1, 0, "", 0)} {
		res := claim(t, s, proj, "q", sp, c.now)
		eq(t, "claimed without dead-lettering", len(res.Messages), 1)
		eq(t, "count", res.Messages[0].ClaimCount, i+1)
		must(t, s.ReleaseClaim(ctx, proj, "q", res.Claim.ID, c.now))
	}
	if _, err := s.GetQueue(ctx, proj, "dlq"); err == nil {
		t.Fatal("dead-letter queue created without dead-lettering")
	}
}
