package httpapi

import (
	"strings"
	"testing"
)

func TestSubscriptions(t *testing.T) {
	h := newHarness(t)
	r := h.do("POST", "/v2/queues/sq/subscriptions", `{"subscriber": "http://127.0.0.1:8899/hook", "ttl": 3600, "options": {"post_headers": {"X-Custom": "abc"}}}`)
	expect(t, r, 201, "*")
	if r.hdr.Get("Location") != "/v2/queues/sq/subscriptions" {
		t.Fatalf("Location %q", r.hdr.Get("Location"))
	}
	sid, _ := r.json(t)["subscription_id"].(string)
	if sid == "" {
		t.Fatalf("body %s", r.body)
	}
	// Unconfirmed duplicates give the same id again.
	if again := h.do("POST", "/v2/queues/sq/subscriptions", `{"subscriber": "http://127.0.0.1:8899/hook"}`); again.status != 201 ||
		again.json(t)["subscription_id"] != sid {
		t.Fatalf("duplicate: %s", again)
	}
	expect(t, h.do("POST", "/v2/queues/sq/subscriptions", ""), 400,
		`{"title": "Invalid API request", "description": "Missing parameter subscriber in body."}`)

	h.clock.Advance(7e9)
	// python-zaqarclient sends the creation body along with this GET; it is ignored.
	r = h.do("GET", "/v2/queues/sq/subscriptions/"+sid, `{"subscriber": "http://127.0.0.1:8899/hook", "ttl": 3600}`)
	expect(t, r, 200, `{"id": "`+sid+`", "source": "sq", "subscriber": "http://127.0.0.1:8899/hook", "ttl": 3600, "age": 7, `+
		`"options": {"post_headers": {"X-Custom": "abc"}}, "confirmed": false}`)
	expect(t, h.do("GET", "/v2/queues/sq/subscriptions/nope", ""), 404,
		`{"title": "Not found", "description": "Subscription nope does not exist"}`)

	second := h.do("POST", "/v2/queues/sq/subscriptions", `{"subscriber": "mailto:ops@example.com"}`).json(t)["subscription_id"].(string)
	r = h.do("GET", "/v2/queues/sq/subscriptions?detailed=False&limit=1", "")
	expect(t, r, 200, "*")
	first := min(sid, second)
	if !strings.HasSuffix(string(r.body), `"links": [{"rel": "next", "href": "/v2/queues/sq/subscriptions?limit=1&marker=`+first+`"}]}`) {
		t.Fatalf("list %s", r.body)
	}
	expect(t, h.do("GET", "/v2/queues/sq/subscriptions?limit=0", ""), 400, "*")
	expect(t, h.do("GET", "/v2/queues/none/subscriptions", ""), 200, `{"subscriptions": [], "links": []}`)

	r = h.do("PATCH", "/v2/queues/sq/subscriptions/"+sid, `{"ttl": 120, "foo": 1}`)
	expect(t, r, 204, "")
	if r.hdr.Get("Location") != "/v2/queues/sq/subscriptions/"+sid {
		t.Fatalf("PATCH Location %q", r.hdr.Get("Location"))
	}
	expect(t, h.do("PATCH", "/v2/queues/sq/subscriptions/"+sid, `{"foo": 1}`), 400,
		`{"title": "Unable to update subscription", "description": "Subscription `+sid+` could not be updated."}`)

	expect(t, h.do("PUT", "/v2/queues/sq/subscriptions/"+sid+"/confirm", `{"confirmed": "yes"}`), 400,
		`{"title": "Invalid API request", "description": "The 'confirmed' should be boolean."}`)
	r = h.do("PUT", "/v2/queues/sq/subscriptions/"+sid+"/confirm", `{"confirmed": true}`)
	expect(t, r, 204, "")
	if r.hdr.Get("Location") != "/v2/queues/sq/subscriptions/"+sid+"/confirm" {
		t.Fatalf("confirm Location %q", r.hdr.Get("Location"))
	}
	// A confirmed duplicate is a conflict that still names the collection.
	r = h.do("POST", "/v2/queues/sq/subscriptions", `{"subscriber": "http://127.0.0.1:8899/hook"}`)
	expect(t, r, 409, `{"title": "Resource conflict", "description": "Such subscription already exists.Subscriptions are unique by project + queue + subscriber URI."}`)
	if r.hdr.Get("Location") != "/v2/queues/sq/subscriptions" {
		t.Fatalf("409 Location %q", r.hdr.Get("Location"))
	}
	expect(t, h.do("DELETE", "/v2/queues/sq/subscriptions/"+sid, ""), 204, "")
	expect(t, h.do("DELETE", "/v2/queues/sq/subscriptions/"+sid, ""), 204, "")
}
