package storetest

import (
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/zedge-io/zedge/store"
)

func testQueueCreateGet(t *testing.T, s store.Store) {
	c := newClock()
	created, err := s.CreateQueue(ctx, proj, "q", []byte(`{"a":1}`), c.now)
	must(t, err)
	eq(t, "created", created, true)
	q, err := s.GetQueue(ctx, proj, "q")
	must(t, err)
	eq(t, "name", q.Name, "q")
	eqJSON(t, "metadata", q.Metadata, `{"a":1}`)
	eqTime(t, "created", q.Created, c.now)

	// Create-only: an existing queue keeps its metadata and creation time.
	created, err = s.CreateQueue(ctx, proj, "q", []byte(`{"b":2}`), c.advance(time.Minute))
	must(t, err)
	eq(t, "created again", created, false)
	q, err = s.GetQueue(ctx, proj, "q")
	must(t, err)
	eqJSON(t, "metadata after second create", q.Metadata, `{"a":1}`)
	eqTime(t, "created after second create", q.Created, c.now.Add(-time.Minute))

	_, err = s.CreateQueue(ctx, proj, "empty", nil, c.now)
	must(t, err)
	q, err = s.GetQueue(ctx, proj, "empty")
	must(t, err)
	eqJSON(t, "empty metadata", q.Metadata, `{}`)

	_, err = s.GetQueue(ctx, proj, "missing")
	wantErr(t, err, store.ErrNotFound)

	// Posting creates the queue with empty metadata.
	post(t, s, proj, "auto", c.now, msg(`1`, time.Hour))
	q, err = s.GetQueue(ctx, proj, "auto")
	must(t, err)
	eqJSON(t, "auto-created metadata", q.Metadata, `{}`)
}

func testQueueListCount(t *testing.T, s store.Store) {
	c := newClock()
	names := []string{"b", "a", "a-1", "B", "c.d", "a_2", "z"}
	for _, n := range names {
		_, err := s.CreateQueue(ctx, proj, n, []byte(`{"n":"`+n+`"}`), c.now)
		must(t, err)
	}
	n, err := s.CountQueues(ctx, proj)
	must(t, err)
	eq(t, "count", n, len(names))
	n, err = s.CountQueues(ctx, other)
	must(t, err)
	eq(t, "count of an empty project", n, 0)

	queueNames := func(qs []store.Queue) []string {
		out := make([]string, len(qs))
		for i, q := range qs {
			out[i] = q.Name
		}
		return out
	}
	all, err := s.ListQueues(ctx, proj, "", 100)
	must(t, err)
	eqSlice(t, "all queues", queueNames(all), []string{"B", "a", "a-1", "a_2", "b", "c.d", "z"})
	eqJSON(t, "listed metadata", all[4].Metadata, `{"n":"b"}`)

	var paged []string
	marker := ""
	for range 10 {
		page, err := s.ListQueues(ctx, proj, marker, 3)
		must(t, err)
		if len(page) == 0 {
			break
		}
		if len(page) > 3 {
			t.Fatalf("page of %d queues for limit 3", len(page))
		}
		paged = append(paged, queueNames(page)...)
		marker = page[len(page)-1].Name
	}
	eqSlice(t, "paged queues", paged, queueNames(all))

	// The marker is exclusive and need not name an existing queue.
	page, err := s.ListQueues(ctx, proj, "a", 2)
	must(t, err)
	eqSlice(t, "after a", queueNames(page), []string{"a-1", "a_2"})
	page, err = s.ListQueues(ctx, proj, "a0", 2)
	must(t, err)
	eqSlice(t, "after a0", queueNames(page), []string{"a_2", "b"})
	page, err = s.ListQueues(ctx, proj, "zz", 2)
	must(t, err)
	eq(t, "after the last", len(page), 0)
	page, err = s.ListQueues(ctx, other, "", 10)
	must(t, err)
	eq(t, "other project", len(page), 0)
}

func testQueueUpdate(t *testing.T, s store.Store) {
	c := newClock()
	_, err := s.CreateQueue(ctx, proj, "q", []byte(`{"a":1}`), c.now)
	must(t, err)
	var seen string
	got, err := s.UpdateQueue(ctx, proj, "q", func(cur []byte) ([]byte, error) {
		seen = string(cur)
		return []byte(`{"a":2}`), nil
	})
	must(t, err)
	eq(t, "update saw", seen, `{"a":1}`)
	eqJSON(t, "update returned", got, `{"a":2}`)
	q, err := s.GetQueue(ctx, proj, "q")
	must(t, err)
	eqJSON(t, "metadata after update", q.Metadata, `{"a":2}`)
	eqTime(t, "created after update", q.Created, c.now)

	// An error from update aborts the change and comes back as is.
	boom := errors.New("boom")
	_, err = s.UpdateQueue(ctx, proj, "q", func([]byte) ([]byte, error) { return []byte(`{"x":1}`), boom })
	if err != boom && !errors.Is(err, boom) {
		t.Fatalf("update error = %v, want %v", err, boom)
	}
	q, err = s.GetQueue(ctx, proj, "q")
	must(t, err)
	eqJSON(t, "metadata after failed update", q.Metadata, `{"a":2}`)

	_, err = s.UpdateQueue(ctx, proj, "missing", func(b []byte) ([]byte, error) {
		t.Error("update called for a missing queue")
		return b, nil
	})
	wantErr(t, err, store.ErrNotFound)
	if _, err := s.GetQueue(ctx, proj, "missing"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("UpdateQueue created a missing queue")
	}
}

func testQueueUpdateAtomic(t *testing.T, s store.Store) {
	c := newClock()
	_, err := s.CreateQueue(ctx, proj, "q", []byte(`0`), c.now)
	must(t, err)
	const workers, each = 8, 25
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				_, err := s.UpdateQueue(ctx, proj, "q", func(cur []byte) ([]byte, error) {
					n, err := strconv.Atoi(string(cur))
					if err != nil {
						return nil, err
					}
					return []byte(strconv.Itoa(n + 1)), nil
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	q, err := s.GetQueue(ctx, proj, "q")
	must(t, err)
	eq(t, "counter", string(q.Metadata), strconv.Itoa(workers*each))
}

func testQueueDelete(t *testing.T, s store.Store) {
	c := newClock()
	_, err := s.CreateQueue(ctx, proj, "q", []byte(`{"a":1}`), c.now)
	must(t, err)
	old := post(t, s, proj, "q", c.now, msgs(time.Hour, `1`, `2`, `3`)...)
	cl := claim(t, s, proj, "q", spec(1), c.now)
	sub, err := s.CreateSubscription(ctx, proj, store.Subscription{Queue: "q", Subscriber: "http://x/1", TTL: time.Hour}, c.now)
	must(t, err)

	must(t, s.DeleteQueue(ctx, proj, "q"))
	_, err = s.GetQueue(ctx, proj, "q")
	wantErr(t, err, store.ErrNotFound)
	eq(t, "messages after delete", len(listIDs(t, s, proj, "q", everything, c.now)), 0)
	_, _, err = s.GetClaim(ctx, proj, "q", cl.Claim.ID, c.now)
	wantErr(t, err, store.ErrNotFound)
	n, err := s.CountQueues(ctx, proj)
	must(t, err)
	eq(t, "count after delete", n, 0)
	// Deleting again, or a queue that never existed, is fine.
	must(t, s.DeleteQueue(ctx, proj, "q"))
	must(t, s.DeleteQueue(ctx, proj, "never"))

	// Subscriptions stay (Zaqar behaviour).
	got, err := s.GetSubscription(ctx, proj, "q", sub.ID, c.now)
	must(t, err)
	eq(t, "subscription after queue delete", got.Subscriber, "http://x/1")

	// A re-created queue starts empty, with the new metadata, and old ids stay unknown.
	created, err := s.CreateQueue(ctx, proj, "q", []byte(`{"b":2}`), c.now)
	must(t, err)
	eq(t, "re-created", created, true)
	q, err := s.GetQueue(ctx, proj, "q")
	must(t, err)
	eqJSON(t, "metadata of the re-created queue", q.Metadata, `{"b":2}`)
	got2, err := s.GetMessages(ctx, proj, "q", old, c.now)
	must(t, err)
	eq(t, "old messages in the re-created queue", len(got2), 0)
	fresh := post(t, s, proj, "q", c.now, msg(`4`, time.Hour))
	for _, id := range old {
		if id == fresh[0] {
			t.Fatalf("message id %s reused after queue re-creation", id)
		}
	}
	eqSlice(t, "re-created queue messages", listIDs(t, s, proj, "q", everything, c.now), fresh)
}

func testQueueStats(t *testing.T, s store.Store) {
	c := newClock()
	st, err := s.Stats(ctx, proj, "missing", c.now)
	must(t, err)
	if st.Total != 0 || st.Claimed != 0 || st.Oldest != nil || st.Newest != nil {
		t.Fatalf("stats of a missing queue = %+v, want zeros", st)
	}
	_, err = s.CreateQueue(ctx, proj, "q", nil, c.now)
	must(t, err)
	st, err = s.Stats(ctx, proj, "q", c.now)
	must(t, err)
	if st.Total != 0 || st.Oldest != nil || st.Newest != nil {
		t.Fatalf("stats of an empty queue = %+v", st)
	}

	t0 := c.now
	first := post(t, s, proj, "q", t0, msg(`short`, 60*time.Second), msg(`a`, time.Hour))
	t1 := c.advance(10 * time.Second)
	delayed := msg(`delayed`, time.Hour)
	delayed.Delay = 5 * time.Minute
	second := post(t, s, proj, "q", t1, msg(`b`, time.Hour), delayed)
	claim(t, s, proj, "q", spec(2), t1) // claims "short" and "a"

	st, err = s.Stats(ctx, proj, "q", t1)
	must(t, err)
	eq(t, "total (claimed and delayed included)", st.Total, 4)
	eq(t, "claimed", st.Claimed, 2)
	eq(t, "oldest", st.Oldest.ID, first[0])
	eqTime(t, "oldest created", st.Oldest.Created, t0)
	eq(t, "newest", st.Newest.ID, second[1])
	eqTime(t, "newest created", st.Newest.Created, t1)

	// After the claim (100s) ends and "short" (extended to 160s after t1) expires.
	c.advance(170 * time.Second)
	st, err = s.Stats(ctx, proj, "q", c.now)
	must(t, err)
	eq(t, "total after expiry", st.Total, 3)
	eq(t, "claimed after the claim ended", st.Claimed, 0)
	eq(t, "oldest after expiry", st.Oldest.ID, first[1])

	// Stats are per project.
	st, err = s.Stats(ctx, other, "q", c.now)
	must(t, err)
	eq(t, "other project's total", st.Total, 0)
}
