package signing

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func decodeBody(t testing.TB, body string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(body))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("test body %s: %v", body, err)
	}
	return m
}

func TestShareValidationTexts(t *testing.T) {
	ring := testRing(t)
	tests := []struct {
		body string
		kind error
		text string
	}{
		{`{"project_id": "p"}`, ErrUnknownKeys, "Unknown keys: {'project_id'}"},
		{`{"b": 1, "a": 2, "paths": ["foo"]}`, ErrUnknownKeys, "Unknown keys: {'a', 'b'}"},
		{`{"paths": ["foo"]}`, ErrInvalidPaths, "Invalid paths: {'foo'}"},
		{`{"paths": ["messages", "foo", "bar", "foo"]}`, ErrInvalidPaths, "Invalid paths: {'bar', 'foo'}"},
		{`{"paths": ["messages", 1, null, true]}`, ErrInvalidPaths, "Invalid paths: {1, None, True}"},
		{`{"paths": "messages"}`, ErrPathsNotList, "`paths` must be a non-empty list"},
		{`{"paths": {"messages": 1}}`, ErrPathsNotList, "`paths` must be a non-empty list"},
		{`{"methods": "GET"}`, ErrMethodsNotList, "`methods` should be a list"},
		{`{"methods": {"GET": 1}}`, ErrMethodsNotList, "`methods` should be a list"},
		{`{"methods": [1]}`, ErrMethodsInvalid, "Invalid methods: {1}"},
		{`{"methods": ["GET,POST"]}`, ErrMethodsInvalid, "Invalid methods: {'GET,POST'}"},
		{`{"expires": "2016"}`, ErrExpiresInteger,
			"`expires` should be date format, for example 2016-01-01T00:00:00, not integer value: 2016"},
		{`{"expires": 1700000000}`, ErrExpiresInteger,
			"`expires` should be date format, for example 2016-01-01T00:00:00, not integer value: 1700000000"},
		{`{"expires": 5.7}`, ErrExpiresInteger,
			"`expires` should be date format, for example 2016-01-01T00:00:00, not integer value: 5"},
		{`{"expires": true}`, ErrExpiresInteger,
			"`expires` should be date format, for example 2016-01-01T00:00:00, not integer value: 1"},
		{`{"expires": 0}`, ErrExpiresUnparsable, "expected string or bytes-like object, got 'int'"},
		{`{"expires": false}`, ErrExpiresUnparsable, "expected string or bytes-like object, got 'bool'"},
		{`{"expires": ["2099-01-01"]}`, ErrExpiresUnparsable, "expected string or bytes-like object, got 'list'"},
		{`{"expires": "x"}`, ErrExpiresUnparsable, "Unable to parse date string 'x'"},
		{`{"expires": ""}`, ErrExpiresUnparsable, "Unable to parse date string ''"},
		{`{"expires": "2020-01-01T00:00:00"}`, ErrExpiresPast, "`expires` is lower than the current time"},
	}
	for _, tc := range tests {
		_, err := Share(ring, "q", "p", decodeBody(t, tc.body), testNow)
		var ve *ValidationError
		if !errors.As(err, &ve) || !errors.Is(err, tc.kind) {
			t.Errorf("%s: err = %v, want kind %v", tc.body, err, tc.kind)
			continue
		}
		if ve.Text != tc.text {
			t.Errorf("%s: text\n got %q\nwant %q", tc.body, ve.Text, tc.text)
		}
	}
}

// Zaqar checks unknown keys and path names before the key, and the key before methods and expires.
func TestShareCheckOrder(t *testing.T) {
	for body, want := range map[string]error{
		`{"project_id": 1, "paths": ["foo"]}`:      ErrUnknownKeys,
		`{"paths": ["foo"], "methods": "GET"}`:     ErrInvalidPaths,
		`{"methods": "GET", "expires": "x"}`:       ErrKeyMissing,
		`{"paths": ["claims"], "expires": "2016"}`: ErrKeyMissing,
	} {
		if _, err := Share(nil, "q", "p", decodeBody(t, body), testNow); !errors.Is(err, want) {
			t.Errorf("no key, %s: err = %v, want %v", body, err, want)
		}
	}
	_, err := Share(nil, "q", "p", map[string]any{}, testNow)
	var ve *ValidationError
	if !errors.As(err, &ve) || ve.Text != "The `key` can't be None" {
		t.Fatalf("no key: %v", err)
	}
}

func TestShareDefaultsAndResult(t *testing.T) {
	ring := testRing(t)
	for _, body := range []string{`{}`, `{"paths": [], "methods": [], "expires": null}`, `{"paths": null, "methods": ""}`} {
		s, err := Share(ring, "shq", "proj-1", decodeBody(t, body), testNow)
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		if strings.Join(s.Paths, ",") != "/v2/queues/shq/messages" || strings.Join(s.Methods, ",") != "GET" ||
			!s.Expires.Equal(testNow.Add(24*time.Hour)) || s.Project != "proj-1" {
			t.Fatalf("%s: defaults = %+v", body, s.URLGrant)
		}
	}

	s, err := Share(ring, "shq", "proj-1", decodeBody(t,
		`{"paths": ["messages", "claims"], "methods": ["POST", "GET"], "expires": "2099-01-01T00:00:00+00:00"}`), testNow)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(s)
	want := `{"paths":["/v2/queues/shq/claims","/v2/queues/shq/messages"],"methods":["GET","POST"],` +
		`"project":"proj-1","expires":"2099-01-01T00:00:00","signature":"` +
		Sign([]byte("test-secret"), s.URLGrant) + `"}`
	if !bytes.Equal(body, []byte(want)) {
		t.Fatalf("response\n got %s\nwant %s", body, want)
	}

	// What share hands out verifies for the granted method and path only.
	req := SignedRequest{Method: "POST", Path: "/v2/queues/shq/claims/c1", Project: "proj-1", Credentials: s.Credentials()}
	if _, err := VerifyRequest(ring, req, testNow); err != nil {
		t.Fatalf("shared URL refused: %v", err)
	}
	req.Path = "/v2/queues/shq/subscriptions"
	if _, err := VerifyRequest(ring, req, testNow); !errors.Is(err, ErrPathNotAllowed) {
		t.Fatalf("subscriptions were not shared: %v", err)
	}
}

func TestExpandSharePaths(t *testing.T) {
	got, err := ExpandSharePaths("q", []string{"subscriptions", "messages", "messages"})
	if err != nil || strings.Join(got, " ") != "/v2/queues/q/subscriptions /v2/queues/q/messages /v2/queues/q/messages" {
		t.Fatalf("got %v %v", got, err)
	}
	if _, err := ExpandSharePaths("q", []string{"stats", "it's"}); err == nil ||
		err.Error() != `Invalid paths: {"it's", 'stats'}` {
		t.Fatalf("err = %v", err)
	}
}
