package storetest

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/zedge-io/zedge/store"
)

func testProjectIsolation(t *testing.T, s store.Store) {
	c := newClock()
	_, err := s.CreateQueue(ctx, proj, "q", []byte(`{"p":1}`), c.now)
	must(t, err)
	_, err = s.CreateQueue(ctx, other, "q", []byte(`{"p":2}`), c.now)
	must(t, err)
	a := post(t, s, proj, "q", c.now, msgs(time.Hour, `a1`, `a2`)...)
	b := post(t, s, other, "q", c.now, msgs(time.Hour, `b1`)...)
	eqSlice(t, "p1 messages", bodies(list(t, s, proj, "q", everything, c.now).Messages), []string{`a1`, `a2`})
	eqSlice(t, "p2 messages", bodies(list(t, s, other, "q", everything, c.now).Messages), []string{`b1`})
	qa, err := s.GetQueue(ctx, proj, "q")
	must(t, err)
	eqJSON(t, "p1 metadata", qa.Metadata, `{"p":1}`)

	// Ids of one project mean nothing in the other.
	got, err := s.GetMessages(ctx, other, "q", a, c.now)
	must(t, err)
	eq(t, "p1 ids in p2", len(got), 0)
	must(t, s.DeleteMessage(ctx, other, "q", a[0], "", c.now))
	must(t, s.DeleteMessages(ctx, other, "q", a, c.now))
	eq(t, "p1 after deletes through p2", len(listIDs(t, s, proj, "q", everything, c.now)), 2)

	res := claim(t, s, proj, "q", spec(10), c.now)
	eq(t, "claimed in p1", len(res.Messages), 2)
	_, _, err = s.GetClaim(ctx, other, "q", res.Claim.ID, c.now)
	wantErr(t, err, store.ErrNotFound)
	must(t, s.ReleaseClaim(ctx, other, "q", res.Claim.ID, c.now))
	eq(t, "p1 still claimed", len(claim(t, s, proj, "q", spec(10), c.now).Messages), 0)
	eqSlice(t, "p2 claimable", ids(claim(t, s, other, "q", spec(10), c.now).Messages), b)

	st, err := s.Stats(ctx, other, "q", c.now)
	must(t, err)
	eq(t, "p2 total", st.Total, 1)

	_, err = s.CreateSubscription(ctx, proj, newSub("q", "http://h/1", time.Hour), c.now)
	must(t, err)
	subs, err := s.ListSubscriptions(ctx, other, "q", "", 10, c.now)
	must(t, err)
	eq(t, "p2 subscriptions", len(subs), 0)

	must(t, s.PurgeMessages(ctx, other, "q"))
	eq(t, "p1 after p2 purge", len(listIDs(t, s, proj, "q", everything, c.now)), 2)
	must(t, s.DeleteQueue(ctx, other, "q"))
	_, err = s.GetQueue(ctx, proj, "q")
	must(t, err)
	n, err := s.CountQueues(ctx, proj)
	must(t, err)
	eq(t, "p1 queues", n, 1)
}

// testAmbiguousNames uses projects and queues whose concatenations collide, which a naive key layout would
// mix up.
func testAmbiguousNames(t *testing.T, s store.Store) {
	c := newClock()
	long := string(make([]byte, 256))
	pairs := [][2]string{{"a", "b.c"}, {"a.b", "c"}, {"", "ab"}, {"a", "b"}, {"ab", ""}, {long, "q"}, {"x/y", "z"}, {"x", "y/z"}}
	for i, p := range pairs {
		if p[1] == "" {
			continue
		}
		post(t, s, p[0], p[1], c.now, msg(fmt.Sprintf(`%d`, i), time.Hour))
		_, err := s.CreateSubscription(ctx, p[0], newSub(p[1], "http://h/1", time.Hour), c.now)
		must(t, err)
	}
	for i, p := range pairs {
		if p[1] == "" {
			continue
		}
		eqSlice(t, fmt.Sprintf("messages of %q/%q", p[0], p[1]), bodies(list(t, s, p[0], p[1], everything, c.now).Messages), []string{fmt.Sprintf(`%d`, i)})
		subs, err := s.ListSubscriptions(ctx, p[0], p[1], "", 10, c.now)
		must(t, err)
		eq(t, "one subscription each", len(subs), 1)
		n, err := s.CountQueues(ctx, p[0])
		must(t, err)
		if n < 1 {
			t.Fatalf("project %q has no queues", p[0])
		}
	}
}

func testConcurrentClaims(t *testing.T, s store.Store) {
	c := newClock()
	const total, workers = 400, 8
	var all []string
	for i := 0; i < total; i += 20 {
		all = append(all, post(t, s, proj, "q", c.now, msgs(time.Hour, numbered("m", 20)...)...)...)
	}
	var mu sync.Mutex
	got := map[string]int{}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				res, err := s.CreateClaim(ctx, proj, "q", spec(7), c.now)
				if err != nil {
					t.Error(err)
					return
				}
				if len(res.Messages) == 0 {
					return
				}
				mu.Lock()
				for _, m := range res.Messages {
					got[m.ID]++
				}
				mu.Unlock()
				// Delete half under the claim while others keep claiming.
				for i, m := range res.Messages {
					if i%2 == 0 {
						if err := s.DeleteMessage(ctx, proj, "q", m.ID, res.Claim.ID, c.now); err != nil {
							t.Error(err)
						}
					}
				}
			}
		})
	}
	wg.Wait()
	eq(t, "distinct messages claimed", len(got), total)
	for id, n := range got {
		if n != 1 {
			t.Fatalf("message %s claimed %d times", id, n)
		}
	}
}

func testConcurrentPosters(t *testing.T, s store.Store) {
	c := newClock()
	const posters, batches = 4, 25
	var wg sync.WaitGroup
	for p := range posters {
		wg.Go(func() {
			for i := range batches {
				body := fmt.Sprintf(`[%d,%d]`, p, i)
				if _, err := s.PostMessages(ctx, proj, "q", msgs(time.Hour, body, body), c.now); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	page := list(t, s, proj, "q", everything, c.now)
	eq(t, "all posted", len(page.Messages), posters*batches*2)
	// Each poster's batches appear in its own order.
	last := map[int]int{}
	for _, m := range page.Messages {
		var p, i int
		if _, err := fmt.Sscanf(string(m.Body), "[%d,%d]", &p, &i); err != nil {
			t.Fatalf("body %s: %v", m.Body, err)
		}
		if prev, ok := last[p]; ok && i < prev {
			t.Fatalf("poster %d: batch %d listed after batch %d", p, i, prev)
		}
		last[p] = i
	}
	// Paging through gives the same messages exactly once.
	var paged []string
	q := store.MessageQuery{Limit: 7, Echo: true}
	for {
		pg := list(t, s, proj, "q", q, c.now)
		if len(pg.Messages) == 0 {
			break
		}
		paged = append(paged, ids(pg.Messages)...)
		q.Marker = pg.Marker
	}
	eqSlice(t, "paged", paged, ids(page.Messages))
}

// testConcurrentMixed runs posters, a lister paging with markers, claimers and deleters on one queue; every
// posted message must be seen by the pager exactly once or be gone, and nothing may be claimed twice.
func testConcurrentMixed(t *testing.T, s store.Store) {
	c := newClock()
	const posters, perPoster = 3, 60
	var wg sync.WaitGroup
	posted := make(chan string, posters*perPoster)
	for range posters {
		wg.Go(func() {
			for i := range perPoster {
				ids, err := s.PostMessages(ctx, proj, "q", msgs(time.Hour, fmt.Sprint(i)), c.now)
				if err != nil {
					t.Error(err)
					return
				}
				posted <- ids[0]
			}
		})
	}
	var claimMu sync.Mutex
	claimed := map[string]bool{}
	done := make(chan struct{})
	var side sync.WaitGroup
	for range 2 {
		side.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				res, err := s.CreateClaim(ctx, proj, "q", spec(3), c.now)
				if err != nil {
					t.Error(err)
					return
				}
				claimMu.Lock()
				for _, m := range res.Messages {
					if claimed[m.ID] {
						t.Errorf("message %s claimed twice", m.ID)
					}
					claimed[m.ID] = true
				}
				claimMu.Unlock()
				if len(res.Messages) > 0 {
					// Forget them before releasing: once released, another claimer may take them.
					claimMu.Lock()
					for _, m := range res.Messages {
						delete(claimed, m.ID)
					}
					claimMu.Unlock()
					if err := s.ReleaseClaim(ctx, proj, "q", res.Claim.ID, c.now); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	seen := map[string]int{}
	side.Go(func() {
		q := store.MessageQuery{Limit: 5, Echo: true, IncludeClaimed: true}
		for {
			page, err := s.ListMessages(ctx, proj, "q", q, c.now)
			if err != nil {
				t.Error(err)
				return
			}
			for _, m := range page.Messages {
				seen[m.ID]++
			}
			if page.Marker != "" {
				q.Marker = page.Marker
				continue
			}
			select {
			case <-done:
				// One last pass after the posters finished.
				for {
					page, err := s.ListMessages(ctx, proj, "q", q, c.now)
					if err != nil || len(page.Messages) == 0 {
						return
					}
					for _, m := range page.Messages {
						seen[m.ID]++
					}
					q.Marker = page.Marker
				}
			default:
			}
		}
	})
	wg.Wait()
	close(done)
	side.Wait()
	close(posted)
	var want []string
	for id := range posted {
		want = append(want, id)
	}
	sort.Strings(want)
	for _, id := range want {
		if seen[id] != 1 {
			t.Fatalf("pager saw message %s %d times, want once", id, seen[id])
		}
	}
	eq(t, "pager saw only posted messages", len(seen), len(want))
}

// testReadYourWrites checks that a message is listable, fetchable and claimable as soon as PostMessages
// returns, while other callers post to the same queue.
func testReadYourWrites(t *testing.T, s store.Store) {
	c := newClock()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			queue := fmt.Sprintf("own-%d", w)
			for i := range 40 {
				posted, err := s.PostMessages(ctx, proj, "shared", msgs(time.Hour, fmt.Sprint(i)), c.now)
				if err != nil {
					t.Error(err)
					return
				}
				got, err := s.GetMessages(ctx, proj, "shared", posted, c.now)
				if err != nil || len(got) != 1 {
					t.Errorf("message %s not fetchable right after posting: %d found, %v", posted[0], len(got), err)
					return
				}
				own, err := s.PostMessages(ctx, proj, queue, msgs(time.Hour, fmt.Sprint(i)), c.now)
				if err != nil {
					t.Error(err)
					return
				}
				res, err := s.CreateClaim(ctx, proj, queue, spec(10), c.now)
				if err != nil || len(res.Messages) != 1 || res.Messages[0].ID != own[0] {
					t.Errorf("message %s not claimable right after posting: %v, %v", own[0], ids(res.Messages), err)
					return
				}
				if err := s.DeleteMessage(ctx, proj, queue, own[0], res.Claim.ID, c.now); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func testHealth(t *testing.T, s store.Store) {
	must(t, s.Health(ctx))
	if s.Capabilities().Name == "" {
		t.Fatal("capabilities have no name")
	}
}

func testClosed(t *testing.T, s store.Store) {
	c := newClock()
	post(t, s, proj, "q", c.now, msg(`1`, time.Hour))
	must(t, s.Close())
	checks := map[string]error{
		"Health":       s.Health(ctx),
		"Close":        s.Close(),
		"PostMessages": func() error { _, err := s.PostMessages(ctx, proj, "q", msgs(time.Hour, `2`), c.now); return err }(),
		"ListMessages": func() error { _, err := s.ListMessages(ctx, proj, "q", everything, c.now); return err }(),
		"CreateQueue":  func() error { _, err := s.CreateQueue(ctx, proj, "r", nil, c.now); return err }(),
		"GetQueue":     func() error { _, err := s.GetQueue(ctx, proj, "q"); return err }(),
		"CreateClaim":  func() error { _, err := s.CreateClaim(ctx, proj, "q", spec(1), c.now); return err }(),
		"DeleteQueue":  s.DeleteQueue(ctx, proj, "q"),
		"CreateSubscription": func() error {
			_, err := s.CreateSubscription(ctx, proj, newSub("q", "http://h", time.Hour), c.now)
			return err
		}(),
	}
	for name, err := range checks {
		if !errors.Is(err, store.ErrClosed) {
			t.Errorf("%s after Close = %v, want ErrClosed", name, err)
		}
	}
}

// testConcurrentCrossDeadLetter has claimers on two queues that dead-letter into each other, so moves run both
// ways at once (each claim holds its queue and wants the other): nothing may deadlock, and every message must
// end up in exactly one of the queues, neither lost nor copied.
func testConcurrentCrossDeadLetter(t *testing.T, s store.Store) {
	c := newClock()
	const perQueue, workers, rounds = 40, 2, 40
	want := map[string]bool{}
	for _, q := range []string{"a", "b"} {
		bodies := numbered(q, perQueue)
		for _, b := range bodies {
			want[b] = true
		}
		post(t, s, proj, q, c.now, msgs(time.Hour, bodies...)...)
	}
	var wg sync.WaitGroup
	for _, pair := range [][2]string{{"a", "b"}, {"b", "a"}} {
		sp := store.ClaimSpec{TTL: time.Minute, Grace: time.Minute, Limit: 5, MaxClaimCount: 1, DeadLetterQueue: pair[1]}
		for range workers {
			wg.Go(func() {
				for range rounds {
					// A message claimed once is moved by its next claim, and keeps its count in the other queue,
					// so messages keep moving between the two.
					res, err := s.CreateClaim(ctx, proj, pair[0], sp, c.now)
					if err != nil {
						t.Error(err)
						return
					}
					if len(res.Messages) > 0 {
						if err := s.ReleaseClaim(ctx, proj, pair[0], res.Claim.ID, c.now); err != nil {
							t.Error(err)
							return
						}
					}
				}
			})
		}
	}
	wg.Wait()
	got := map[string]int{}
	for _, q := range []string{"a", "b"} {
		for _, m := range list(t, s, proj, q, everything, c.now).Messages {
			got[string(m.Body)]++
		}
	}
	for b := range want {
		if got[b] != 1 {
			t.Errorf("message %s is %d times in the two queues, want once", b, got[b])
		}
	}
	eq(t, "messages in the two queues", len(got), len(want))
}
