package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

// The three seed patterns of a messaging service, each against its own zedge process over raw HTTP.

// waitClaim claims from queue until a claim returns messages or the bound passes (the bound only keeps a broken
// server from hanging the suite; it asserts nothing about speed).
func waitClaim(t *testing.T, c *client, queue string, ttl, grace, limit int, bound time.Duration) (string, []message) {
	t.Helper()
	deadline := time.Now().Add(bound)
	for {
		id, msgs, status := c.claim(queue, ttl, grace, limit)
		if status == 201 {
			return id, msgs
		}
		if time.Now().After(deadline) {
			t.Fatalf("no message became claimable in %s within %s", queue, bound)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestPatternTaskDistribution: a producer posts jobs, two workers claim disjoint sets and acknowledge by deleting
// under their claims; a worker that crashes holding a claim loses it when the claim expires, and another worker
// gets the job.
func TestPatternTaskDistribution(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{config: shortTTLConfig})
	producer := newClient(t, s, "factory")
	workerA := newClient(t, s, "factory")
	workerB := newClient(t, s, "factory")

	var jobs []map[string]any
	for i := range 6 {
		jobs = append(jobs, map[string]any{"body": map[string]any{"job": i}, "ttl": 300})
	}
	posted := producer.post("jobs", jobs...)

	claimA, msgsA, status := workerA.claim("jobs", 60, 60, 3)
	if status != 201 || len(msgsA) != 3 {
		t.Fatalf("worker A claimed %d messages (status %d), want 3", len(msgsA), status)
	}
	claimB, msgsB, status := workerB.claim("jobs", 60, 60, 5)
	if status != 201 || len(msgsB) != 3 {
		t.Fatalf("worker B claimed %d messages (status %d), want the remaining 3", len(msgsB), status)
	}
	if claimA == claimB {
		t.Fatalf("both workers got claim %s", claimA)
	}
	got := append(ids(msgsA), ids(msgsB)...)
	if !slices.Equal(got, posted) {
		t.Errorf("claimed %v, want every posted job exactly once in FIFO order %v", got, posted)
	}
	if _, _, status := newClient(t, s, "factory").claim("jobs", 60, 60, 10); status != 204 {
		t.Errorf("a third worker's claim: status %d, want 204 (nothing left)", status)
	}

	// Each worker cannot acknowledge the other's jobs, only its own.
	if r := workerB.deleteMessage("jobs", msgsA[0].ID, claimB); r.status != 403 {
		t.Errorf("%s: want 403 (claimed by another live claim)", r)
	}
	for _, m := range msgsA {
		workerA.deleteMessage("jobs", m.ID, claimA).expect(t, 204)
	}
	for _, m := range msgsB {
		workerB.deleteMessage("jobs", m.ID, claimB).expect(t, 204)
	}
	if total, _, _ := producer.stats("jobs"); total != 0 {
		t.Errorf("after every ack the queue holds %d messages", total)
	}

	// A worker crashes holding a claim with a short ttl.
	crashID := producer.post("jobs", map[string]any{"body": map[string]any{"job": "x"}, "ttl": 300})[0]
	crashed := newClient(t, s, "factory")
	staleClaim, msgs, status := crashed.claim("jobs", 2, 1, 1)
	if status != 201 || msgs[0].ID != crashID {
		t.Fatalf("crashing worker's claim: status %d, messages %v", status, ids(msgs))
	}
	rescuer := newClient(t, s, "factory")
	if _, _, status := rescuer.claim("jobs", 60, 60, 1); status != 204 {
		t.Errorf("claim while the crashed worker's claim is live: status %d, want 204", status)
	}
	newClaim, msgs := waitClaim(t, rescuer, "jobs", 60, 60, 1, 30*time.Second)
	if len(msgs) != 1 || msgs[0].ID != crashID || newClaim == staleClaim {
		t.Fatalf("rescuer got %v under claim %s, want %s under a new claim", ids(msgs), newClaim, crashID)
	}
	if !jsonEqual(t, msgs[0].Body, []byte(`{"job":"x"}`)) {
		t.Errorf("redelivered body %s", msgs[0].Body)
	}
	// The crashed worker's claim is gone; its late ack is refused and loses nothing.
	if r := crashed.do("GET", "/v2/queues/jobs/claims/"+staleClaim, nil); r.status != 404 {
		t.Errorf("%s: want 404 for an expired claim", r)
	}
	if r := crashed.deleteMessage("jobs", crashID, staleClaim); r.status != 400 && r.status != 403 {
		t.Errorf("%s: a late ack under an expired claim must be refused", r)
	}
	rescuer.deleteMessage("jobs", crashID, newClaim).expect(t, 204)
	if total, _, _ := producer.stats("jobs"); total != 0 {
		t.Errorf("queue holds %d messages after the rescue", total)
	}
}

// TestPatternBroadcast: observers, each with its own Client-ID, all read the same messages; reading removes
// nothing, and each observer keeps its own position with the next link.
func TestPatternBroadcast(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})
	publisher := newClient(t, s, "campus")
	obs1 := newClient(t, s, "campus")
	obs2 := newClient(t, s, "campus")

	posted := publisher.post("alerts",
		map[string]any{"body": map[string]any{"alert": "smoke", "room": "r101"}, "ttl": 300},
		map[string]any{"body": map[string]any{"alert": "clear", "room": "r101"}, "ttl": 300})

	for _, o := range []*client{obs1, obs2, obs1} {
		got := o.list("alerts", "limit=20")
		if !slices.Equal(ids(got), posted) {
			t.Errorf("observer %s sees %v, want %v", o.clientID, ids(got), posted)
		}
		if len(got) == 2 && !jsonEqual(t, got[0].Body, []byte(`{"alert":"smoke","room":"r101"}`)) {
			t.Errorf("observer body %s", got[0].Body)
		}
	}
	if got := publisher.list("alerts", ""); len(got) != 0 {
		t.Errorf("the publisher sees its own messages without echo: %v", ids(got))
	}

	// Observer 1 follows its next link; only newer messages appear there.
	r := obs1.do("GET", "/v2/queues/alerts/messages?limit=20", nil).expect(t, 200)
	var page struct {
		Links []struct {
			Rel  string `json:"rel"`
			Href string `json:"href"`
		} `json:"links"`
	}
	r.decode(t, &page)
	if len(page.Links) != 1 || page.Links[0].Rel != "next" || !strings.HasPrefix(page.Links[0].Href, "/v2/queues/alerts/messages?") {
		t.Fatalf("links %+v, want one next link", page.Links)
	}
	third := publisher.post("alerts", map[string]any{"body": "evacuate", "ttl": 300})
	r = obs1.do("GET", page.Links[0].Href, nil).expect(t, 200)
	var next struct {
		Messages []message `json:"messages"`
	}
	r.decode(t, &next)
	if !slices.Equal(ids(next.Messages), third) {
		t.Errorf("after the marker observer 1 sees %v, want only %v", ids(next.Messages), third)
	}
	if got := obs2.list("alerts", "limit=20"); len(got) != 3 {
		t.Errorf("observer 2 sees %d messages, want all 3", len(got))
	}
	if total, claimed, _ := publisher.stats("alerts"); total != 3 || claimed != 0 {
		t.Errorf("stats total %d claimed %d after reading, want 3 and 0", total, claimed)
	}
}

// TestPatternPointToPoint: a controller sends a command to one agent's queue; the agent takes it, posts a result
// to the controller's reply queue and acknowledges the command; the controller reads the result.
func TestPatternPointToPoint(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})
	controller := newClient(t, s, "campus")
	agent := newClient(t, s, "campus")

	cmdID := controller.post("cmd-ac-12",
		map[string]any{"body": map[string]any{"op": "set", "target_c": 21.5, "reply_to": "replies-ctl"}, "ttl": 120})[0]

	claimID, msgs, status := agent.claim("cmd-ac-12", 60, 60, 1)
	if status != 201 || len(msgs) != 1 || msgs[0].ID != cmdID {
		t.Fatalf("agent claim: status %d, messages %v, want %s", status, ids(msgs), cmdID)
	}
	var cmd struct {
		Op      string  `json:"op"`
		Target  float64 `json:"target_c"`
		ReplyTo string  `json:"reply_to"`
	}
	if err := json.Unmarshal(msgs[0].Body, &cmd); err != nil || cmd.Op != "set" || cmd.Target != 21.5 {
		t.Fatalf("command body %s (%v)", msgs[0].Body, err)
	}
	agent.post(cmd.ReplyTo, map[string]any{"body": map[string]any{"command": cmdID, "ok": true, "now_c": 21.5}, "ttl": 120})
	agent.deleteMessage("cmd-ac-12", cmdID, claimID).expect(t, 204)

	replies := controller.list("replies-ctl", "")
	if len(replies) != 1 {
		t.Fatalf("controller sees %d replies, want 1", len(replies))
	}
	want := `{"command":"` + cmdID + `","ok":true,"now_c":21.5}`
	if !jsonEqual(t, replies[0].Body, []byte(want)) {
		t.Errorf("reply body %s, want %s", replies[0].Body, want)
	}
	if total, _, _ := controller.stats("cmd-ac-12"); total != 0 {
		t.Errorf("the command queue holds %d messages after the ack", total)
	}
	if _, _, status := agent.claim("cmd-ac-12", 60, 60, 1); status != 204 {
		t.Errorf("a second claim of the acknowledged command: status %d, want 204", status)
	}
}
