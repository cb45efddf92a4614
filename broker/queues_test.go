package broker

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestQueueNameCheckedEverywhere(t *testing.T) {
	e := newEnv(t)
	ctx := e.ctx
	s := e.svc
	const desc = "The format of the submitted queue name or project id is not valid."
	longProject := strings.Repeat("p", 257)
	calls := map[string]func(project, q string) error{
		"CreateQueue": func(p, q string) error { _, err := s.CreateQueue(ctx, p, q, nil); return err },
		"GetQueue":    func(p, q string) error { _, err := s.GetQueue(ctx, p, q); return err },
		"PatchQueue":  func(p, q string) error { _, err := s.PatchQueue(ctx, p, q, []byte(`[]`)); return err },
		"DeleteQueue": func(p, q string) error { return s.DeleteQueue(ctx, p, q) },
		"QueueStats":  func(p, q string) error { _, err := s.QueueStats(ctx, p, q); return err },
		"PurgeQueue":  func(p, q string) error { return s.PurgeQueue(ctx, p, q, nil) },
		"PostMessages": func(p, q string) error {
			_, err := s.PostMessages(ctx, Caller{Project: p}, q, []byte(`{"messages":[{"body":1}]}`), 0)
			return err
		},
		"ListMessages": func(p, q string) error {
			_, err := s.ListMessages(ctx, Caller{Project: p}, q, MessageListOptions{})
			return err
		},
		"GetMessage":     func(p, q string) error { _, err := s.GetMessage(ctx, p, q, "m"); return err },
		"GetMessages":    func(p, q string) error { _, err := s.GetMessages(ctx, p, q, []string{"m"}); return err },
		"DeleteMessage":  func(p, q string) error { return s.DeleteMessage(ctx, p, q, "m", "") },
		"DeleteMessages": func(p, q string) error { return s.DeleteMessages(ctx, p, q, []string{"m"}) },
		"PopMessages":    func(p, q string) error { _, err := s.PopMessages(ctx, p, q, 1); return err },
		"CreateClaim":    func(p, q string) error { _, _, err := s.CreateClaim(ctx, p, q, ClaimOptions{}); return err },
		"GetClaim":       func(p, q string) error { _, _, err := s.GetClaim(ctx, p, q, "c"); return err },
		"UpdateClaim":    func(p, q string) error { return s.UpdateClaim(ctx, p, q, "c", ClaimOptions{}) },
		"ReleaseClaim":   func(p, q string) error { return s.ReleaseClaim(ctx, p, q, "c") },
		"CreateSubscription": func(p, q string) error {
			_, _, err := s.CreateSubscription(ctx, p, q, []byte(`{"subscriber":"http://x"}`))
			return err
		},
		"ListSubscriptions":  func(p, q string) error { _, err := s.ListSubscriptions(ctx, p, q, "", 0); return err },
		"GetSubscription":    func(p, q string) error { _, err := s.GetSubscription(ctx, p, q, "s"); return err },
		"UpdateSubscription": func(p, q string) error { return s.UpdateSubscription(ctx, p, q, "s", []byte(`{"ttl":60}`)) },
		"ConfirmSubscription": func(p, q string) error {
			_, err := s.ConfirmSubscription(ctx, p, q, "s", []byte(`{"confirmed":true}`))
			return err
		},
		"DeleteSubscription": func(p, q string) error { return s.DeleteSubscription(ctx, p, q, "s") },
	}
	for name, call := range calls {
		for _, tc := range []struct{ project, queue string }{
			{proj, ""}, {proj, "bad name"}, {proj, strings.Repeat("q", 65)}, {proj, "q/x"}, {longProject, "q"},
		} {
			wantErr(t, fmt.Sprintf("%s(%.10q, %q)", name, tc.project, tc.queue), call(tc.project, tc.queue), ErrBadQueueName, desc)
		}
	}
	// Nothing was created by the rejected calls.
	list, err := s.ListQueues(ctx, proj, QueueListOptions{WithCount: true})
	must(t, err)
	if len(list.Queues) != 0 || list.HasCount {
		t.Errorf("rejected calls created queues: %+v", list)
	}
}

func defaultsWith(extra map[string]string) map[string]string {
	want := map[string]string{
		"_max_messages_post_size": "262144", "_default_message_ttl": "3600", "_default_message_delay": "0",
		"_dead_letter_queue": "null", "_dead_letter_queue_messages_ttl": "null", "_max_claim_count": "null",
		"_enable_encrypt_messages": "false",
	}
	for k, v := range extra {
		want[k] = v
	}
	return want
}

func checkMetadata(t *testing.T, what string, got Metadata, want map[string]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: got %d keys %v, want %d", what, len(got), got, len(want))
	}
	for k, v := range want {
		if string(got[k]) != v {
			t.Errorf("%s: %s = %s, want %s", what, k, got[k], v)
		}
	}
}

func TestCreateAndGetQueue(t *testing.T) {
	e := newEnv(t)
	ctx, s := e.ctx, e.svc

	// A missing queue reports the defaults.
	md, err := s.GetQueue(ctx, proj, "missing")
	must(t, err)
	checkMetadata(t, "missing queue", md, defaultsWith(nil))

	created, err := s.CreateQueue(ctx, proj, "q1", []byte(`{"key": "v", "n": {"a": [1, 2.50]}, "_default_message_ttl": 120,
		"_max_claim_count": 0, "_dead_letter_queue": "", "_other": 1}`))
	must(t, err)
	if !created {
		t.Fatal("first PUT did not create")
	}
	md, err = s.GetQueue(ctx, proj, "q1")
	must(t, err)
	checkMetadata(t, "q1", md, defaultsWith(map[string]string{
		"key": `"v"`, "n": `{"a": [1, 2.50]}`, "_default_message_ttl": "120", "_other": "1",
	}))

	// PUT is create-only.
	created, err = s.CreateQueue(ctx, proj, "q1", []byte(`{"key": "changed"}`))
	must(t, err)
	if created {
		t.Error("second PUT reported created")
	}
	md, _ = s.GetQueue(ctx, proj, "q1")
	if string(md["key"]) != `"v"` {
		t.Errorf("second PUT changed the metadata: %s", md["key"])
	}

	created, err = s.CreateQueue(ctx, proj, "q2", nil)
	must(t, err)
	if !created {
		t.Error("PUT without a body did not create")
	}

	errs := []struct {
		body string
		kind error
		desc string
	}{
		{`[]`, ErrBadBody, "Document type not supported."},
		{`null`, ErrBadBody, "Request body could not be parsed."},
		{`{"a": }`, ErrBadBody, "Request body could not be parsed."},
		{`{"a": 9223372036854775808}`, ErrBadBody, "JSON contains integer that is too large."},
		{`{"_default_message_ttl": 30}`, ErrInvalid, "_default_message_ttl can not exceed 1209600 seconds, and must be at least 60 seconds long."},
		{`{"_max_messages_post_size": "x"}`, ErrInvalid, "_max_messages_post_size must be integer."},
		{`{"a": "` + strings.Repeat("x", 65536) + `"}`, ErrInvalid, "Queue metadata is too large. Max size: 65536"},
	}
	for _, tc := range errs {
		_, err := s.CreateQueue(ctx, proj, "bad", []byte(tc.body))
		wantErr(t, tc.body, err, tc.kind, tc.desc)
	}
	list, _ := s.ListQueues(ctx, proj, QueueListOptions{})
	for _, q := range list.Queues {
		if q.Name == "bad" {
			t.Error("a rejected PUT created the queue")
		}
	}
}

func TestPatchQueue(t *testing.T) {
	e := newEnv(t)
	ctx, s := e.ctx, e.svc
	patch := func(q, body string) (Metadata, error) { return s.PatchQueue(ctx, proj, q, []byte(body)) }

	// Validation of the operations comes before the queue lookup.
	_, err := patch("missing", `[{"op": "move", "path": "/metadata/a"}]`)
	wantErr(t, "bad op on a missing queue", err, ErrBadBody, "Invalid operation: `move`. It must be one of the following: add, remove, replace.")
	_, err = patch("missing", `[{"op": "add", "path": "/metadata/a", "value": 1}]`)
	wantErr(t, "missing queue", err, ErrNotFound, "Queue missing does not exist for project proj-1")
	_, err = patch("missing", `{"op": "add"}`)
	wantErr(t, "object body", err, ErrBadBody, "Document type not supported.")

	_, err = s.CreateQueue(ctx, proj, "q", []byte(`{"a": 1, "b": "two"}`))
	must(t, err)

	md, err := patch("q", `[{"op": "add", "path": "/metadata/c", "value": [3]},
		{"op": "replace", "path": "/metadata/a", "value": {"x": 1}},
		{"op": "remove", "path": "/metadata/b"},
		{"op": "replace", "path": "/metadata/_default_message_ttl", "value": 300},
		{"op": "remove", "path": "/metadata/_max_claim_count"}]`)
	must(t, err)
	want := defaultsWith(map[string]string{"a": `{"x": 1}`, "c": "[3]", "_default_message_ttl": "300"})
	checkMetadata(t, "patched", md, want)
	got, _ := s.GetQueue(ctx, proj, "q")
	checkMetadata(t, "after patch", got, want)

	// python-zaqarclient's metadata(new_meta=...) shape: replace keys shown by GET (reserved defaults included),
	// add new ones, remove everything else shown by GET, including reserved keys that are not stored.
	var ops []string
	for k := range got {
		switch k {
		case "a", "_default_message_ttl", "_max_messages_post_size":
			ops = append(ops, fmt.Sprintf(`{"op": "replace", "path": "/metadata/%s", "value": %s}`, k, got[k]))
		default:
			ops = append(ops, fmt.Sprintf(`{"op": "remove", "path": "/metadata/%s"}`, k))
		}
	}
	ops = append(ops, `{"op": "add", "path": "/metadata/new", "value": true}`)
	md, err = patch("q", "["+strings.Join(ops, ",")+"]")
	must(t, err)
	checkMetadata(t, "client-style patch", md, defaultsWith(map[string]string{"a": `{"x": 1}`, "_default_message_ttl": "300", "new": "true"}))

	conflicts := []struct{ body, desc string }{
		{`[{"op": "replace", "path": "/metadata/nope", "value": 1}]`, "Can't replace non-existent object nope."},
		{`[{"op": "remove", "path": "/metadata/nope"}]`, "Can't remove non-existent object nope."},
		{`[{"op": "replace", "path": "/metadata/_retry_policy", "value": {}}]`, "Can't replace non-existent object _retry_policy."},
		{`[{"op": "add", "path": "/metadata/z", "value": 1}, {"op": "remove", "path": "/metadata/z"}, {"op": "remove", "path": "/metadata/z"}]`,
			"Can't remove non-existent object z."},
	}
	for _, tc := range conflicts {
		_, err := patch("q", tc.body)
		wantErr(t, tc.body, err, ErrConflict, tc.desc)
	}
	// Reserved keys are validated after applying, with the PATCH kind.
	_, err = patch("q", `[{"op": "add", "path": "/metadata/_default_message_delay", "value": 1000}]`)
	wantErr(t, "bad delay", err, ErrBadBody, "The TTL can not exceed 900 seconds, and must be at least 0 seconds long.")
	_, err = patch("q", `[{"op": "add", "path": "/metadata/zz", "value": 1}, {"op": "add", "path": "/metadata/_default_message_ttl", "value": "x"}]`)
	wantErr(t, "bad ttl", err, ErrBadBody, "_default_message_ttl must be integer.")

	// Failed patches changed nothing.
	got, _ = s.GetQueue(ctx, proj, "q")
	checkMetadata(t, "after failed patches", got, defaultsWith(map[string]string{"a": `{"x": 1}`, "_default_message_ttl": "300", "new": "true"}))

	// An empty array is a no-op.
	md, err = patch("q", `[]`)
	must(t, err)
	checkMetadata(t, "no-op", md, defaultsWith(map[string]string{"a": `{"x": 1}`, "_default_message_ttl": "300", "new": "true"}))
}

func TestListQueues(t *testing.T) {
	e := newEnv(t)
	ctx, s := e.ctx, e.svc

	list, err := s.ListQueues(ctx, proj, QueueListOptions{WithCount: true})
	must(t, err)
	if len(list.Queues) != 0 || list.HasCount {
		t.Errorf("empty project: %+v", list)
	}

	for i := 0; i < 25; i++ {
		md := fmt.Sprintf(`{"n": %d, "kind": "%s", "tags": ["t%d", "all"]}`, i, []string{"even", "odd"}[i%2], i)
		if i == 24 {
			md = `{"n": 24.0, "kind": "even"}`
		}
		_, err := s.CreateQueue(ctx, proj, fmt.Sprintf("q%02d", i), []byte(md))
		must(t, err)
	}
	_, err = s.CreateQueue(ctx, "other", "q99", nil)
	must(t, err)

	for _, limit := range []int{-1, 21} {
		_, err := s.ListQueues(ctx, proj, QueueListOptions{Limit: limit})
		wantErr(t, fmt.Sprint("limit ", limit), err, ErrInvalid, "Limit must be at least 1 and no greater than 20.")
	}

	names := func(l QueueList) string {
		var out []string
		for _, q := range l.Queues {
			out = append(out, q.Name)
		}
		return strings.Join(out, ",")
	}
	list, err = s.ListQueues(ctx, proj, QueueListOptions{WithCount: true})
	must(t, err)
	if names(list) != "q00,q01,q02,q03,q04,q05,q06,q07,q08,q09" || !list.HasCount || list.Count != 25 {
		t.Errorf("default page: %s count %d/%v", names(list), list.Count, list.HasCount)
	}
	if list.Queues[0].Metadata != nil {
		t.Error("metadata returned without Detailed")
	}
	list, err = s.ListQueues(ctx, proj, QueueListOptions{Marker: "q09", Limit: 20})
	must(t, err)
	if !strings.HasPrefix(names(list), "q10,q11") || len(list.Queues) != 15 {
		t.Errorf("second page: %s", names(list))
	}

	list, err = s.ListQueues(ctx, proj, QueueListOptions{Name: "1", Limit: 5})
	must(t, err)
	if names(list) != "q01,q10,q11,q12,q13" {
		t.Errorf("name filter: %s", names(list))
	}

	// Metadata filters: an integer value matches numbers (24.0 too), a string matches strings, an array
	// matches an element; filtering reads past the first store page.
	list, err = s.ListQueues(ctx, proj, QueueListOptions{Filters: map[string]string{"n": "24"}})
	must(t, err)
	if names(list) != "q24" {
		t.Errorf("n=24: %s", names(list))
	}
	list, err = s.ListQueues(ctx, proj, QueueListOptions{Filters: map[string]string{"kind": "odd"}, Limit: 3, Marker: "q10"})
	must(t, err)
	if names(list) != "q11,q13,q15" {
		t.Errorf("kind=odd: %s", names(list))
	}
	list, err = s.ListQueues(ctx, proj, QueueListOptions{Filters: map[string]string{"tags": "t7", "kind": "odd"}})
	must(t, err)
	if names(list) != "q07" {
		t.Errorf("tags=t7: %s", names(list))
	}
	list, err = s.ListQueues(ctx, proj, QueueListOptions{Filters: map[string]string{"n": "x"}})
	must(t, err)
	if names(list) != "" {
		t.Errorf("n=x: %s", names(list))
	}

	list, err = s.ListQueues(ctx, proj, QueueListOptions{Detailed: true, Limit: 1})
	must(t, err)
	checkMetadata(t, "detailed", list.Queues[0].Metadata, defaultsWith(map[string]string{
		"n": "0", "kind": `"even"`, "tags": `["t0", "all"]`,
	}))
	if _, err := json.Marshal(list.Queues[0].Metadata); err != nil {
		t.Errorf("detailed metadata does not marshal: %v", err)
	}
}

func TestDeleteStatsPurge(t *testing.T) {
	e := newEnv(t)
	ctx, s := e.ctx, e.svc

	st, err := s.QueueStats(ctx, proj, "missing")
	must(t, err)
	if st.Total != 0 || st.Claimed != 0 || st.Oldest != nil {
		t.Errorf("missing queue stats: %+v", st)
	}
	must(t, s.DeleteQueue(ctx, proj, "missing"))

	e.post(t, producer, "q", "1", "2", "3")
	_, msgs, err := s.CreateClaim(ctx, proj, "q", ClaimOptions{Limit: 2})
	must(t, err)
	if len(msgs) != 2 {
		t.Fatalf("claimed %d", len(msgs))
	}
	st, err = s.QueueStats(ctx, proj, "q")
	must(t, err)
	if st.Total != 3 || st.Claimed != 2 {
		t.Errorf("stats: %+v", st)
	}
	_, _, err = s.CreateSubscription(ctx, proj, "q", []byte(`{"subscriber": "http://127.0.0.1/a"}`))
	must(t, err)
	_, _, err = s.CreateSubscription(ctx, proj, "q", []byte(`{"subscriber": "http://127.0.0.1/b"}`))
	must(t, err)

	wantErr(t, "bad purge", s.PurgeQueue(ctx, proj, "q", []byte(`{"resource_types": ["queues"]}`)), ErrInvalid,
		"Resource types must be a sub set of {'messages', 'subscriptions'}.")
	wantErr(t, "bad purge body", s.PurgeQueue(ctx, proj, "q", []byte(`{"resource_types": [`)), ErrBadBody,
		"Request body could not be parsed.")

	// Subscriptions only.
	must(t, s.PurgeQueue(ctx, proj, "q", []byte(`{"resource_types": ["subscriptions"]}`)))
	subs, _ := s.ListSubscriptions(ctx, proj, "q", "", 0)
	st, _ = s.QueueStats(ctx, proj, "q")
	if len(subs) != 0 || st.Total != 3 {
		t.Errorf("after purging subscriptions: %d subs, %d messages", len(subs), st.Total)
	}
	// Messages, claimed ones included.
	must(t, s.PurgeQueue(ctx, proj, "q", []byte(`{"resource_types": ["messages"]}`)))
	st, _ = s.QueueStats(ctx, proj, "q")
	if st.Total != 0 {
		t.Errorf("after purging messages: %+v", st)
	}
	// No body: both; a missing queue is fine.
	must(t, s.PurgeQueue(ctx, proj, "q", nil))
	must(t, s.PurgeQueue(ctx, proj, "missing", nil))

	e.post(t, producer, "q", "4")
	must(t, s.DeleteQueue(ctx, proj, "q"))
	st, _ = s.QueueStats(ctx, proj, "q")
	list, _ := s.ListQueues(ctx, proj, QueueListOptions{})
	if st.Total != 0 || len(list.Queues) != 0 {
		t.Errorf("after delete: stats %+v, queues %+v", st, list.Queues)
	}
}
