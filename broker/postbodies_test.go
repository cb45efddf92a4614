package broker

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

// wrapBodies is the PostMessages body carrying the same message as a BodyMessage (the format postBodiesSize counts).
func wrapBodies(msgs []BodyMessage) []byte {
	b := []byte(`{"messages":[`)
	for i, m := range msgs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		if m.TTL != 0 {
			b = append(b, `"ttl":`+strconv.Itoa(m.TTL)+`,`...)
		}
		b = append(b, `"body":`...)
		b = append(b, m.Body...)
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

// PostBodies accepts and refuses exactly what PostMessages does with the equivalent body, with the same error.
func TestPostBodiesMatchesPostMessages(t *testing.T) {
	long := `"` + strings.Repeat("x", 120) + `"`
	for _, tc := range []struct {
		name  string
		queue string
		meta  string // queue metadata, "" for a queue that does not exist yet
		msgs  []BodyMessage
	}{
		{"object", "q", "", []BodyMessage{{Body: []byte(`{"a": 1}`), TTL: 300}}},
		{"scalars, default ttl", "q", "", []BodyMessage{{Body: []byte(`1`)}, {Body: []byte(` "s" `)}, {Body: []byte(`null`)}}},
		{"queue default ttl", "q", `{"_default_message_ttl": 120}`, []BodyMessage{{Body: []byte(`true`)}}},
		{"delay queue", "q", `{"_default_message_delay": 30}`, []BodyMessage{{Body: []byte(`[]`)}}},
		{"malformed", "q", "", []BodyMessage{{Body: []byte(`1`)}, {Body: []byte(`{"a":`)}}},
		{"trailing value", "q", "", []BodyMessage{{Body: []byte(`1, 2`)}}},
		{"empty body", "q", "", []BodyMessage{{Body: nil}}},
		{"int too large", "q", "", []BodyMessage{{Body: []byte(`{"n": 99999999999999999999}`)}}},
		{"not utf-8", "q", "", []BodyMessage{{Body: []byte("\"\xff\"")}}},
		{"ttl too small", "q", "", []BodyMessage{{Body: []byte(`1`), TTL: 59}}},
		{"ttl too large", "q", "", []BodyMessage{{Body: []byte(`1`), TTL: 1209601}}},
		{"bad ttl after bad body", "q", "", []BodyMessage{{Body: []byte(`1`), TTL: 5}, {Body: []byte(`x`)}}},
		{"queue size limit", "q", `{"_max_messages_post_size": 100}`, []BodyMessage{{Body: []byte(long)}}},
		{"queue size limit exactly", "q", `{"_max_messages_post_size": 145}`, []BodyMessage{{Body: []byte(long), TTL: 60}}},
		{"queue size limit by one", "q", `{"_max_messages_post_size": 144}`, []BodyMessage{{Body: []byte(long), TTL: 60}}},
		{"config size limit", "q", "", []BodyMessage{{Body: []byte(`"` + strings.Repeat("y", 262144) + `"`)}}},
		{"bad queue name", "bad name", "", []BodyMessage{{Body: []byte(`1`)}}},
		{"no messages", "q", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			results := make([]struct {
				err  error
				msgs []Message
			}, 2)
			for i := range results {
				e := newEnv(t)
				if tc.meta != "" {
					must(t, func() error { _, err := e.svc.CreateQueue(e.ctx, proj, tc.queue, []byte(tc.meta)); return err }())
				}
				var ids []string
				var err error
				if i == 0 {
					ids, err = e.svc.PostBodies(e.ctx, proj, tc.queue, tc.msgs)
				} else {
					ids, err = e.svc.PostMessages(e.ctx, producer, tc.queue, wrapBodies(tc.msgs), 0)
				}
				results[i].err = err
				if err == nil {
					got, gerr := e.svc.GetMessages(e.ctx, proj, tc.queue, ids)
					must(t, gerr)
					results[i].msgs = got
				}
			}
			fast, slow := results[0], results[1]
			var fe, se *Error
			switch {
			case (fast.err == nil) != (slow.err == nil):
				t.Fatalf("PostBodies: %v; PostMessages: %v", fast.err, slow.err)
			case fast.err != nil:
				if !errors.As(fast.err, &fe) || !errors.As(slow.err, &se) || fe.Kind != se.Kind || fe.Description != se.Description {
					t.Fatalf("PostBodies: %v; PostMessages: %v", fast.err, slow.err)
				}
			default:
				if len(fast.msgs) != len(slow.msgs) {
					t.Fatalf("stored %d and %d", len(fast.msgs), len(slow.msgs))
				}
				for i := range fast.msgs {
					f, s := fast.msgs[i], slow.msgs[i]
					if string(f.Body) != string(s.Body) || f.TTL != s.TTL || !f.DelayUntil.Equal(s.DelayUntil) {
						t.Errorf("message %d: %s ttl %v delay %v; %s ttl %v delay %v", i, f.Body, f.TTL, f.DelayUntil,
							s.Body, s.TTL, s.DelayUntil)
					}
				}
			}
		})
	}
}

func TestPostBodies(t *testing.T) {
	rec := &recorder{}
	e := newEnv(t, WithObserver(rec))
	a, b := ClientID{0xa1}, ClientID{0xb2}
	bodies := [][]byte{[]byte(`{"from": "a"}`), []byte(`{"from": "b"}`)}
	ids, err := e.svc.PostBodies(e.ctx, proj, "telemetry", []BodyMessage{{Body: bodies[0], ClientID: a, TTL: 600},
		{Body: bodies[1], ClientID: b}})
	must(t, err)
	copy(bodies[0], "xxxxxxxxxxxxx") // the caller reuses its buffer
	if rec.count() != 1 || len(rec.events[0].Messages) != 2 || rec.events[0].Queue != "telemetry" {
		t.Fatalf("events: %+v", rec.events)
	}
	ev := rec.events[0].Messages
	if string(ev[0].Body) != `{"from": "a"}` || ev[0].ClientID != a || ev[1].ClientID != b || ev[0].TTL != 600*time.Second {
		t.Errorf("event: %+v", ev)
	}
	// Each message is its poster's: a listing without echo hides a's own message from a only.
	list, err := e.svc.ListMessages(e.ctx, Caller{Project: proj, ClientID: a}, "telemetry", MessageListOptions{})
	must(t, err)
	if !sameStrings(msgIDs(list.Messages), ids[1:]) {
		t.Errorf("a lists %v, want %v", msgIDs(list.Messages), ids[1:])
	}
	// A store failure is a 503 and tells no observer.
	e.st.FailOn("PostMessages")
	_, err = e.svc.PostBodies(e.ctx, proj, "telemetry", []BodyMessage{{Body: []byte(`1`)}})
	wantErr(t, "store down", err, ErrUnavailable, "Messages could not be enqueued. Please try again in a few seconds.")
	e.st.Heal()
	if rec.count() != 1 {
		t.Errorf("observer told of a failed post")
	}
}

func TestValidBody(t *testing.T) {
	for _, tc := range []struct {
		body string
		desc string // "" when valid
	}{
		{`{"a": [1, 2.5, -3e2, "x", true, false, null]}`, ""},
		{` 42 `, ""},
		{`"text"`, ""},
		{`9223372036854775807`, ""},
		{`9223372036854775808`, "JSON contains integer that is too large."},
		{``, "Request body could not be parsed."},
		{`   `, "Request body could not be parsed."},
		{`{"a": 1}, "b": 2`, "Request body could not be parsed."},
		{`1 2`, "Request body could not be parsed."},
		{`NaN`, "Request body could not be parsed."},
		{"\"\xc3\x28\"", "Request body could not be parsed."},
	} {
		err := ValidBody([]byte(tc.body))
		if tc.desc == "" {
			if err != nil {
				t.Errorf("%q: %v", tc.body, err)
			}
			continue
		}
		wantErr(t, tc.body, err, ErrBadBody, tc.desc)
	}
}

// FuzzValidBody: ValidBody accepts a body exactly when PostMessages would store it, wrapped in a post, as that
// one message's body.
func FuzzValidBody(f *testing.F) {
	for _, s := range []string{`1`, `{"a": [1, {"b": null}]}`, `"x"`, `1, 2`, `99999999999999999999`, `{`, ``, `[]]`,
		`1}, {"body": 2`} {
		f.Add([]byte(s))
	}
	l := DefaultLimits()
	f.Fuzz(func(t *testing.T, body []byte) {
		msgs, decodeErr := decodeMessages(wrapBodies([]BodyMessage{{Body: body}}), postSpec{defaultTTL: 3600}, &l, ClientID{})
		storedAsIs := decodeErr == nil && len(msgs) == 1 && string(msgs[0].Body) == string(trimJSON(body))
		if validErr := ValidBody(body); (validErr == nil) != storedAsIs {
			t.Fatalf("%q: ValidBody %v; PostMessages %v, %d messages", body, validErr, decodeErr, len(msgs))
		}
	})
}
