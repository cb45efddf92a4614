package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
)

// ackedMessage is a message the server answered 201 for.
type ackedMessage struct {
	queue string
	id    string
	body  []byte
}

// TestRestartAfterKill posts messages from many concurrent clients, kills the server with SIGKILL while posts are in
// flight, restarts it on the same data directory, and checks that every message that got a 201 is there with its
// body (the default durability is sync: a 201 means the write is on disk). Two rounds, so the second kill hits a
// store that was itself recovered from a kill.
func TestRestartAfterKill(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})
	var acked []ackedMessage
	for round := range 2 {
		// A kill that happens to find no post in flight tests nothing (rare: all 16 posters between requests);
		// such a kill is checked like any other and followed by another, up to a few.
		cutOff := 0
		for attempt := 0; cutOff == 0 && attempt < 4; attempt++ {
			got, c := postUntilKilled(t, s, 10*round+attempt, 1000)
			if t.Failed() {
				return
			}
			t.Logf("round %d.%d: %d messages acknowledged before SIGKILL, %d posts cut off in flight", round, attempt, len(got), c)
			cutOff = c
			acked = append(acked, got...)
			s = s.restart(t)
			checkAcked(t, s, acked)
		}
		if cutOff == 0 {
			t.Errorf("round %d: no post was in flight at any kill; the test did not test anything", round)
		}
	}
	// The restarted server takes new posts as usual.
	newClient(t, s, "durability").post("durable-0", map[string]any{"body": "after restart", "ttl": 60})
}

// postUntilKilled runs 16 concurrent posters against s, SIGKILLs s once killAfter messages are acknowledged, and
// returns the acknowledged messages and the number of posts that were sent before the kill but got no answer.
func postUntilKilled(t *testing.T, s *server, round, killAfter int) ([]ackedMessage, int) {
	const (
		posters = 16
		queues  = 4
	)
	var (
		mu     sync.Mutex
		acked  []ackedMessage
		cutOff int
		wg     sync.WaitGroup
		once   sync.Once
		killed atomic.Int64 // unix nanoseconds of the kill; 0 before
	)
	killNow := make(chan struct{})
	transport := &http.Transport{MaxIdleConnsPerHost: posters}
	defer transport.CloseIdleConnections()
	hc := &http.Client{Transport: transport, Timeout: 30 * time.Second}

	for p := range posters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			clientID := uuid.NewString()
			queue := fmt.Sprintf("durable-%d", p%queues)
			for n := 0; ; n++ {
				// Two messages per request on odd posters, to cover batches too.
				count := 1 + p%2
				var msgs []map[string]any
				var bodies [][]byte
				for k := range count {
					body := fmt.Sprintf(`{"round":%d,"poster":%d,"n":%d,"k":%d,"pad":%q}`,
						round, p, n, k, strings.Repeat("x", 40+n%50))
					bodies = append(bodies, []byte(body))
					msgs = append(msgs, map[string]any{"body": json.RawMessage(body), "ttl": 3600})
				}
				raw, _ := json.Marshal(map[string]any{"messages": msgs})
				req, _ := http.NewRequest("POST", s.base+"/v2/queues/"+queue+"/messages", bytes.NewReader(raw))
				req.Header.Set("Client-ID", clientID)
				req.Header.Set("X-Project-ID", "durability")
				req.Header.Set("Content-Type", "application/json")
				sent := time.Now().UnixNano()
				resp, err := hc.Do(req)
				var out []byte
				if err == nil {
					out, err = io.ReadAll(resp.Body)
					resp.Body.Close()
				}
				if err != nil {
					if k := killed.Load(); k != 0 && sent < k {
						mu.Lock()
						cutOff++
						mu.Unlock()
					} else if k == 0 {
						t.Errorf("post before the kill failed: %v", err)
					}
					return
				}
				if resp.StatusCode != 201 {
					t.Errorf("post: %d %s", resp.StatusCode, out)
					return
				}
				var res struct {
					Resources []string `json:"resources"`
				}
				if err := json.Unmarshal(out, &res); err != nil || len(res.Resources) != count {
					t.Errorf("201 with body %s", out)
					return
				}
				mu.Lock()
				for k, href := range res.Resources {
					acked = append(acked, ackedMessage{queue: queue, id: idFromPath(href), body: bodies[k]})
				}
				if len(acked) >= killAfter {
					once.Do(func() { close(killNow) })
				}
				mu.Unlock()
			}
		}()
	}
	select {
	case <-killNow:
	case <-time.After(2 * time.Minute):
		t.Fatal("the posters did not get enough acknowledgements")
	}
	killed.Store(time.Now().UnixNano())
	s.kill() // SIGKILL with the posters still running
	wg.Wait()
	return acked, cutOff
}

// checkAcked fetches every acknowledged message by id and compares its body.
func checkAcked(t *testing.T, s *server, acked []ackedMessage) {
	t.Helper()
	c := newClient(t, s, "durability")
	byQueue := map[string][]ackedMessage{}
	for _, a := range acked {
		byQueue[a.queue] = append(byQueue[a.queue], a)
	}
	missing := 0
	for queue, list := range byQueue {
		for batch := range slices.Chunk(list, 20) {
			var idList []string
			for _, a := range batch {
				idList = append(idList, a.id)
			}
			r := c.do("GET", "/v2/queues/"+queue+"/messages?ids="+strings.Join(idList, ","), nil)
			found := map[string]json.RawMessage{}
			if r.status == 200 {
				var out struct {
					Messages []message `json:"messages"`
				}
				r.decode(t, &out)
				for _, m := range out.Messages {
					found[m.ID] = m.Body
				}
			} else if r.status != 404 {
				t.Fatalf("%s", r)
			}
			for _, a := range batch {
				body, ok := found[a.id]
				if !ok {
					missing++
					if missing <= 5 {
						t.Errorf("acknowledged message %s/%s is missing after the restart", queue, a.id)
					}
					continue
				}
				if !jsonEqual(t, body, a.body) {
					t.Errorf("message %s body after restart %s, want %s", a.id, body, a.body)
				}
			}
		}
		if total, _, _ := c.stats(queue); total < len(list) {
			t.Errorf("queue %s stats total %d after restart, fewer than the %d acknowledged", queue, total, len(list))
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d acknowledged messages lost", missing, len(acked))
	}
}

// TestRestartCleanKeepsState stops the server with SIGTERM (exit 0) and checks that queues, metadata, messages,
// claims and subscriptions survive the restart.
func TestRestartCleanKeepsState(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})
	c := newClient(t, s, "keep")
	c.do("PUT", "/v2/queues/kept", map[string]any{"site": "b1", "_default_message_ttl": 600}).expect(t, 201)
	c.do("PUT", "/v2/queues/kept-empty", nil).expect(t, 201)
	posted := c.post("kept",
		map[string]any{"body": map[string]any{"i": 0}, "ttl": 900},
		map[string]any{"body": map[string]any{"i": 1}},
		map[string]any{"body": "two", "ttl": 900})
	worker := newClient(t, s, "keep")
	claimID, claimed, status := worker.claim("kept", 300, 60, 2)
	if status != 201 {
		t.Fatalf("claim status %d", status)
	}
	r := c.do("POST", "/v2/queues/kept/subscriptions",
		map[string]any{"subscriber": "http://127.0.0.1:9/hook", "ttl": 3600, "options": map[string]any{"k": "v"}}).expect(t, 201)
	var sub struct {
		ID string `json:"subscription_id"`
	}
	r.decode(t, &sub)

	before := snapshot(t, c, claimID, sub.ID)
	s.stop()
	s2 := s.restart(t)
	c.base, worker.base = s2.base, s2.base
	after := snapshot(t, c, claimID, sub.ID)

	for key, want := range before {
		got := after[key]
		if key == "claim" {
			// Ages grow across the restart; compare what must not change.
			want, got = stripAges(want), stripAges(got)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s after restart:\n got %v\nwant %v", key, got, want)
		}
	}
	// The claim still works after the restart: its messages can be acknowledged with it.
	for _, m := range claimed {
		worker.deleteMessage("kept", m.ID, claimID).expect(t, 204)
	}
	if got := newClient(t, s2, "keep").list("kept", ""); !slices.Equal(ids(got), posted[2:]) {
		t.Errorf("unclaimed messages after restart %v, want %v", ids(got), posted[2:])
	}
}

// snapshot reads the state the restart must keep, as decoded JSON by name.
func snapshot(t *testing.T, c *client, claimID, subID string) map[string]any {
	t.Helper()
	get := func(path string) any {
		r := c.do("GET", path, nil).expect(t, 200)
		var v any
		r.decode(t, &v)
		return v
	}
	stats := get("/v2/queues/kept/stats").(map[string]any)["messages"].(map[string]any)
	sub := get("/v2/queues/kept/subscriptions/" + subID).(map[string]any)
	delete(sub, "age")
	msgs := get("/v2/queues/kept/messages?echo=true&include_claimed=true").(map[string]any)["messages"].([]any)
	for _, m := range msgs {
		delete(m.(map[string]any), "age")
	}
	return map[string]any{
		"queues":       get("/v2/queues?detailed=true"),
		"metadata":     get("/v2/queues/kept"),
		"stats":        map[string]any{"total": stats["total"], "claimed": stats["claimed"], "free": stats["free"]},
		"messages":     msgs,
		"claim":        get("/v2/queues/kept/claims/" + claimID),
		"subscription": sub,
	}
}

func stripAges(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	out := map[string]any{}
	for k, val := range m {
		if k == "age" {
			continue
		}
		if list, ok := val.([]any); ok {
			var stripped []any
			for _, item := range list {
				stripped = append(stripped, stripAges(item))
			}
			val = stripped
		}
		out[k] = val
	}
	return out
}
