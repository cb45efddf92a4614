package broker

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder is an observer that keeps every event.
type recorder struct {
	mu     sync.Mutex
	events []PostEvent
}

func (r *recorder) MessagesPosted(ev PostEvent) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

func TestPostMessages(t *testing.T) {
	rec := &recorder{}
	e := newEnv(t, WithObserver(rec))
	ctx, s := e.ctx, e.svc

	// Auto-creation, ids in order, observers told once with the stored messages.
	body := `{"messages": [{"body": {"event": "one"}, "ttl": 300}, {"body": [1, 2]}, {"body": "three", "delay": 5}]}`
	ids, err := s.PostMessages(ctx, producer, "q", []byte(body), len(body))
	must(t, err)
	if len(ids) != 3 {
		t.Fatalf("ids: %v", ids)
	}
	if rec.count() != 1 {
		t.Fatalf("observer called %d times", rec.count())
	}
	ev := rec.events[0]
	if ev.Project != proj || ev.Queue != "q" || len(ev.Messages) != 3 || !sameStrings(msgIDs(ev.Messages), ids) {
		t.Fatalf("event: %+v", ev)
	}
	if string(ev.Messages[0].Body) != `{"event": "one"}` || ev.Messages[0].TTL != 300*time.Second ||
		ev.Messages[1].TTL != time.Hour || ev.Messages[0].ClientID != producer.ClientID ||
		!ev.Messages[0].Created.Equal(e.clock.Now()) || !ev.Messages[2].DelayUntil.IsZero() {
		t.Errorf("event messages: %+v", ev.Messages)
	}
	list, _ := s.ListQueues(ctx, proj, QueueListOptions{})
	if len(list.Queues) != 1 || list.Queues[0].Name != "q" {
		t.Errorf("queue not auto-created: %+v", list)
	}
	got, err := s.ListMessages(ctx, consumer, "q", MessageListOptions{})
	must(t, err)
	if !sameStrings(msgIDs(got.Messages), ids) {
		t.Errorf("listed %v, posted %v", msgIDs(got.Messages), ids)
	}
	// The delay was dropped (not a delay queue): all three are visible and the listing forces include_delayed.
	if !got.IncludeDelayed {
		t.Error("include_delayed not forced on a queue without delay")
	}

	// Failures do not notify.
	_, err = s.PostMessages(ctx, producer, "q", []byte(`{"messages": []}`), 0)
	wantErr(t, "empty list", err, ErrInvalid, "No messages to enqueu.")
	e.st.FailOn("PostMessages")
	_, err = s.PostMessages(ctx, producer, "q", []byte(`{"messages": [{"body": 1}]}`), 0)
	wantErr(t, "store down", err, ErrUnavailable, "Messages could not be enqueued. Please try again in a few seconds.")
	e.st.Heal()
	if rec.count() != 1 {
		t.Errorf("observer called on failures: %d", rec.count())
	}

	// The queue's default ttl.
	_, err = s.CreateQueue(ctx, proj, "ttlq", []byte(`{"_default_message_ttl": 120}`))
	must(t, err)
	ids = e.post(t, producer, "ttlq", "1")
	m, err := s.GetMessage(ctx, proj, "ttlq", ids[0])
	must(t, err)
	if m.TTL != 120*time.Second {
		t.Errorf("queue default ttl not applied: %v", m.TTL)
	}
}

func TestPostSizeLimits(t *testing.T) {
	e := newEnv(t)
	ctx, s := e.ctx, e.svc
	body := []byte(`{"messages": [{"body": 1}]}`)

	_, err := s.PostMessages(ctx, producer, "q", body, 262145)
	wantErr(t, "config limit", err, ErrInvalid, "Message collection size is too large. Max size 262144")
	_, err = s.PostMessages(ctx, producer, "q", body, 262144)
	must(t, err)

	_, err = s.CreateQueue(ctx, proj, "small", []byte(`{"_max_messages_post_size": 100}`))
	must(t, err)
	_, err = s.PostMessages(ctx, producer, "small", body, 101)
	wantErr(t, "queue limit", err, ErrInvalid, "Message collection size is too large. The max size for current queue is 100. "+
		"It is calculated by max size = min(max_messages_post_size_config: 262144, max_messages_post_size_queue: 100).")
	_, err = s.PostMessages(ctx, producer, "small", body, 100)
	must(t, err)
	// size 0 means the body length.
	big := []byte(`{"messages": [{"body": "` + strings.Repeat("x", 100) + `"}]}`)
	_, err = s.PostMessages(ctx, producer, "small", big, 0)
	wantErr(t, "size from body", err, ErrInvalid, "Message collection size is too large. The max size for current queue is 100. "+
		"It is calculated by max size = min(max_messages_post_size_config: 262144, max_messages_post_size_queue: 100).")
	// The size check comes before parsing.
	_, err = s.PostMessages(ctx, producer, "q", []byte(`{`), 300000)
	wantErr(t, "size before parse", err, ErrInvalid, "Message collection size is too large. Max size 262144")
}

func TestDelayQueue(t *testing.T) {
	e := newEnv(t)
	ctx, s := e.ctx, e.svc
	_, err := s.CreateQueue(ctx, proj, "dq", []byte(`{"_default_message_delay": 30}`))
	must(t, err)
	_, err = s.PostMessages(ctx, producer, "dq", []byte(`{"messages": [{"body": 1, "delay": 901}]}`), 0)
	wantErr(t, "delay range", err, ErrInvalid, "The Delay TTL for a message may not exceed 900 seconds,and must be at least 0 seconds long.")

	ids, err := s.PostMessages(ctx, producer, "dq", []byte(`{"messages": [{"body": "default"}, {"body": "now", "delay": 0}, {"body": "later", "delay": 60}]}`), 0)
	must(t, err)
	list, err := s.ListMessages(ctx, consumer, "dq", MessageListOptions{})
	must(t, err)
	if list.IncludeDelayed || !sameStrings(msgIDs(list.Messages), ids[1:2]) {
		t.Errorf("delay queue listing: include_delayed=%v %v", list.IncludeDelayed, msgIDs(list.Messages))
	}
	yes := true
	list, err = s.ListMessages(ctx, consumer, "dq", MessageListOptions{IncludeDelayed: &yes})
	must(t, err)
	if !list.IncludeDelayed || len(list.Messages) != 3 {
		t.Errorf("include_delayed=true: %v", msgIDs(list.Messages))
	}
	_, claimed, err := s.CreateClaim(ctx, proj, "dq", ClaimOptions{})
	must(t, err)
	if !sameStrings(msgIDs(claimed), ids[1:2]) {
		t.Errorf("claimed delayed messages: %v", msgIDs(claimed))
	}
	e.clock.Advance(31 * time.Second)
	list, _ = s.ListMessages(ctx, consumer, "dq", MessageListOptions{IncludeClaimed: true})
	if !sameStrings(msgIDs(list.Messages), ids[:2]) {
		t.Errorf("after 31 s: %v", msgIDs(list.Messages))
	}
	// On a queue without delay, include_delayed=false is overridden.
	no := false
	e.post(t, producer, "plain", "1")
	list, _ = s.ListMessages(ctx, consumer, "plain", MessageListOptions{IncludeDelayed: &no})
	if !list.IncludeDelayed || len(list.Messages) != 1 {
		t.Errorf("plain queue: %+v", list)
	}
}

func TestListMessages(t *testing.T) {
	e := newEnv(t)
	ctx, s := e.ctx, e.svc

	list, err := s.ListMessages(ctx, consumer, "missing", MessageListOptions{})
	must(t, err)
	if list.Messages == nil || len(list.Messages) != 0 || list.Marker != "" {
		t.Errorf("missing queue: %+v", list)
	}
	for _, limit := range []int{-1, 21} {
		_, err := s.ListMessages(ctx, consumer, "q", MessageListOptions{Limit: limit})
		wantErr(t, fmt.Sprint("limit ", limit), err, ErrInvalid, "Limit must be at least 1 and may not be greater than 20.")
	}

	var ids []string
	for i := 0; i < 12; i++ {
		ids = append(ids, e.post(t, producer, "q", fmt.Sprint(i))...)
	}
	// Echo: the producer sees nothing by default, everything with echo; the client ID compare is canonical.
	list, _ = s.ListMessages(ctx, producer, "q", MessageListOptions{})
	if len(list.Messages) != 0 {
		t.Errorf("producer without echo sees %d", len(list.Messages))
	}
	same, err := ParseClientID(strings.ToUpper(ClientIDString(producer.ClientID)))
	must(t, err)
	list, _ = s.ListMessages(ctx, Caller{Project: proj, ClientID: same}, "q", MessageListOptions{Echo: true, Limit: 20})
	if !sameStrings(msgIDs(list.Messages), ids) {
		t.Errorf("echo: %v", msgIDs(list.Messages))
	}
	// Default page size, paging by marker.
	list, _ = s.ListMessages(ctx, consumer, "q", MessageListOptions{})
	if !sameStrings(msgIDs(list.Messages), ids[:10]) || list.Marker == "" {
		t.Fatalf("first page: %v marker %q", msgIDs(list.Messages), list.Marker)
	}
	list, _ = s.ListMessages(ctx, consumer, "q", MessageListOptions{Marker: list.Marker})
	if !sameStrings(msgIDs(list.Messages), ids[10:]) {
		t.Errorf("second page: %v", msgIDs(list.Messages))
	}
	// Claimed messages are hidden unless asked for.
	_, claimed, err := s.CreateClaim(ctx, proj, "q", ClaimOptions{Limit: 2})
	must(t, err)
	list, _ = s.ListMessages(ctx, consumer, "q", MessageListOptions{Limit: 20})
	if !sameStrings(msgIDs(list.Messages), ids[2:]) {
		t.Errorf("without claimed: %v", msgIDs(list.Messages))
	}
	list, _ = s.ListMessages(ctx, consumer, "q", MessageListOptions{Limit: 20, IncludeClaimed: true})
	if !sameStrings(msgIDs(list.Messages), ids) || list.Messages[0].ClaimID == "" || !sameStrings(msgIDs(claimed), ids[:2]) {
		t.Errorf("with claimed: %v", msgIDs(list.Messages))
	}
	// Expired messages vanish.
	e.clock.Advance(time.Hour + time.Second)
	list, _ = s.ListMessages(ctx, consumer, "q", MessageListOptions{Limit: 20, IncludeClaimed: true})
	if len(list.Messages) != 0 {
		t.Errorf("expired messages listed: %d", len(list.Messages))
	}
}

func TestGetMessages(t *testing.T) {
	e := newEnv(t)
	ctx, s := e.ctx, e.svc

	_, err := s.GetMessage(ctx, proj, "q", "nope")
	wantErr(t, "missing queue", err, ErrNotFound, "Queue q does not exist for project proj-1")
	ids := e.post(t, producer, "q", `"a"`, `"b"`, `"c"`)
	_, err = s.GetMessage(ctx, proj, "q", "nope")
	wantErr(t, "missing message", err, ErrNotFound, "Message nope does not exist in queue q for project proj-1")
	m, err := s.GetMessage(ctx, proj, "q", ids[1])
	must(t, err)
	if m.ID != ids[1] || string(m.Body) != `"b"` {
		t.Errorf("GetMessage: %+v", m)
	}
	// Scoped to the queue.
	_, err = s.GetMessage(ctx, proj, "q", ids[1])
	must(t, err)
	e.post(t, producer, "other", "1")
	_, err = s.GetMessage(ctx, proj, "other", ids[1])
	wantErr(t, "other queue", err, ErrNotFound, fmt.Sprintf("Message %s does not exist in queue other for project proj-1", ids[1]))

	for _, n := range []int{0, 21} {
		_, err := s.GetMessages(ctx, proj, "q", make([]string, n))
		wantErr(t, fmt.Sprint(n, " ids"), err, ErrInvalid, "Limit must be at least 1 and may not be greater than 20.")
	}
	_, err = s.GetMessages(ctx, proj, "q", []string{"a", "b'c"})
	wantErr(t, "none found", err, ErrNotFound, `No messages with IDs: ['a', "b'c"] found in the queue q for project proj-1.`)
	_, err = s.GetMessages(ctx, proj, "missing", []string{"a"})
	wantErr(t, "none found, missing queue", err, ErrNotFound, "No messages with IDs: ['a'] found in the queue missing for project proj-1.")
	got, err := s.GetMessages(ctx, proj, "q", []string{ids[2], "zzz", ids[0]})
	must(t, err)
	if !sameStrings(msgIDs(got), []string{ids[0], ids[2]}) {
		t.Errorf("GetMessages: %v", msgIDs(got))
	}
}

func TestDeleteMessages(t *testing.T) {
	e := newEnv(t)
	ctx, s := e.ctx, e.svc

	must(t, s.DeleteMessage(ctx, proj, "missing", "m", ""))
	ids := e.post(t, producer, "q", "1", "2", "3", "4", "5")
	must(t, s.DeleteMessage(ctx, proj, "q", ids[4], ""))
	must(t, s.DeleteMessage(ctx, proj, "q", ids[4], ""))

	claim, _, err := s.CreateClaim(ctx, proj, "q", ClaimOptions{Limit: 1})
	must(t, err)
	wantErr(t, "claimed, no claim", s.DeleteMessage(ctx, proj, "q", ids[0], ""), ErrClaimed,
		"This message is claimed; it cannot be deleted without a valid claim ID.")
	wantErr(t, "claimed, unknown claim", s.DeleteMessage(ctx, proj, "q", ids[0], "nope"), ErrCannotDelete,
		"The specified claim does not exist or has expired.")
	wantErr(t, "not claimed, claim given", s.DeleteMessage(ctx, proj, "q", ids[1], claim.ID), ErrCannotDelete,
		"A claim was specified, but the message is not currently claimed.")
	must(t, s.DeleteMessage(ctx, proj, "q", ids[0], claim.ID))
	if _, err := s.GetMessage(ctx, proj, "q", ids[0]); err == nil {
		t.Error("deleted message still there")
	}

	// Bulk delete ignores claims and unknown ids.
	for _, n := range []int{0, 21} {
		wantErr(t, fmt.Sprint(n, " ids"), s.DeleteMessages(ctx, proj, "q", make([]string, n)), ErrInvalid,
			"ids parameter should have at least 1 and not greater than 20 values.")
	}
	_, claimed, err := s.CreateClaim(ctx, proj, "q", ClaimOptions{Limit: 1})
	must(t, err)
	must(t, s.DeleteMessages(ctx, proj, "q", []string{claimed[0].ID, "unknown"}))
	st, _ := s.QueueStats(ctx, proj, "q")
	if st.Total != 2 {
		t.Errorf("after bulk delete: %+v", st)
	}

	// Pop takes unclaimed messages from the head.
	for _, n := range []int{0, 21} {
		_, err := s.PopMessages(ctx, proj, "q", n)
		wantErr(t, fmt.Sprint("pop ", n), err, ErrInvalid, "Pop value must be at least 1 and may not be greater than 20.")
	}
	_, _, err = s.CreateClaim(ctx, proj, "q", ClaimOptions{Limit: 1})
	must(t, err)
	popped, err := s.PopMessages(ctx, proj, "q", 5)
	must(t, err)
	if !sameStrings(msgIDs(popped), ids[3:4]) {
		t.Errorf("popped %v", msgIDs(popped))
	}
	popped, err = s.PopMessages(ctx, proj, "missing", 5)
	must(t, err)
	if popped == nil || len(popped) != 0 {
		t.Errorf("pop of a missing queue: %v", popped)
	}

	wantErr(t, "both", CheckDeleteQuery(true, true), ErrInvalid, "pop and id params cannot be present together in the delete request.")
	wantErr(t, "neither", CheckDeleteQuery(false, false), ErrInvalid,
		`The request should have either "ids" or "pop" parameter in the request, to be able to delete.`)
	if CheckDeleteQuery(true, false) != nil || CheckDeleteQuery(false, true) != nil {
		t.Error("CheckDeleteQuery rejects a valid query")
	}
}

type panicky struct{}

func (panicky) MessagesPosted(PostEvent) { panic("boom") }

func TestObservers(t *testing.T) {
	first, late := &recorder{}, &recorder{}
	e := newEnv(t, WithObserver(panicky{}), WithObserver(first))
	ctx, s := e.ctx, e.svc

	// A panicking observer neither fails the post nor starves the others.
	ids := e.post(t, producer, "q", "1")
	if len(ids) != 1 || first.count() != 1 {
		t.Fatalf("ids %v, observer calls %d", ids, first.count())
	}

	// Observers can be added while posts are running (run with -race).
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				if _, err := s.PostMessages(ctx, producer, "q", []byte(`{"messages": [{"body": 1}]}`), 0); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	s.AddObserver(late)
	wg.Wait()
	if first.count() != 201 {
		t.Errorf("first observer saw %d posts, want 201", first.count())
	}
	before := late.count()
	e.post(t, producer, "q", "2")
	if late.count() != before+1 {
		t.Errorf("late observer not called after registration")
	}
	// Event messages do not alias the request.
	body := []byte(`{"messages": [{"body": "original"}]}`)
	_, err := s.PostMessages(ctx, producer, "q", body, 0)
	must(t, err)
	copy(body, strings.Repeat("x", len(body)))
	ev := late.events[len(late.events)-1]
	if string(ev.Messages[0].Body) != `"original"` {
		t.Errorf("event body aliases the request: %s", ev.Messages[0].Body)
	}
}
