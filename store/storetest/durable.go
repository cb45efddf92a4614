package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/zedge-io/zedge/store"
)

// Open opens the store kept in dir, creating it if needed. The test closes what it opens.
type Open func(t *testing.T, dir string) store.Store

// RunDurable checks that a backend keeps its state across Close and reopen: queues, messages (order, ids,
// bodies, claim state and counts), claims, subscriptions, deletions, and that ids handed out after reopening
// never collide with earlier ones.
func RunDurable(t *testing.T, open Open) {
	t.Run("Reopen", func(t *testing.T) { testReopen(t, open) })
	t.Run("ReopenTwiceAndEmpty", func(t *testing.T) { testReopenTwice(t, open) })
	t.Run("DeletedQueueStaysDeleted", func(t *testing.T) { testDeletedQueueStaysDeleted(t, open) })
}

// testDeletedQueueStaysDeleted deletes a queue after its messages expired and its claim ended (by the callers'
// clock, which may run ahead of the storage's): nothing of the queue may bring it back after a reopen.
func testDeletedQueueStaysDeleted(t *testing.T, open Open) {
	dir := t.TempDir()
	c := newClock()
	s := open(t, dir)
	post(t, s, proj, "gone", c.now, msg(`"claimed"`, time.Hour), msg(`"expires"`, time.Minute))
	claim(t, s, proj, "gone", store.ClaimSpec{TTL: time.Minute, Limit: 1}, c.now)
	c.advance(2 * time.Minute)
	eq(t, "live messages after the expiry", len(listIDs(t, s, proj, "gone", everything, c.now)), 1)
	st, err := s.Stats(ctx, proj, "gone", c.now)
	must(t, err)
	eq(t, "claimed after the claim ended", st.Claimed, 0)
	must(t, s.DeleteQueue(ctx, proj, "gone"))
	must(t, s.Close())

	s = open(t, dir)
	_, err = s.GetQueue(ctx, proj, "gone")
	wantErr(t, err, store.ErrNotFound)
	n, err := s.CountQueues(ctx, proj)
	must(t, err)
	eq(t, "queues after reopen", n, 0)
	must(t, s.Close())
}

// snapshot is everything a client can observe, for comparison across a reopen.
type snapshot struct {
	queues []store.Queue
	msgs   map[string][]store.Message
	claims map[string]store.Claim
	held   map[string][]string
	subs   map[string][]store.Subscription
	stats  map[string]store.QueueStats
}

func takeSnapshot(t *testing.T, s store.Store, now time.Time, claimIDs map[string]string) snapshot {
	t.Helper()
	sn := snapshot{msgs: map[string][]store.Message{}, claims: map[string]store.Claim{}, held: map[string][]string{},
		subs: map[string][]store.Subscription{}, stats: map[string]store.QueueStats{}}
	qs, err := s.ListQueues(ctx, proj, "", 100)
	must(t, err)
	sn.queues = qs
	for _, q := range append(qs, store.Queue{Name: "deleted"}) {
		sn.msgs[q.Name] = list(t, s, proj, q.Name, everything, now).Messages
		subs, err := s.ListSubscriptions(ctx, proj, q.Name, "", 100, now)
		must(t, err)
		sn.subs[q.Name] = subs
		st, err := s.Stats(ctx, proj, q.Name, now)
		must(t, err)
		sn.stats[q.Name] = st
	}
	for name, id := range claimIDs {
		c, held, err := s.GetClaim(ctx, proj, name, id, now)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		must(t, err)
		sn.claims[id] = c
		sn.held[id] = ids(held)
	}
	return sn
}

func compareSnapshots(t *testing.T, now time.Time, got, want snapshot) {
	t.Helper()
	eq(t, "queue count", len(got.queues), len(want.queues))
	for i, q := range want.queues {
		g := got.queues[i]
		eq(t, "queue name", g.Name, q.Name)
		eqJSON(t, "queue metadata of "+q.Name, g.Metadata, string(q.Metadata))
		eqTime(t, "queue created of "+q.Name, g.Created, q.Created)
	}
	for name, ms := range want.msgs {
		gm := got.msgs[name]
		eqSlice(t, "message ids of "+name, ids(gm), ids(ms))
		for i, m := range ms {
			g := gm[i]
			what := fmt.Sprintf("message %s of %s: ", m.ID, name)
			eq(t, what+"body", string(g.Body), string(m.Body))
			eq(t, what+"ttl", g.TTL, m.TTL)
			eqTime(t, what+"created", g.Created, m.Created)
			eqTime(t, what+"expires", g.Expires, m.Expires)
			eqTime(t, what+"delay", g.DelayUntil, m.DelayUntil)
			eq(t, what+"client", g.ClientID, m.ClientID)
			eq(t, what+"claim id", g.ClaimID, m.ClaimID)
			eq(t, what+"claim count", g.ClaimCount, m.ClaimCount)
			eq(t, what+"claimed", g.Claimed(now), m.Claimed(now))
			if m.Claimed(now) {
				eqTime(t, what+"claim expires", g.ClaimExpires, m.ClaimExpires)
			}
		}
	}
	eq(t, "claim count", len(got.claims), len(want.claims))
	for id, c := range want.claims {
		g := got.claims[id]
		eq(t, "claim ttl", g.TTL, c.TTL)
		eq(t, "claim grace", g.Grace, c.Grace)
		eqTime(t, "claim updated", g.Updated, c.Updated)
		eqTime(t, "claim expires", g.Expires, c.Expires)
		eqSlice(t, "claimed messages", got.held[id], want.held[id])
	}
	for name, subs := range want.subs {
		gs := got.subs[name]
		eq(t, "subscriptions of "+name, len(gs), len(subs))
		for i, s := range subs {
			if fmt.Sprint(gs[i]) != fmt.Sprint(s) {
				t.Fatalf("subscription %d of %s = %+v, want %+v", i, name, gs[i], s)
			}
		}
	}
	for name, st := range want.stats {
		g := got.stats[name]
		eq(t, "total of "+name, g.Total, st.Total)
		eq(t, "claimed of "+name, g.Claimed, st.Claimed)
	}
}

func testReopen(t *testing.T, open Open) {
	dir := t.TempDir()
	c := newClock()
	s := open(t, dir)

	_, err := s.CreateQueue(ctx, proj, "q1", []byte(`{"a":1}`), c.now)
	must(t, err)
	delayed := store.NewMessage{Body: []byte(`{"d":true}`), TTL: time.Hour, Delay: 10 * time.Minute, ClientID: bob}
	q1 := post(t, s, proj, "q1", c.now, msg(`{"n":0}`, time.Hour), msg(`{"n":1}`, 2*time.Hour), msg(`"two"`, time.Hour),
		msg(`3`, 60*time.Second), msg(`[4]`, time.Hour), delayed)
	c.advance(time.Second)
	held := claim(t, s, proj, "q1", store.ClaimSpec{TTL: 300 * time.Second, Grace: 60 * time.Second, Limit: 2}, c.now)
	must(t, s.DeleteMessage(ctx, proj, "q1", q1[2], "", c.now))
	// q1[3] (ttl 60) is extended by a claim, which is then renewed.
	c.advance(time.Second)
	ext := claim(t, s, proj, "q1", store.ClaimSpec{TTL: 200 * time.Second, Grace: 60 * time.Second, Limit: 1}, c.now)
	eqSlice(t, "extending claim", ids(ext.Messages), q1[3:4])
	must(t, s.RenewClaim(ctx, proj, "q1", ext.Claim.ID, 400*time.Second, 60*time.Second, c.now))
	_, err = s.UpdateQueue(ctx, proj, "q1", func([]byte) ([]byte, error) { return []byte(`{"a":2}`), nil })
	must(t, err)

	// q2: a claim released (counts kept, not claimed after reopen).
	post(t, s, proj, "q2", c.now, msgs(time.Hour, `x`, `y`)...)
	rel := claim(t, s, proj, "q2", spec(1), c.now)
	must(t, s.ReleaseClaim(ctx, proj, "q2", rel.Claim.ID, c.now))

	// A dead-letter move.
	post(t, s, proj, "src", c.now, msg(`dead`, time.Hour))
	dl := store.ClaimSpec{TTL: 60 * time.Second, Grace: 60 * time.Second, Limit: 1, MaxClaimCount: 1, DeadLetterQueue: "dlq", DeadLetterTTL: 30 * time.Minute}
	first := claim(t, s, proj, "src", dl, c.now)
	must(t, s.ReleaseClaim(ctx, proj, "src", first.Claim.ID, c.now))
	eq(t, "moved", claim(t, s, proj, "src", dl, c.now).DeadLettered, 1)

	// Subscriptions, one updated, one on a queue that is then deleted (it stays).
	sub, err := s.CreateSubscription(ctx, proj, newSub("q1", "http://h/1", time.Hour), c.now)
	must(t, err)
	ttl, confirmed := 3*time.Hour, true
	_, err = s.UpdateSubscription(ctx, proj, "q1", sub.ID, store.SubscriptionUpdate{TTL: &ttl, Confirmed: &confirmed, Options: []byte(`{"o":1}`)}, c.now)
	must(t, err)
	_, err = s.CreateSubscription(ctx, proj, newSub("deleted", "mailto:a@b.c", time.Hour), c.now)
	must(t, err)
	post(t, s, proj, "deleted", c.now, msg(`gone`, time.Hour))
	must(t, s.DeleteQueue(ctx, proj, "deleted"))
	gone, err := s.CreateSubscription(ctx, proj, newSub("q2", "http://h/gone", time.Hour), c.now)
	must(t, err)
	must(t, s.DeleteSubscription(ctx, proj, "q2", gone.ID))
	// Another project with the same queue name.
	post(t, s, other, "q1", c.now, msg(`other`, time.Hour))

	lookup := map[string]string{"q1": held.Claim.ID, "q2": rel.Claim.ID}
	before := takeSnapshot(t, s, c.now, lookup)
	extBefore, extHeld, err := s.GetClaim(ctx, proj, "q1", ext.Claim.ID, c.now)
	must(t, err)
	must(t, s.Close())

	s = open(t, dir)
	after := takeSnapshot(t, s, c.now, lookup)
	compareSnapshots(t, c.now, after, before)
	extAfter, extHeld2, err := s.GetClaim(ctx, proj, "q1", ext.Claim.ID, c.now)
	must(t, err)
	eqTime(t, "renewed claim expiry", extAfter.Expires, extBefore.Expires)
	eqSlice(t, "renewed claim messages", ids(extHeld2), ids(extHeld))
	eq(t, "extended ttl", extHeld2[0].TTL, 460*time.Second)
	if _, ok := after.claims[rel.Claim.ID]; ok {
		t.Fatal("released claim came back")
	}
	if len(after.held[held.Claim.ID]) != 2 {
		t.Fatalf("claim %s holds %v after reopen", held.Claim.ID, after.held[held.Claim.ID])
	}
	_, err = s.GetQueue(ctx, proj, "deleted")
	wantErr(t, err, store.ErrNotFound)
	eq(t, "other project", len(listIDs(t, s, other, "q1", everything, c.now)), 1)

	// The claim still works: delete under it, and the rest of the rules hold.
	must(t, s.DeleteMessage(ctx, proj, "q1", q1[0], held.Claim.ID, c.now))
	wantErr(t, s.DeleteMessage(ctx, proj, "q1", q1[1], "", c.now), store.ErrClaimed)
	// New ids never collide with old ones and continue the order.
	var old []string
	for _, ms := range before.msgs {
		old = append(old, ids(ms)...)
	}
	old = append(old, q1...)
	last := list(t, s, proj, "q1", everything, c.now)
	fresh := post(t, s, proj, "q1", c.now, msgs(time.Hour, `new1`, `new2`)...)
	for _, id := range fresh {
		if slices.Contains(old, id) {
			t.Fatalf("id %s reused after reopen", id)
		}
	}
	eqSlice(t, "new messages after the old marker", listIDs(t, s, proj, "q1", store.MessageQuery{Limit: 10, Echo: true, IncludeClaimed: true, IncludeDelayed: true, Marker: last.Marker}, c.now), fresh)
	// After the first claim ends, its messages are claimable with their counts.
	c.advance(301 * time.Second)
	res := claim(t, s, proj, "q1", spec(1), c.now)
	eqSlice(t, "claimable after the restored claim ended", ids(res.Messages), q1[1:2])
	eq(t, "count after reopen", res.Messages[0].ClaimCount, 2)
	must(t, s.Close())
}

func testReopenTwice(t *testing.T, open Open) {
	dir := t.TempDir()
	c := newClock()
	s := open(t, dir)
	must(t, s.Close())
	s = open(t, dir)
	n, err := s.CountQueues(ctx, proj)
	must(t, err)
	eq(t, "queues in an empty store", n, 0)
	var all []string
	for round := range 3 {
		all = append(all, post(t, s, proj, "q", c.now, msg(fmt.Sprint(round), time.Hour))...)
		must(t, s.Close())
		s = open(t, dir)
	}
	eqSlice(t, "messages over three reopens", listIDs(t, s, proj, "q", everything, c.now), all)
	must(t, s.Close())
}
