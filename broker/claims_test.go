package broker

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func intp(n int) *int { return &n }

func TestClaimValidation(t *testing.T) {
	e := newEnv(t)
	ctx, s := e.ctx, e.svc
	const (
		ttlText   = "The TTL for a claim may not exceed 43200 seconds, and must be at least 60 seconds long."
		graceText = "The grace for a claim may not exceed 43200 seconds, and must be at least 60 seconds long."
		limitText = "Limit must be at least 1 and may not be greater than 20."
	)
	tests := []struct {
		opt  ClaimOptions
		desc string
	}{
		{ClaimOptions{TTL: intp(59)}, ttlText},
		{ClaimOptions{TTL: intp(43201)}, ttlText},
		{ClaimOptions{Grace: intp(59)}, graceText},
		{ClaimOptions{Grace: intp(43201)}, graceText},
		{ClaimOptions{Limit: 21}, limitText},
		{ClaimOptions{Limit: ZeroLimit}, limitText},
		// Zaqar's order: ttl, limit, grace.
		{ClaimOptions{TTL: intp(1), Grace: intp(1), Limit: 21}, ttlText},
		{ClaimOptions{Grace: intp(1), Limit: 21}, limitText},
	}
	for _, tc := range tests {
		_, _, err := s.CreateClaim(ctx, proj, "q", tc.opt)
		wantErr(t, fmt.Sprintf("create %+v", tc.opt), err, ErrInvalid, tc.desc)
	}
	wantErr(t, "update ttl", s.UpdateClaim(ctx, proj, "q", "c", ClaimOptions{TTL: intp(10)}), ErrInvalid, ttlText)
	wantErr(t, "update grace", s.UpdateClaim(ctx, proj, "q", "c", ClaimOptions{Grace: intp(10)}), ErrInvalid, graceText)

	// A missing queue, or nothing to claim, is an empty result.
	c, msgs, err := s.CreateClaim(ctx, proj, "missing", ClaimOptions{})
	must(t, err)
	if c.ID != "" || msgs == nil || len(msgs) != 0 {
		t.Errorf("missing queue: %+v %v", c, msgs)
	}
	_, err = s.CreateQueue(ctx, proj, "empty", nil)
	must(t, err)
	c, msgs, err = s.CreateClaim(ctx, proj, "empty", ClaimOptions{})
	must(t, err)
	if c.ID != "" || len(msgs) != 0 {
		t.Errorf("empty queue: %+v %v", c, msgs)
	}
}

func TestClaimLifecycle(t *testing.T) {
	e := newEnv(t)
	ctx, s := e.ctx, e.svc

	var ids []string
	for i := 0; i < 12; i++ {
		ids = append(ids, e.post(t, producer, "q", fmt.Sprint(i))...)
	}
	// Defaults: 10 messages, ttl 300, grace 60. Echo does not apply to claims.
	opt, err := DecodeClaimOptions([]byte(`{"ttl": null, "grace": null}`))
	must(t, err)
	c, msgs, err := s.CreateClaim(ctx, proj, "q", opt)
	must(t, err)
	if c.ID == "" || c.TTL != 300*time.Second || c.Grace != 60*time.Second || !sameStrings(msgIDs(msgs), ids[:10]) {
		t.Fatalf("default claim: %+v %v", c, msgIDs(msgs))
	}
	// Messages (ttl 3600) outlive the claim: unchanged.
	if msgs[0].TTL != time.Hour {
		t.Errorf("message ttl changed: %v", msgs[0].TTL)
	}

	got, gotMsgs, err := s.GetClaim(ctx, proj, "q", c.ID)
	must(t, err)
	if got.ID != c.ID || len(gotMsgs) != 10 {
		t.Errorf("GetClaim: %+v, %d messages", got, len(gotMsgs))
	}
	_, _, err = s.GetClaim(ctx, proj, "q", "nope")
	wantErr(t, "unknown claim", err, ErrNotFound, "Claim nope does not exist in queue q for project proj-1")

	// Renewal: omitted ttl/grace reset to the defaults.
	e.clock.Advance(100 * time.Second)
	must(t, s.UpdateClaim(ctx, proj, "q", c.ID, ClaimOptions{TTL: intp(600)}))
	got, _, _ = s.GetClaim(ctx, proj, "q", c.ID)
	if got.TTL != 600*time.Second || !got.Expires.Equal(e.clock.Now().Add(600*time.Second)) {
		t.Errorf("renewed claim: %+v", got)
	}
	must(t, s.UpdateClaim(ctx, proj, "q", c.ID, ClaimOptions{}))
	got, _, _ = s.GetClaim(ctx, proj, "q", c.ID)
	if got.TTL != 300*time.Second || got.Grace != 60*time.Second {
		t.Errorf("claim after {}: %+v", got)
	}
	wantErr(t, "renew unknown", s.UpdateClaim(ctx, proj, "q", "nope", ClaimOptions{}), ErrNotFound,
		"Claim nope does not exist in queue q for project proj-1")

	// Release makes the messages claimable again; releasing twice is fine.
	must(t, s.ReleaseClaim(ctx, proj, "q", c.ID))
	must(t, s.ReleaseClaim(ctx, proj, "q", c.ID))
	_, _, err = s.GetClaim(ctx, proj, "q", c.ID)
	wantErr(t, "released claim", err, ErrNotFound, fmt.Sprintf("Claim %s does not exist in queue q for project proj-1", c.ID))
	_, msgs, err = s.CreateClaim(ctx, proj, "q", ClaimOptions{Limit: 20})
	must(t, err)
	if !sameStrings(msgIDs(msgs), ids) {
		t.Errorf("after release: %v", msgIDs(msgs))
	}
}

func TestClaimExtendsMessageLife(t *testing.T) {
	e := newEnv(t)
	ctx, s := e.ctx, e.svc
	ids, err := s.PostMessages(ctx, producer, "q", []byte(`{"messages": [{"body": 1, "ttl": 60}]}`), 0)
	must(t, err)
	c, msgs, err := s.CreateClaim(ctx, proj, "q", ClaimOptions{TTL: intp(100), Grace: intp(60)})
	must(t, err)
	if len(msgs) != 1 || msgs[0].TTL != 160*time.Second {
		t.Fatalf("claimed message ttl: %+v", msgs)
	}
	must(t, s.UpdateClaim(ctx, proj, "q", c.ID, ClaimOptions{TTL: intp(200)}))
	m, err := s.GetMessage(ctx, proj, "q", ids[0])
	must(t, err)
	if m.TTL != 260*time.Second {
		t.Errorf("after renewal ttl = %v, want 260s", m.TTL)
	}
	// It outlives its original 60 s.
	e.clock.Advance(150 * time.Second)
	if _, err := s.GetMessage(ctx, proj, "q", ids[0]); err != nil {
		t.Errorf("extended message expired: %v", err)
	}
}

// deadLetterCounter is an Observer that also counts dead-lettered messages per queue.
type deadLetterCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (d *deadLetterCounter) MessagesPosted(PostEvent) {}

func (d *deadLetterCounter) MessagesDeadLettered(project, queue string, n int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.n[project+"/"+queue] += n
}

func TestDeadLetter(t *testing.T) {
	e := newEnv(t)
	ctx, s := e.ctx, e.svc
	dl := &deadLetterCounter{n: map[string]int{}}
	s.AddObserver(dl)
	_, err := s.CreateQueue(ctx, proj, "work", []byte(`{"_max_claim_count": 2, "_dead_letter_queue": "dlq",
		"_dead_letter_queue_messages_ttl": 120}`))
	must(t, err)
	ids := e.post(t, producer, "work", `"job"`)

	for round := 1; round <= 2; round++ {
		c, msgs, err := s.CreateClaim(ctx, proj, "work", ClaimOptions{})
		must(t, err)
		if !sameStrings(msgIDs(msgs), ids) {
			t.Fatalf("claim %d returned %v", round, msgIDs(msgs))
		}
		must(t, s.ReleaseClaim(ctx, proj, "work", c.ID))
	}
	c, msgs, err := s.CreateClaim(ctx, proj, "work", ClaimOptions{})
	must(t, err)
	if c.ID != "" || len(msgs) != 0 {
		t.Fatalf("third claim returned %+v %v", c, msgIDs(msgs))
	}
	st, _ := s.QueueStats(ctx, proj, "work")
	dst, _ := s.QueueStats(ctx, proj, "dlq")
	if st.Total != 0 || dst.Total != 1 {
		t.Fatalf("after dead-lettering: work %+v, dlq %+v", st, dst)
	}
	dl.mu.Lock()
	if got := dl.n[proj+"/work"]; got != 1 || len(dl.n) != 1 {
		t.Errorf("DeadLetterObserver told %v, want 1 for %s/work", dl.n, proj)
	}
	dl.mu.Unlock()
	list, err := s.ListMessages(ctx, consumer, "dlq", MessageListOptions{})
	must(t, err)
	if len(list.Messages) != 1 || string(list.Messages[0].Body) != `"job"` || list.Messages[0].TTL != 120*time.Second ||
		list.Messages[0].ClaimCount != 2 {
		t.Errorf("dead-lettered message: %+v", list.Messages)
	}

	// Without a dead-letter queue the count alone does nothing.
	_, err = s.CreateQueue(ctx, proj, "nodlq", []byte(`{"_max_claim_count": 1}`))
	must(t, err)
	e.post(t, producer, "nodlq", "1")
	for round := 1; round <= 3; round++ {
		c, msgs, err := s.CreateClaim(ctx, proj, "nodlq", ClaimOptions{})
		must(t, err)
		if len(msgs) != 1 {
			t.Fatalf("nodlq claim %d: %d messages", round, len(msgs))
		}
		must(t, s.ReleaseClaim(ctx, proj, "nodlq", c.ID))
	}
}
