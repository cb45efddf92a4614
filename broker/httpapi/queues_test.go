package httpapi

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestRootHomePingProbes(t *testing.T) {
	h := newHarness(t)
	r := h.do("GET", "/", "", hd{"Client-ID": "-", "X-Project-ID": "-"})
	expect(t, r, 300, string(versionsDocument()))
	if r.hdr.Get("Content-Type") != "application/json" {
		t.Errorf("versions Content-Type %q", r.hdr.Get("Content-Type"))
	}

	r = h.do("GET", "/v2/", "")
	expect(t, r, 200, string(homeDocument(false)))
	if r.hdr.Get("Content-Type") != "application/json-home" || r.hdr.Get("Cache-Control") != "max-age=86400" {
		t.Errorf("home headers %v", r.hdr)
	}

	r = h.do("GET", "/v2/ping", "")
	expect(t, r, 204, "")
	if ct := r.hdr.Get("Content-Type"); ct != "" {
		t.Errorf("204 with Content-Type %q", ct)
	}
	expect(t, h.do("HEAD", "/v2/ping", ""), 204, "")
	expect(t, h.do("GET", "/healthz", "", hd{"Client-ID": "-", "X-Project-ID": "-"}), 200, "ok\n")
	expect(t, h.do("GET", "/readyz", "", hd{"Client-ID": "-", "X-Project-ID": "-"}), 200, "ok\n")
}

func TestHealthAdmin(t *testing.T) {
	h := newHarness(t, harnessOpt{cfg: func(c *Config) { c.AdminMode = true }})
	expect(t, h.do("GET", "/v2/health", ""), 403,
		`{"title": "Not authorized", "description": "You are not authorized to complete this action."}`)
	expect(t, h.do("GET", "/v2/health", "", hd{"X-Roles": "member,reader"}), 403, "*")
	r := h.do("GET", "/v2/health", "", hd{"X-Roles": "member,admin"})
	expect(t, r, 200, "*")
	if m := r.json(t); m["storage_reachable"] != true || m["operation_status"] == nil {
		t.Fatalf("health body %s", r.body)
	}
	// Hooks still come first.
	expect(t, h.do("GET", "/v2/health", "", hd{"X-Roles": "admin", "Client-ID": "-"}), 400, bodyMissingClient)
	if !strings.Contains(string(h.do("GET", "/v2/", "").body), `"rel/health"`) {
		t.Error("admin home document lacks rel/health")
	}
}

func TestQueueLifecycle(t *testing.T) {
	h := newHarness(t)
	r := h.do("PUT", "/v2/queues/q1", `{"key": "v", "_default_message_ttl": 120}`)
	expect(t, r, 201, "")
	if r.hdr.Get("Location") != "/v2/queues/q1" {
		t.Fatalf("Location %q", r.hdr.Get("Location"))
	}
	r = h.do("PUT", "/v2/queues/q1", `{"other": 1}`)
	expect(t, r, 204, "")
	if r.hdr.Get("Location") != "/v2/queues/q1" {
		t.Fatalf("Location on 204 %q", r.hdr.Get("Location"))
	}
	md := h.do("GET", "/v2/queues/q1", "").json(t)
	if md["key"] != "v" || md["_default_message_ttl"] != 120.0 || md["other"] != nil || md["_max_messages_post_size"] != 262144.0 {
		t.Fatalf("metadata %v", md)
	}
	// A missing queue answers with the defaults.
	if md := h.do("GET", "/v2/queues/nothere", "").json(t); md["_default_message_ttl"] != 3600.0 {
		t.Fatalf("defaults %v", md)
	}
	expect(t, h.do("PUT", "/v2/queues/q2", `[1]`), 400, "*")
	expect(t, h.do("PUT", "/v2/queues/q2", `{bad`), 400,
		`{"title": "Invalid request body", "description": "Request body could not be parsed."}`)

	patch := hd{"Content-Type": patchType}
	r = h.do("PATCH", "/v2/queues/q1", `[{"op": "add", "path": "/metadata/new", "value": "é"}]`, patch)
	expect(t, r, 200, "*")
	if !strings.Contains(string(r.body), `"new": "é"`) {
		t.Fatalf("patched metadata %s (non-ASCII must not be escaped)", r.body)
	}
	expect(t, h.do("PATCH", "/v2/queues/q1", `[]`, hd{"Content-Type": "application/json"}), 415,
		`{"title": "Accepted media type for PATCH: {'Accept-Patch': 'application/openstack-messaging-v2.0-json-patch'}."}`)
	expect(t, h.do("PATCH", "/v2/queues/q1", `[]`, hd{"Content-Type": patchType + "; charset=utf-8"}), 415, "*")
	expect(t, h.do("PATCH", "/v2/queues/q1", "", patch), 400,
		`{"title": "Invalid request body", "description": "PATCH body could not be empty for update."}`)
	expect(t, h.do("PATCH", "/v2/queues/q1", `[{"op": "replace", "path": "/metadata/zzz", "value": 1}]`, patch), 409,
		`{"title": "Resource conflict", "description": "Can't replace non-existent object zzz."}`)
	expect(t, h.do("PATCH", "/v2/queues/nothere", `[]`, patch), 404,
		`{"title": "Not found", "description": "Queue nothere does not exist for project proj-1"}`)

	expect(t, h.do("DELETE", "/v2/queues/q1", ""), 204, "")
	expect(t, h.do("DELETE", "/v2/queues/q1", ""), 204, "")
}

func TestListQueues(t *testing.T) {
	h := newHarness(t)
	for _, q := range []string{"b", "a", "c"} {
		expect(t, h.do("PUT", "/v2/queues/"+q, `{"color": "`+q+`", "n": 1}`), 201, "")
	}
	expect(t, h.do("PUT", "/v2/queues/other", "", hd{"X-Project-ID": "proj-2"}), 201, "")

	r := h.do("GET", "/v2/queues?limit=2&with_count=True", "")
	expect(t, r, 200, `{"queues": [{"name": "a", "href": "/v2/queues/a"}, {"name": "b", "href": "/v2/queues/b"}], `+
		`"links": [{"rel": "next", "href": "/v2/queues?limit=2&with_count=true&marker=b"}], "count": 3}`)
	r = h.do("GET", "/v2/queues?limit=2&with_count=true&marker=b", "")
	expect(t, r, 200, `{"queues": [{"name": "c", "href": "/v2/queues/c"}], `+
		`"links": [{"rel": "next", "href": "/v2/queues?marker=c&limit=2&with_count=true"}], "count": 3}`)
	r = h.do("GET", "/v2/queues?marker=c", "")
	expect(t, r, 200, `{"queues": [], "links": []}`)

	r = h.do("GET", "/v2/queues?detailed=yes&name=b", "")
	var got struct {
		Queues []struct {
			Name     string
			Href     string
			Metadata map[string]any
		}
		Links []map[string]string
	}
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Queues) != 1 || got.Queues[0].Name != "b" || got.Queues[0].Metadata["color"] != "b" ||
		got.Queues[0].Metadata["_default_message_ttl"] != 3600.0 {
		t.Fatalf("detailed list %s", r.body)
	}
	if got.Links[0]["href"] != "/v2/queues?detailed=true&name=b&marker=b" {
		t.Fatalf("next href %q", got.Links[0]["href"])
	}
	// Unknown parameters are metadata filters.
	r = h.do("GET", "/v2/queues?color=c", "")
	if !strings.Contains(string(r.body), `"name": "c"`) || strings.Contains(string(r.body), `"name": "a"`) {
		t.Fatalf("filtered list %s", r.body)
	}

	expect(t, h.do("GET", "/v2/queues?limit=21", ""), 400, `{"title": "Invalid API request", "description": "Limit must be at least 1 and no greater than 20."}`)
	expect(t, h.do("GET", "/v2/queues?limit=x", ""), 400, `{"title": "Invalid parameter", "description": "The \"limit\" parameter is invalid. The value must be an integer."}`)
	expect(t, h.do("GET", "/v2/queues?detailed=maybe", ""), 400, `{"title": "Invalid parameter", "description": "The \"detailed\" parameter is invalid. The value of the parameter must be \"true\" or \"false\"."}`)
	// An empty project has no count.
	expect(t, h.do("GET", "/v2/queues?with_count=true", "", hd{"X-Project-ID": "empty"}), 200, `{"queues": [], "links": []}`)
}

func TestStatsAndPurge(t *testing.T) {
	h := newHarness(t)
	expect(t, h.do("GET", "/v2/queues/s/stats", ""), 200, `{"messages": {"claimed": 0, "free": 0, "total": 0}}`)
	r := h.do("POST", "/v2/queues/s/messages", `{"messages": [{"body": 1}, {"body": 2}, {"body": 3}]}`)
	expect(t, r, 201, "*")
	ids := postedIDs(t, r)
	h.clock.Advance(12e9)
	expect(t, h.do("POST", "/v2/queues/s/claims?limit=1", `{"ttl": 100, "grace": 60}`), 201, "*")
	want := `{"messages": {"claimed": 1, "free": 2, "total": 3, ` +
		`"oldest": {"href": "/v2/queues/s/messages/` + ids[0] + `", "age": 12, "created": "2026-11-22T02:12:47Z"}, ` +
		`"newest": {"href": "/v2/queues/s/messages/` + ids[2] + `", "age": 12, "created": "2026-11-22T02:12:47Z"}}}`
	expect(t, h.do("GET", "/v2/queues/s/stats", ""), 200, want)

	expect(t, h.do("POST", "/v2/queues/s/purge", `{"resource_types": ["messages"]}`), 204, "")
	expect(t, h.do("GET", "/v2/queues/s/stats", ""), 200, `{"messages": {"claimed": 0, "free": 0, "total": 0}}`)
	expect(t, h.do("POST", "/v2/queues/s/purge", `{"resource_types": ["nope"]}`), 400, "*")
	expect(t, h.do("POST", "/v2/queues/s/purge", ""), 204, "")
}

func TestShareWithoutKey(t *testing.T) {
	h := newHarness(t)
	expect(t, h.do("POST", "/v2/queues/q/share", "{}"), 400, `{"title": "Invalid API request", "description": "The `+"`key`"+` can't be None"}`)
	expect(t, h.do("POST", "/v2/queues/q/share", ""), 400, `{"title": "Invalid request body", "description": "Request body can not be empty"}`)
}

// TestExplicitZeroLimit: limit=0 is Zaqar's range error, not the default page size.
func TestExplicitZeroLimit(t *testing.T) {
	h := newHarness(t)
	msgLimit := `{"title": "Invalid API request", "description": "Limit must be at least 1 and may not be greater than 20."}`
	expect(t, h.do("GET", "/v2/queues?limit=0", ""), 400,
		`{"title": "Invalid API request", "description": "Limit must be at least 1 and no greater than 20."}`)
	expect(t, h.do("GET", "/v2/queues/z/messages?limit=0", ""), 400, msgLimit)
	expect(t, h.do("POST", "/v2/queues/z/claims?limit=0", ""), 400, msgLimit)
	expect(t, h.do("GET", "/v2/queues/z/subscriptions?limit=0", ""), 400, msgLimit)
	expect(t, h.do("GET", "/v2/queues/z/messages?limit=-1", ""), 400, msgLimit)
	expect(t, h.do("GET", "/v2/queues/z/messages?limit=99999999999999999999", ""), 400, msgLimit)
	// A blank limit is no limit.
	expect(t, h.do("GET", "/v2/queues/z/messages?limit=", ""), 200, `{"messages": [], "links": []}`)
}

// TestZaqarclientHeaders sends what python-zaqarclient sends: Content-Type on every request (also GET and
// DELETE without a body), Accept */*, 32-hex Client-ID, X-Project-Id spelled its way, repeated ids, True.
func TestZaqarclientHeaders(t *testing.T) {
	h := newHarness(t)
	zc := hd{"Client-ID": "3381af922b9e11e3b19171861300734c", "X-Project-ID": "fake_project_id_for_noauth",
		"Content-Type": "application/json", "Accept": "*/*", "User-Agent": "python-requests/2.28.1"}
	expect(t, h.do("GET", "/v2/ping", "", zc), 204, "")
	expect(t, h.do("PUT", "/v2/queues/zc", "", zc), 201, "")
	ids := postedIDs(t, h.do("POST", "/v2/queues/zc/messages", `{"messages": [{"body": "a", "ttl": 300}, {"body": "b", "ttl": 300}]}`, zc))
	r := h.do("GET", "/v2/queues/zc/messages?ids="+ids[0]+"&ids="+ids[1], "", zc)
	if r.status != 200 || len(r.json(t)["messages"].([]any)) != 2 {
		t.Fatalf("get by ids: %s", r)
	}
	if n := len(h.do("GET", "/v2/queues/zc/messages?echo=True", "", zc).json(t)["messages"].([]any)); n != 2 {
		t.Fatalf("echo=True lists %d", n)
	}
	r = h.do("POST", "/v2/queues/zc/claims?limit=1", `{"ttl": 120, "grace": 60}`, zc)
	var claim struct{ Messages []struct{ Href string } }
	if err := json.Unmarshal(r.body, &claim); err != nil || r.status != 201 || !strings.Contains(claim.Messages[0].Href, "claim_id=") {
		t.Fatalf("claim: %s", r)
	}
	// The client deletes with the href it was given.
	expect(t, h.do("DELETE", claim.Messages[0].Href, "", zc), 204, "")
	expect(t, h.do("DELETE", "/v2/queues/zc/messages?pop=1", "", zc), 200, "*")
	expect(t, h.do("DELETE", "/v2/queues/zc", "", zc), 204, "")
}
