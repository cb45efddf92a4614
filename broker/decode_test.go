package broker

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// wantErr checks an error's kind and exact description (the wire contract).
func wantErr(t *testing.T, what string, err, kind error, desc string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want %v %q", what, kind, desc)
		return
	}
	var de *Error
	if !errors.As(err, &de) {
		t.Errorf("%s: error %v is not a *broker.Error", what, err)
		return
	}
	if !errors.Is(err, kind) || de.Description != desc {
		t.Errorf("%s:\n got  %v %q\n want %v %q", what, de.Kind, de.Description, kind, desc)
	}
}

func TestCheckJSON(t *testing.T) {
	tests := []struct {
		body string
		want jsonProblem
	}{
		{`{}`, jsonOK},
		{` [1, 2.5, -0, 1e5, "x", true, false, null, {"a": {}}] `, jsonOK},
		{`{"a": 9223372036854775807, "b": -9223372036854775808}`, jsonOK},
		{`{"a": 9223372036854775808}`, jsonIntTooLarge},
		{`{"a": -9223372036854775809}`, jsonIntTooLarge},
		{`[123456789012345678901234567890.5]`, jsonOK}, // a float, not an int
		{`[1e400]`, jsonOK},
		{`[99999999999999999999.]`, jsonIntTooLarge}, // Python reads the int first, then fails on the dot
		{`[99999999999999999999, }`, jsonIntTooLarge},
		{`[1, }, 99999999999999999999]`, jsonMalformed},
		{`99999999999999999999`, jsonIntTooLarge},
		{``, jsonMalformed},
		{`   `, jsonMalformed},
		{`null`, jsonMalformed},
		{`5`, jsonMalformed},
		{`"x"`, jsonMalformed},
		{`{"a": 1,}`, jsonMalformed},
		{`[1,]`, jsonMalformed},
		{`{"a" 1}`, jsonMalformed},
		{`{a: 1}`, jsonMalformed},
		{`[01]`, jsonMalformed},
		{`[1.]`, jsonMalformed},
		{`[-]`, jsonMalformed},
		{`[NaN]`, jsonMalformed},
		{`[Infinity]`, jsonMalformed},
		{`["\x"]`, jsonMalformed},
		{`["\u12"]`, jsonMalformed},
		{`["\ud800"]`, jsonOK}, // lone surrogates pass, as in Python
		{"[\"a\tb\"]", jsonMalformed},
		{"[\"\xff\"]", jsonMalformed},
		{"\xef\xbb\xbf{}", jsonMalformed}, // a BOM
		{`{} {}`, jsonMalformed},
		{`[tru]`, jsonMalformed},
		{strings.Repeat("[", 1001) + strings.Repeat("]", 1001), jsonMalformed},
		{strings.Repeat("[", 999) + strings.Repeat("]", 999), jsonOK},
	}
	for _, tc := range tests {
		if got := checkJSON([]byte(tc.body)); got != tc.want {
			t.Errorf("checkJSON(%.40q) = %d, want %d", tc.body, got, tc.want)
		}
	}
}

func TestTruthyAndPyStr(t *testing.T) {
	for v, want := range map[string]bool{
		`null`: false, `false`: false, `true`: true, `0`: false, `-0`: false, `0.0`: false, `0e5`: false,
		`1`: true, `-1.5`: true, `""`: false, `"0"`: true, `[]`: false, `[ ]`: false, `[0]`: true, `{}`: false,
		`{ }`: false, `{"a":1}`: true,
	} {
		if got := truthy([]byte(v)); got != want {
			t.Errorf("truthy(%s) = %v", v, got)
		}
	}
	for v, want := range map[string]string{
		`"move"`: "move", `5`: "5", `1.50`: "1.5", `1e16`: "1e+16", `1e15`: "1000000000000000.0", `true`: "True",
		`null`: "None", `["a", {"b": false}]`: "['a', {'b': False}]", `"a\"b"`: `a"b`,
	} {
		if got := pyStr([]byte(v)); got != want {
			t.Errorf("pyStr(%s) = %q, want %q", v, got, want)
		}
	}
	if got := pyStringList([]string{"a", "b'c", `d"e`, "f'g\"h", "x\ny\\"}); got != `['a', "b'c", 'd"e', 'f\'g"h', 'x\ny\\']` {
		t.Errorf("pyStringList = %s", got)
	}
}

func testLimits() *Limits {
	l := DefaultLimits()
	return &l
}

func TestDecodeMessages(t *testing.T) {
	l := testLimits()
	plain := postSpec{defaultTTL: 3600}
	delayed := postSpec{defaultTTL: 3600, delayQueue: true, defaultDelay: 30}
	const (
		ttlRange   = "The TTL for a message may not exceed 1209600 seconds, and must be at least 60 seconds long."
		delayRange = "The Delay TTL for a message may not exceed 900 seconds,and must be at least 0 seconds long."
	)
	errs := []struct {
		body string
		spec postSpec
		kind error
		desc string
	}{
		{``, plain, ErrBadBody, "Request body can not be empty"},
		{`{"messages": [`, plain, ErrBadBody, "Request body could not be parsed."},
		{`null`, plain, ErrBadBody, "Request body could not be parsed."},
		{`{"messages": [{"body": 99999999999999999999}]}`, plain, ErrBadBody, "JSON contains integer that is too large."},
		{`{}`, plain, ErrInvalid, "No messages were found in the request body."},
		{`[{"body": 1}]`, plain, ErrInvalid, "No messages were found in the request body."},
		{`{"message": []}`, plain, ErrInvalid, "No messages were found in the request body."},
		{`{"messages": {"body": 1}}`, plain, ErrBadBody, "Document type not supported."},
		{`{"messages": null}`, plain, ErrBadBody, "Document type not supported."},
		{`{"messages": []}`, plain, ErrInvalid, "No messages to enqueu."},
		{`{"messages": [1]}`, plain, ErrBadBody, "Document type not supported."},
		{`{"messages": [{"ttl": 60}]}`, plain, ErrBadBody, `Missing "body" field.`},
		{`{"messages": [{"body": 1, "ttl": "60"}]}`, plain, ErrBadBody, `The value of the "ttl" field must be a int.`},
		{`{"messages": [{"body": 1, "ttl": 60.0}]}`, plain, ErrBadBody, `The value of the "ttl" field must be a int.`},
		{`{"messages": [{"body": 1, "ttl": null}]}`, plain, ErrBadBody, `The value of the "ttl" field must be a int.`},
		{`{"messages": [{"ttl": "x"}]}`, plain, ErrBadBody, `The value of the "ttl" field must be a int.`}, // ttl before body
		{`{"messages": [{"body": 1, "ttl": 59}]}`, plain, ErrInvalid, ttlRange},
		{`{"messages": [{"body": 1, "ttl": 1209601}]}`, plain, ErrInvalid, ttlRange},
		{`{"messages": [{"body": 1, "ttl": true}]}`, plain, ErrInvalid, ttlRange}, // True == 1
		// All types are checked before any range.
		{`{"messages": [{"body": 1, "ttl": 5}, {"ttl": 60}]}`, plain, ErrBadBody, `Missing "body" field.`},
		{`{"messages": [{"body": 1, "delay": 1.5}]}`, delayed, ErrBadBody, `The value of the "delay" field must be a int.`},
		{`{"messages": [{"body": 1, "delay": 901}]}`, delayed, ErrInvalid, delayRange},
		{`{"messages": [{"body": 1, "delay": -1}]}`, delayed, ErrInvalid, delayRange},
		{`{"messages": [{"body": 1, "ttl": 10, "delay": 901}]}`, delayed, ErrInvalid, ttlRange},
		{`{"messages": [{"body": 1, "ttl": 60}], "messages": 5}`, plain, ErrBadBody, "Document type not supported."},
	}
	for _, tc := range errs {
		_, err := decodeMessages([]byte(tc.body), tc.spec, l, ClientID{})
		wantErr(t, tc.body, err, tc.kind, tc.desc)
	}

	client := ClientID{1, 2, 3}
	body := []byte(`{"extra": 1, "messages": [{"body": {"a": [1, 2.50]}, "ttl": 120, "delay": 999, "x": 1},
		{"body": null}, {"b\u006fdy": "esc", "ttl": 60}, {"body": 1, "body": 2}]}`)
	msgs, err := decodeMessages(body, plain, l, client)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		body string
		ttl  time.Duration
	}{{`{"a": [1, 2.50]}`, 120 * time.Second}, {`null`, time.Hour}, {`"esc"`, time.Minute}, {`2`, time.Hour}}
	if len(msgs) != len(want) {
		t.Fatalf("got %d messages", len(msgs))
	}
	for i, w := range want {
		m := msgs[i]
		if string(m.Body) != w.body || m.TTL != w.ttl || m.Delay != 0 || m.ClientID != client {
			t.Errorf("message %d = %q ttl %v delay %v", i, m.Body, m.TTL, m.Delay)
		}
	}
	// The bodies are copies: clobbering the request must not change them.
	for i := range body {
		body[i] = 'x'
	}
	if string(msgs[0].Body) != `{"a": [1, 2.50]}` {
		t.Errorf("message body aliases the request buffer")
	}

	msgs, err = decodeMessages([]byte(`{"messages": [{"body": 1}, {"body": 2, "delay": 0}, {"body": 3, "delay": 900}]}`), delayed, l, client)
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range []time.Duration{30 * time.Second, 0, 900 * time.Second} {
		if msgs[i].Delay != d {
			t.Errorf("delay queue message %d delay = %v, want %v", i, msgs[i].Delay, d)
		}
	}
}

func TestDecodeClaimOptions(t *testing.T) {
	ptr := func(n int) *int { return &n }
	ok := []struct {
		body       string
		ttl, grace *int
	}{
		{``, nil, nil},
		{`{}`, nil, nil},
		{`{"ttl": null, "grace": null}`, nil, nil},
		{`{"ttl": 120, "grace": 60, "limit": 5}`, ptr(120), ptr(60)},
		{`{"ttl": 1, "ttl": 100}`, ptr(100), nil},
		{`{"ttl": true}`, ptr(1), nil},
		{`{"ttl": -5}`, ptr(-5), nil},
	}
	for _, tc := range ok {
		opt, err := DecodeClaimOptions([]byte(tc.body))
		if err != nil {
			t.Errorf("%s: %v", tc.body, err)
			continue
		}
		if !eqIntPtr(opt.TTL, tc.ttl) || !eqIntPtr(opt.Grace, tc.grace) || opt.Limit != 0 {
			t.Errorf("%s: got %+v", tc.body, opt)
		}
	}
	bad := []struct{ body, desc string }{
		{`[]`, "Document type not supported."},
		{`{"ttl": 60.0}`, `The value of the "ttl" field must be a int.`},
		{`{"grace": "60"}`, `The value of the "grace" field must be a int.`},
		{`{"grace": "60", "ttl": "x"}`, `The value of the "ttl" field must be a int.`},
		{`{`, "Request body could not be parsed."},
		{`{"ttl": 1e3}`, `The value of the "ttl" field must be a int.`},
	}
	for _, tc := range bad {
		_, err := DecodeClaimOptions([]byte(tc.body))
		wantErr(t, tc.body, err, ErrBadBody, tc.desc)
	}
}

func eqIntPtr(a, b *int) bool { return (a == nil && b == nil) || (a != nil && b != nil && *a == *b) }

func TestDecodePatch(t *testing.T) {
	l := testLimits()
	const ops = "It must be one of the following: add, remove, replace."
	bad := []struct{ body, desc string }{
		{``, "PATCH body could not be empty for update."},
		{`{"op": "add"}`, "Document type not supported."},
		{`[`, "Request body could not be parsed."},
		{`[1]`, "Operations must be JSON objects."},
		{`[{"path": "/metadata/a"}]`, "Unable to find `op` in JSON Schema change. " + ops},
		{`[{"op": null, "path": "/metadata/a"}]`, "Unable to find `op` in JSON Schema change. " + ops},
		{`[{"op": "move", "path": "/metadata/a"}]`, "Invalid operation: `move`. " + ops},
		{`[{"op": 5}]`, "Invalid operation: `5`. " + ops},
		{`[{"op": "add"}]`, "Unable to find 'path' in JSON Schema change"},
		{`[{"op": "add", "path": "metadata/a", "value": 1}]`, "Pointer `metadata/a` does not start with \"/\"."},
		{`[{"op": "add", "path": "/metadata//a", "value": 1}]`, "Pointer `/metadata//a` contains adjacent \"/\"."},
		{`[{"op": "add", "path": "/metadata/ /a", "value": 1}]`, "Pointer `/metadata/ /a` contains adjacent \"/\"."},
		{`[{"op": "add", "path": "/metadata/a/", "value": 1}]`, "Pointer `/metadata/a/` end with \"/\"."},
		{`[{"op": "add", "path": "/metadata/~2", "value": 1}]`, "Pointer `/metadata/~2` contains \"~\" not part of a recognized escape sequence."},
		{`[{"op": "add", "path": "/metadata/a~", "value": 1}]`, "Pointer `/metadata/a~` contains \"~\" not part of a recognized escape sequence."},
		{`[{"op": "add", "path": "/metadata/a/b", "value": 1}]`, "Invalid JSON pointer for this resource: '/metadata/a/b, e.g /metadata/key'"},
		{`[{"op": "add", "path": "/metadata", "value": 1}]`, "Invalid JSON pointer for this resource: '/metadata, e.g /metadata/key'"},
		{`[{"op": "add", "path": "/metadata/a"}]`, `Operation "add" requires a member named "value".`},
		{`[{"op": "replace", "path": "/metadata/a"}]`, `Operation "replace" requires a member named "value".`},
		{`[{"op": "add", "path": "/meta/a", "value": 1}]`, "The root of path must be metadata, e.g /metadata/key."},
		{`[{"op": "add", "path": "/metadata/a", "value": 1}, {"op": "copy"}]`, "Invalid operation: `copy`. " + ops},
		{`[{"op": "add", "path": "/metadata/a", "value": 99999999999999999999}]`, "JSON contains integer that is too large."},
		{`[` + strings.Repeat(" ", 65536) + `]`, "Queue metadata is too large. Max size: 65536"},
	}
	for _, tc := range bad {
		_, err := decodePatch([]byte(tc.body), l)
		wantErr(t, tc.body, err, ErrBadBody, tc.desc)
	}

	got, err := decodePatch([]byte(`[{"op": "add", "path": "/METADATA/ a~1b~0 ", "value": {"x": [1]}},
		{"op": "remove", "path": "/whatever/k"}, {"op": "replace", "path": "/metadata/_default_message_ttl", "value": 120}]`), l)
	if err != nil {
		t.Fatal(err)
	}
	want := []patchOp{{"add", "a/b~", []byte(`{"x": [1]}`)}, {"remove", "k", nil}, {"replace", "_default_message_ttl", []byte("120")}}
	if len(got) != len(want) {
		t.Fatalf("got %d ops", len(got))
	}
	for i := range want {
		if got[i].op != want[i].op || got[i].key != want[i].key || string(got[i].value) != string(want[i].value) {
			t.Errorf("op %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if ops, err := decodePatch([]byte(`[]`), l); err != nil || len(ops) != 0 {
		t.Errorf("[] = %v, %v", ops, err)
	}
}

func TestValidateReserved(t *testing.T) {
	l := DefaultLimits()
	const msgTTL = "The TTL for a message may not exceed 1209600 seconds, and must be at least 60 seconds long."
	tests := []struct {
		md   string
		desc string // "" means valid
	}{
		{`{}`, ""},
		{`{"a": 1, "_other": "x"}`, ""},
		{`{"_default_message_ttl": 60, "_max_messages_post_size": 262144, "_max_claim_count": 2,
			"_dead_letter_queue": 5, "_dead_letter_queue_messages_ttl": 120, "_default_message_delay": 900,
			"_enable_encrypt_messages": true}`, ""},
		{`{"_default_message_ttl": null, "_max_claim_count": null, "_dead_letter_queue_messages_ttl": null}`, ""},
		{`{"_default_message_ttl": "60"}`, "_default_message_ttl must be integer."},
		{`{"_default_message_ttl": 60.5}`, "_default_message_ttl must be integer."},
		{`{"_default_message_ttl": 0}`, "_default_message_ttl can not exceed 1209600 seconds, and must be at least 60 seconds long."},
		{`{"_default_message_ttl": false}`, "_default_message_ttl can not exceed 1209600 seconds, and must be at least 60 seconds long."},
		{`{"_default_message_ttl": 0.0}`, "_default_message_ttl can not exceed 1209600 seconds, and must be at least 60 seconds long."},
		{`{"_default_message_ttl": ""}`, "_default_message_ttl must be integer."},
		{`{"_default_message_ttl": 1209601}`, "_default_message_ttl can not exceed 1209600 seconds, and must be at least 60 seconds long."},
		{`{"_max_messages_post_size": "big"}`, "_max_messages_post_size must be integer."},
		{`{"_max_messages_post_size": 0}`, "_max_messages_post_size can not exceed 262144,  and must be at least greater than 0."},
		{`{"_max_messages_post_size": 262145}`, "_max_messages_post_size can not exceed 262144,  and must be at least greater than 0."},
		{`{"_max_claim_count": "2"}`, "_max_claim_count must be integer."},
		{`{"_max_claim_count": 0}`, ""},
		{`{"_max_claim_count": ""}`, ""},
		{`{"_dead_letter_queue_messages_ttl": "x"}`, "_dead_letter_queue_messages_ttl must be integer."},
		{`{"_dead_letter_queue_messages_ttl": 59}`, msgTTL},
		{`{"_dead_letter_queue_messages_ttl": 0}`, msgTTL},
		{`{"_default_message_delay": "5"}`, "_default_message_delay must be integer."},
		{`{"_default_message_delay": 901}`, "The TTL can not exceed 900 seconds, and must be at least 0 seconds long."},
		{`{"_default_message_delay": -1}`, "The TTL can not exceed 900 seconds, and must be at least 0 seconds long."},
		{`{"_default_message_delay": 0}`, ""},
		{`{"_enable_encrypt_messages": 1}`, "_enable_encrypt_messages must be boolean."},
		{`{"_enable_encrypt_messages": 0}`, ""},
		// Zaqar's order: ttl, post size, claim count, dlq ttl, delay, encrypt, retry policy.
		{`{"_enable_encrypt_messages": 1, "_default_message_delay": "5", "_max_messages_post_size": "x", "_default_message_ttl": "y"}`,
			"_default_message_ttl must be integer."},
		{`{"_enable_encrypt_messages": 1, "_default_message_delay": "5", "_max_messages_post_size": "x"}`,
			"_max_messages_post_size must be integer."},
		{`{"_enable_encrypt_messages": 1, "_default_message_delay": "5"}`, "_default_message_delay must be integer."},
		{`{"_retry_policy": []}`, ""},
		{`{"_retry_policy": [1]}`, "retry_policy must be a dict."},
		{`{"_retry_policy": {"retries_with_no_delay": "3"}}`, "Retry policy: retries_with_no_delay must be a integer."},
		{`{"_retry_policy": {"maximum_delay_retries": 1.5, "minimum_delay": "x"}}`, "Retry policy: minimum_delay must be a integer."},
		{`{"_retry_policy": {"retry_backoff_function": 5}}`, "retry_backoff_function must be a string."},
		{`{"_retry_policy": {"retry_backoff_function": "cubic"}}`, "invalid retry_backoff_function."},
		{`{"_retry_policy": {"retry_backoff_function": "geometric"}}`, ""},
		{`{"_retry_policy": {"ignore_subscription_override": 1}}`, "ignore_subscription_override must be a boolean."},
		{`{"_retry_policy": {"minimum_delay": 40}}`, "minimum_delay must less than maximum_delay."},
		{`{"_retry_policy": {"minimum_delay": 10, "maximum_delay": 12}}`, "invalid minimum_delay and maximum_delay."},
		{`{"_retry_policy": {"minimum_delay": 21}}`, "invalid minimum_delay and maximum_delay."},
		{`{"_retry_policy": {"minimum_delay": 20}}`, ""},
		{`{"_retry_policy": {"minimum_delay": 1, "maximum_delay": 100, "retries_with_no_delay": 0}}`, ""},
	}
	for _, kind := range []error{ErrInvalid, ErrBadBody} {
		for _, tc := range tests {
			md := parseObject([]byte(tc.md))
			err := validateReserved(md, l, kind)
			if tc.desc == "" {
				if err != nil {
					t.Errorf("%s: %v", tc.md, err)
				}
				continue
			}
			wantErr(t, tc.md, err, kind, tc.desc)
		}
	}
}

func TestDecodeSubscription(t *testing.T) {
	l := testLimits()
	now := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	const schemes = "The subscriber type of subscription must be supported in the list ['http', 'https', 'mailto', 'trust+http', 'trust+https']."
	createErrs := []struct{ body, desc string }{
		{``, "Missing parameter subscriber in body."},
		{`{}`, "Missing parameter subscriber in body."},
		{`{"ttl": 60}`, "Missing parameter subscriber in body."},
		{`[]`, "Subscriptions must be a dict."},
		{`{"subscriber": "ftp://x"}`, schemes},
		{`{"subscriber": "nohost"}`, schemes},
		{`{"subscriber": ""}`, schemes},
		{`{"subscriber": null}`, schemes},
		{`{"subscriber": 5}`, schemes},
		{`{"subscriber": "http://x", "options": [1]}`, "Options must be a dict."},
		{`{"subscriber": "http://x", "options": "o"}`, "Options must be a dict."},
		{`{"subscriber": "http://x", "options": {"_retry_policy": 5}}`, "retry_policy must be a dict."},
		{`{"subscriber": "http://x", "options": {"_retry_policy": {"minimum_delay": 25}}}`, "invalid minimum_delay and maximum_delay."},
		{`{"subscriber": "http://x", "ttl": "60"}`, "TTL must be an integer."},
		{`{"subscriber": "http://x", "ttl": 59}`, "The TTL for a subscription must be at least 60 seconds long."},
		{`{"subscriber": "http://x", "ttl": -1}`, "The TTL for a subscription must be at least 60 seconds long."},
		{`{"subscriber": "http://x", "ttl": 9223372036854775807}`,
			"The TTL seconds for a subscription plus current time must be less than 9999-12-31 23:59:59.999999."},
		// Zaqar's order: subscriber, options, retry policy, ttl.
		{`{"subscriber": "ftp://x", "options": 1, "ttl": "x"}`, schemes},
		{`{"subscriber": "http://x", "options": 1, "ttl": "x"}`, "Options must be a dict."},
	}
	for _, tc := range createErrs {
		_, err := decodeSubscriptionCreate([]byte(tc.body), l, now)
		wantErr(t, tc.body, err, ErrInvalid, tc.desc)
	}
	_, err := decodeSubscriptionCreate([]byte(`{"subscriber": "http://x", `), l, now)
	wantErr(t, "truncated", err, ErrBadBody, "Request body could not be parsed.")

	f, err := decodeSubscriptionCreate([]byte(`{"subscriber": "HTTPS://h/p", "ttl": 0, "options": []}`), l, now)
	if err != nil || f.subscriber != "HTTPS://h/p" || f.hasTTL || !f.hasOptions || string(f.options) != "[]" {
		t.Errorf("create with falsy ttl and [] options: %+v, %v", f, err)
	}
	f, err = decodeSubscriptionCreate([]byte(`{"subscriber": "mailto:a@b.c?subject=x", "ttl": 120, "options": {"k": 1}}`), l, now)
	if err != nil || f.ttl != 120 || string(f.options) != `{"k": 1}` {
		t.Errorf("create: %+v, %v", f, err)
	}

	patchErrs := []struct {
		body string
		desc string
	}{
		{``, "No subscription to create."},
		{`{}`, "No subscription to create."},
		{`[]`, "No subscription to create."},
		{`[1]`, "Subscriptions must be a dict."},
		{`{"subscriber": "gopher://x"}`, schemes},
		{`{"ttl": 30}`, "The TTL for a subscription must be at least 60 seconds long."},
	}
	for _, tc := range patchErrs {
		_, err := decodeSubscriptionPatch([]byte(tc.body), l, now)
		wantErr(t, tc.body, err, ErrInvalid, tc.desc)
	}
	f, err = decodeSubscriptionPatch([]byte(`{"subscriber": null, "ttl": null, "options": null, "foo": 1}`), l, now)
	if err != nil || f.hasSubscriber || f.hasTTL || f.hasOptions {
		t.Errorf("patch with nulls: %+v, %v", f, err)
	}
}

func TestSubscriberScheme(t *testing.T) {
	for in, want := range map[string]string{
		"http://x": "http", "HTTPS://x": "https", "trust+http://x": "trust+http", "mailto:a@b": "mailto",
		" http://x": "http", "ht\ntp://x": "http", "1http://x": "", "://x": "", "x": "", "a b:c": "",
	} {
		if got := subscriberScheme(in); got != want {
			t.Errorf("subscriberScheme(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDecodePurgeAndConfirm(t *testing.T) {
	const subset = "Resource types must be a sub set of {'messages', 'subscriptions'}."
	for body, desc := range map[string]string{
		`{}`:                                    `Post body must contain key "resource_types".`,
		`[]`:                                    `Post body must contain key "resource_types".`,
		`{"resource_types": "messages"}`:        subset,
		`{"resource_types": ["queues"]}`:        subset,
		`{"resource_types": [1]}`:               subset,
		`{"resource_types": null}`:              subset,
		`{"resource_types": ["messages", "x"]}`: subset,
	} {
		_, err := decodePurge([]byte(body))
		wantErr(t, body, err, ErrInvalid, desc)
	}
	for body, want := range map[string]purgeTargets{
		``:                                 {true, true},
		`{"resource_types": []}`:           {},
		`{"resource_types": ["messages"]}`: {messages: true},
		`{"resource_types": ["subscriptions", "messages"]}`: {true, true},
	} {
		if got, err := decodePurge([]byte(body)); err != nil || got != want {
			t.Errorf("decodePurge(%s) = %+v, %v", body, got, err)
		}
	}

	for _, body := range []string{``, `{}`, `{"confirmed": 1}`, `{"confirmed": "true"}`, `{"confirmed": null}`} {
		_, err := decodeConfirm([]byte(body), "sid")
		wantErr(t, body, err, ErrInvalid, "The 'confirmed' should be boolean.")
	}
	_, err := decodeConfirm([]byte(`[true]`), "sid")
	wantErr(t, "array", err, ErrCannotConfirmSub, "Subscription sid could not be confirmed.")
	if v, err := decodeConfirm([]byte(`{"confirmed": false, "confirmed": true}`), "sid"); err != nil || !v {
		t.Errorf("confirm = %v, %v", v, err)
	}
}
