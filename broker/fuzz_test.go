package broker

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
	"unicode/utf8"
)

// checkRejection fails unless err is a *broker.Error of one of the allowed kinds with a description.
func checkRejection(t *testing.T, err error, kinds ...error) {
	t.Helper()
	var de *Error
	if !errors.As(err, &de) || de.Description == "" {
		t.Fatalf("rejection is not a described *broker.Error: %v", err)
	}
	for _, k := range kinds {
		if errors.Is(err, k) {
			return
		}
	}
	t.Fatalf("rejection has an unexpected kind: %v", err)
}

// maxDepth returns the nesting depth of (valid) JSON.
func maxDepth(data []byte) int {
	depth, deepest := 0, 0
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '"':
			i = skipString(data, i) - 1
		case '{', '[':
			depth++
			deepest = max(deepest, depth)
		case '}', ']':
			depth--
		}
	}
	return deepest
}

func FuzzCheckJSON(f *testing.F) {
	for _, s := range []string{`{}`, `[1, 2.5e3, "a\u00e9", {"b": [true, null]}]`, `{"a": 9223372036854775808}`, `[1.]`,
		"[\"\xff\"]", `[-0, -1e-5]`, `{"a":"\ud800"}`} {
		f.Add([]byte(s))
	}
	f.Add([]byte(`{"a": 1, "b": {"a": 2}, "a\u0062": [3], "a": "last \\\" quote"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		got := checkJSON(data)
		valid := json.Valid(data) && utf8.Valid(data) // encoding/json tolerates invalid UTF-8; Python does not
		if got == jsonOK && !valid {
			t.Fatalf("checkJSON accepts invalid JSON %q", data)
		}
		if got == jsonIntTooLarge && !valid {
			// Python reads an out-of-range integer before noticing later syntax errors; that is the only way
			// to get this verdict for invalid JSON. Nothing to check beyond no panic.
			return
		}
		if valid && got == jsonMalformed {
			i := skipWS(data, 0)
			if data[i] == '{' || data[i] == '[' {
				if maxDepth(data) <= maxJSONDepth {
					t.Fatalf("checkJSON rejects valid JSON %q", data)
				}
			}
		}
		if got == jsonOK {
			// The walkers agree with encoding/json on the top-level members/elements.
			top := data[skipWS(data, 0):]
			if isObject(top) {
				var m map[string]json.RawMessage
				if err := json.Unmarshal(data, &m); err != nil {
					t.Fatal(err)
				}
				md := parseObject(top)
				if len(md) != len(m) {
					t.Fatalf("parseObject found %d members, encoding/json %d in %q", len(md), len(m), data)
				}
				for k, v := range md {
					if !json.Valid(v) {
						t.Fatalf("member %q has invalid raw value %q", k, v)
					}
				}
				if !json.Valid(encodeObject(md)) {
					t.Fatalf("encodeObject produced invalid JSON from %q", data)
				}
				for k := range md {
					if k == "" {
						continue // "" means "capture nothing"
					}
					_, captured, found := checkJSONCapture(data, k)
					want, _ := lastMember(top, k)
					if !found || string(captured) != string(want) || string(want) != string(md[k]) {
						t.Fatalf("capture of %q: %q/%v, walker %q, map %q", k, captured, found, want, md[k])
					}
				}
			}
		}
	})
}

func FuzzDecodeMessages(f *testing.F) {
	for _, s := range []string{`{"messages": [{"body": {"event": "one"}, "ttl": 300}, {"body": 1}]}`,
		`{"messages": []}`, `[]`, `{"messages": [{"ttl": 60.0}]}`, `{"messages": [{"body": 1, "delay": 5}]}`} {
		f.Add([]byte(s), true)
	}
	l := testLimits()
	f.Fuzz(func(t *testing.T, body []byte, delayQueue bool) {
		spec := postSpec{defaultTTL: 3600, delayQueue: delayQueue, defaultDelay: 10}
		msgs, err := decodeMessages(body, spec, l, ClientID{})
		if err != nil {
			checkRejection(t, err, ErrBadBody, ErrInvalid)
			return
		}
		if len(msgs) == 0 {
			t.Fatal("accepted a post without messages")
		}
		for _, m := range msgs {
			if !json.Valid(m.Body) {
				t.Fatalf("message body %q is not JSON", m.Body)
			}
			if m.TTL < time.Duration(l.MinMessageTTL)*time.Second || m.TTL > time.Duration(l.MaxMessageTTL)*time.Second {
				t.Fatalf("ttl %v out of range", m.TTL)
			}
			if m.Delay < 0 || m.Delay > time.Duration(l.MaxMessageDelay)*time.Second || (!delayQueue && m.Delay != 0) {
				t.Fatalf("delay %v", m.Delay)
			}
		}
	})
}

func FuzzDecodeClaimOptions(f *testing.F) {
	for _, s := range []string{``, `{}`, `{"ttl": null, "grace": null}`, `{"ttl": 60, "grace": 60}`, `[]`, `{"ttl": 6e1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		opt, err := DecodeClaimOptions(body)
		if err != nil {
			checkRejection(t, err, ErrBadBody)
			return
		}
		if opt.Limit != 0 {
			t.Fatal("limit taken from the body")
		}
	})
}

func FuzzDecodePatch(f *testing.F) {
	for _, s := range []string{`[{"op": "add", "path": "/metadata/a", "value": 1}]`, `[{"op": "remove", "path": "/x/y"}]`,
		`{"op": "add"}`, `[{"op": "replace", "path": "/metadata/~0~1", "value": null}]`, `[]`} {
		f.Add([]byte(s))
	}
	l := testLimits()
	f.Fuzz(func(t *testing.T, body []byte) {
		ops, err := decodePatch(body, l)
		if err != nil {
			checkRejection(t, err, ErrBadBody)
			return
		}
		for _, op := range ops {
			switch op.op {
			case "add", "replace":
				if !json.Valid(op.value) {
					t.Fatalf("%s value %q is not JSON", op.op, op.value)
				}
			case "remove":
			default:
				t.Fatalf("unknown op %q accepted", op.op)
			}
		}
		// Applying the operations and validating is total too.
		e := newFuzzMetadata()
		for _, op := range ops {
			if op.value != nil {
				e[op.key] = op.value
			}
		}
		if err := validateReserved(e, *l, ErrBadBody); err != nil {
			checkRejection(t, err, ErrBadBody)
		}
	})
}

func newFuzzMetadata() Metadata { return Metadata{} }

func FuzzDecodeSubscription(f *testing.F) {
	for _, s := range []string{`{"subscriber": "http://x", "ttl": 3600, "options": {"_retry_policy": {"minimum_delay": 1}}}`,
		`{}`, `[]`, `{"subscriber": "mailto:a@b"}`, `{"ttl": 1e3}`, `{"options": [1]}`} {
		f.Add([]byte(s))
	}
	l := testLimits()
	now := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, create := range []bool{true, false} {
			var fields subscriptionFields
			var err error
			if create {
				fields, err = decodeSubscriptionCreate(body, l, now)
			} else {
				fields, err = decodeSubscriptionPatch(body, l, now)
			}
			if err != nil {
				checkRejection(t, err, ErrBadBody, ErrInvalid)
				continue
			}
			if create && !fields.hasSubscriber {
				t.Fatal("created without a subscriber")
			}
			if fields.hasTTL && (fields.ttl < int64(l.MinSubscriptionTTL) || fields.ttl > maxSubscriptionTTL(now)) {
				t.Fatalf("ttl %d accepted", fields.ttl)
			}
			if fields.hasOptions && !json.Valid(fields.options) {
				t.Fatalf("options %q", fields.options)
			}
		}
		if _, err := decodeConfirm(body, "sid"); err != nil {
			checkRejection(t, err, ErrBadBody, ErrInvalid, ErrCannotConfirmSub)
		}
		if _, err := decodePurge(body); err != nil {
			checkRejection(t, err, ErrBadBody, ErrInvalid)
		}
		if _, err := decodeQueueMetadata(body, l); err != nil {
			checkRejection(t, err, ErrBadBody, ErrInvalid)
		}
	})
}
