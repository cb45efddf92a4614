package httpapi

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func postedIDs(t *testing.T, r resp) []string {
	t.Helper()
	var body struct{ Resources []string }
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatalf("post response %s: %v", r.body, err)
	}
	ids := make([]string, len(body.Resources))
	for i, href := range body.Resources {
		ids[i] = href[strings.LastIndexByte(href, '/')+1:]
	}
	return ids
}

func TestPostMessages(t *testing.T) {
	h := newHarness(t)
	r := h.do("POST", "/v2/queues/m/messages", `{"messages": [{"body": {"event": "one"}, "ttl": 300}, {"body": "dos", "extra": 1}]}`)
	expect(t, r, 201, "*")
	ids := postedIDs(t, r)
	if len(ids) != 2 || ids[0] == ids[1] {
		t.Fatalf("ids %v", ids)
	}
	wantBody := `{"resources": ["/v2/queues/m/messages/` + ids[0] + `", "/v2/queues/m/messages/` + ids[1] + `"]}`
	expect(t, r, 201, wantBody)
	if loc := r.hdr.Get("Location"); loc != "/v2/queues/m/messages?ids="+ids[0]+","+ids[1] {
		t.Fatalf("Location %q", loc)
	}
	if r.hdr.Get("Content-Type") != "application/json" {
		t.Fatalf("Content-Type %q", r.hdr.Get("Content-Type"))
	}

	for _, c := range []struct{ body, want string }{
		{`{"messages": []}`, `{"title": "Invalid API request", "description": "No messages to enqueu."}`},
		{`{"nothing": 1}`, `{"title": "Invalid API request", "description": "No messages were found in the request body."}`},
		{`{"messages": [{"ttl": 60}]}`, `{"title": "Invalid request body", "description": "Missing \"body\" field."}`},
		{`{"messages": [{"body": 1, "ttl": 10}]}`, `{"title": "Invalid API request", "description": "The TTL for a message may not exceed 1209600 seconds, and must be at least 60 seconds long."}`},
		{`{"messages": [`, `{"title": "Invalid request body", "description": "Request body could not be parsed."}`},
		{`null`, `{"title": "Invalid request body", "description": "Request body could not be parsed."}`},
	} {
		expect(t, h.do("POST", "/v2/queues/m/messages", c.body), 400, c.want)
	}
	expect(t, h.do("POST", "/v2/queues/m/messages", ""), 400, `{"title": "Invalid request body", "description": "Request body can not be empty"}`)
	// The two good messages only.
	if got := h.do("GET", "/v2/queues/m/stats", "").json(t)["messages"].(map[string]any)["total"]; got != 2.0 {
		t.Fatalf("total %v", got)
	}
}

func TestListMessagesAndLinks(t *testing.T) {
	h := newHarness(t)
	r := h.do("POST", "/v2/queues/l/messages", `{"messages": [{"body": 1}, {"body": {"b": "é"}}, {"body": [3]}]}`)
	ids := postedIDs(t, r)
	h.clock.Advance(5 * time.Second)

	// The poster sees nothing without echo.
	expect(t, h.do("GET", "/v2/queues/l/messages", ""), 200, `{"messages": [], "links": []}`)
	// A missing queue is an empty page too.
	expect(t, h.do("GET", "/v2/queues/none/messages", ""), 200, `{"messages": [], "links": []}`)

	r = h.do("GET", "/v2/queues/l/messages?echo=True&limit=2", "")
	want := `{"messages": [` +
		`{"id": "` + ids[0] + `", "href": "/v2/queues/l/messages/` + ids[0] + `", "ttl": 3600, "age": 5, "body": 1}, ` +
		`{"id": "` + ids[1] + `", "href": "/v2/queues/l/messages/` + ids[1] + `", "ttl": 3600, "age": 5, "body": {"b": "é"}}], "links": [{"rel": "next", "href": "/v2/queues/l/messages?limit=2&echo=true&include_delayed=true&marker=`
	if !strings.HasPrefix(string(r.body), want) {
		t.Fatalf("page 1:\n%s\nwant prefix\n%s", r.body, want)
	}
	// Follow next links as python-zaqarclient does until a page is empty.
	seen := 0
	next := "/v2/queues/l/messages?echo=True&limit=2"
	for pages := 0; pages < 5; pages++ {
		var page struct {
			Messages []map[string]any
			Links    []map[string]string
		}
		if err := json.Unmarshal(h.do("GET", next, "").body, &page); err != nil {
			t.Fatal(err)
		}
		if len(page.Messages) == 0 {
			if len(page.Links) != 0 {
				t.Fatalf("empty page with links %v", page.Links)
			}
			break
		}
		for _, m := range page.Messages {
			if len(m) != 5 {
				t.Fatalf("message keys %v (python-zaqarclient takes only known keys)", m)
			}
		}
		seen += len(page.Messages)
		next = page.Links[0]["href"]
	}
	if seen != 3 {
		t.Fatalf("paged through %d messages", seen)
	}

	// Another client sees them without echo; the listing parameters are checked.
	if n := len(h.do("GET", "/v2/queues/l/messages", "", hd{"Client-ID": clientB}).json(t)["messages"].([]any)); n != 3 {
		t.Fatalf("client B sees %d", n)
	}
	expect(t, h.do("GET", "/v2/queues/l/messages?limit=21", ""), 400,
		`{"title": "Invalid API request", "description": "Limit must be at least 1 and may not be greater than 20."}`)
	expect(t, h.do("GET", "/v2/queues/l/messages?echo=sure", ""), 400,
		`{"title": "Invalid parameter", "description": "The \"echo\" parameter is invalid. The value of the parameter must be \"true\" or \"false\"."}`)
	expect(t, h.do("GET", "/v2/queues/l/messages?include_claimed=2", ""), 400, "*")
}

func TestGetMessagesByIDs(t *testing.T) {
	h := newHarness(t)
	ids := postedIDs(t, h.do("POST", "/v2/queues/g/messages", `{"messages": [{"body": 1}, {"body": 2}, {"body": 3}]}`))
	for _, q := range []string{"ids=" + ids[0] + "," + ids[2], "ids=" + ids[0] + "&ids=" + ids[2], "ids=" + ids[0] + "&ids=nope,&ids=" + ids[2]} {
		r := h.do("GET", "/v2/queues/g/messages?"+q+"&limit=bad", "") // ids wins over the listing parameters
		var body map[string][]map[string]any
		if err := json.Unmarshal(r.body, &body); err != nil || r.status != 200 {
			t.Fatalf("%s: %d %s", q, r.status, r.body)
		}
		if _, hasLinks := body["links"]; hasLinks || len(body["messages"]) != 2 ||
			body["messages"][0]["id"] != ids[0] || body["messages"][1]["id"] != ids[2] {
			t.Fatalf("%s: %s", q, r.body)
		}
	}
	expect(t, h.do("GET", "/v2/queues/g/messages?ids=nope", ""), 404,
		`{"title": "Not found", "description": "No messages with IDs: ['nope'] found in the queue g for project proj-1."}`)

	r := h.do("GET", "/v2/queues/g/messages/"+ids[1], "")
	expect(t, r, 200, `{"id": "`+ids[1]+`", "href": "/v2/queues/g/messages/`+ids[1]+`", "ttl": 3600, "age": 0, "body": 2}`)
	expect(t, h.do("GET", "/v2/queues/g/messages/nope", ""), 404,
		`{"title": "Not found", "description": "Message nope does not exist in queue g for project proj-1"}`)
}

func TestDeleteAndPop(t *testing.T) {
	h := newHarness(t)
	ids := postedIDs(t, h.do("POST", "/v2/queues/d/messages", `{"messages": [{"body": 1}, {"body": 2}, {"body": 3}, {"body": 4}]}`))
	h.clock.Advance(3 * time.Second)
	expect(t, h.do("DELETE", "/v2/queues/d/messages", ""), 400,
		`{"title": "Invalid API request", "description": "The request should have either \"ids\" or \"pop\" parameter in the request, to be able to delete."}`)
	expect(t, h.do("DELETE", "/v2/queues/d/messages?ids="+ids[0]+"&pop=1", ""), 400,
		`{"title": "Invalid API request", "description": "pop and id params cannot be present together in the delete request."}`)
	expect(t, h.do("DELETE", "/v2/queues/d/messages?pop=21", ""), 400,
		`{"title": "Invalid API request", "description": "Pop value must be at least 1 and may not be greater than 20."}`)
	expect(t, h.do("DELETE", "/v2/queues/d/messages?pop=x", ""), 400, "*")

	r := h.do("DELETE", "/v2/queues/d/messages?pop=1", "")
	expect(t, r, 200, `{"messages": [{"id": "`+ids[0]+`", "age": 3, "ttl": 3600, "body": 1, "claim_id": null, "claim_count": 0}]}`)
	expect(t, h.do("DELETE", "/v2/queues/d/messages?ids="+ids[1]+"&ids="+ids[2], ""), 204, "")
	expect(t, h.do("DELETE", "/v2/queues/d/messages/"+ids[3], ""), 204, "")
	expect(t, h.do("DELETE", "/v2/queues/d/messages/"+ids[3], ""), 204, "")
	expect(t, h.do("DELETE", "/v2/queues/d/messages?pop=5", ""), 200, `{"messages": []}`)
	expect(t, h.do("DELETE", "/v2/queues/none/messages?pop=5", ""), 200, `{"messages": []}`)
}

func TestClaims(t *testing.T) {
	h := newHarness(t)
	ids := postedIDs(t, h.do("POST", "/v2/queues/c/messages", `{"messages": [{"body": 1, "ttl": 60}, {"body": 2}, {"body": 3}]}`))
	expect(t, h.do("POST", "/v2/queues/empty/claims", `{"ttl": 100, "grace": 60}`), 204, "")
	expect(t, h.do("POST", "/v2/queues/c/claims?limit=x", `{}`), 400, "*")
	expect(t, h.do("POST", "/v2/queues/c/claims?limit=21", `{}`), 400,
		`{"title": "Invalid API request", "description": "Limit must be at least 1 and may not be greater than 20."}`)
	expect(t, h.do("POST", "/v2/queues/c/claims", `{"ttl": 10}`), 400,
		`{"title": "Invalid API request", "description": "The TTL for a claim may not exceed 43200 seconds, and must be at least 60 seconds long."}`)
	expect(t, h.do("POST", "/v2/queues/c/claims", `[1]`), 400, "*")

	r := h.do("POST", "/v2/queues/c/claims?limit=2", `{"ttl": 100, "grace": 60, "limit": 1}`)
	expect(t, r, 201, "*")
	loc := r.hdr.Get("Location")
	if !strings.HasPrefix(loc, "/v2/queues/c/claims/") {
		t.Fatalf("Location %q", loc)
	}
	cid := loc[len("/v2/queues/c/claims/"):]
	want := `{"messages": [` +
		`{"id": "` + ids[0] + `", "href": "/v2/queues/c/messages/` + ids[0] + `?claim_id=` + cid + `", "ttl": 160, "age": 0, "body": 1}, ` +
		`{"id": "` + ids[1] + `", "href": "/v2/queues/c/messages/` + ids[1] + `?claim_id=` + cid + `", "ttl": 3600, "age": 0, "body": 2}]}`
	expect(t, r, 201, want)

	h.clock.Advance(10 * time.Second)
	r = h.do("GET", "/v2/queues/c/claims/"+cid, "")
	expect(t, r, 200, `{"age": 10, "ttl": 100, "messages": [`+
		`{"id": "`+ids[0]+`", "href": "/v2/queues/c/messages/`+ids[0]+`?claim_id=`+cid+`", "ttl": 160, "age": 10, "body": 1}, `+
		`{"id": "`+ids[1]+`", "href": "/v2/queues/c/messages/`+ids[1]+`?claim_id=`+cid+`", "ttl": 3600, "age": 10, "body": 2}], `+
		`"href": "/v2/queues/c/claims/`+cid+`"}`)
	// A claimed message shows its claim in its href; an unclaimed one does not.
	if !strings.Contains(string(h.do("GET", "/v2/queues/c/messages/"+ids[0], "").body), "?claim_id="+cid) {
		t.Fatal("claimed message href lacks claim_id")
	}
	if strings.Contains(string(h.do("GET", "/v2/queues/c/messages/"+ids[2], "").body), "claim_id") {
		t.Fatal("unclaimed message href has claim_id")
	}
	// Deleting a claimed message needs the claim.
	expect(t, h.do("DELETE", "/v2/queues/c/messages/"+ids[1], ""), 403,
		`{"title": "Unable to delete", "description": "This message is claimed; it cannot be deleted without a valid claim ID."}`)
	expect(t, h.do("DELETE", "/v2/queues/c/messages/"+ids[2]+"?claim_id="+cid, ""), 400,
		`{"title": "Unable to delete", "description": "A claim was specified, but the message is not currently claimed."}`)
	expect(t, h.do("DELETE", "/v2/queues/c/messages/"+ids[1]+"?claim_id="+cid, ""), 204, "")

	expect(t, h.do("PATCH", "/v2/queues/c/claims/"+cid, ""), 400,
		`{"title": "Invalid request body", "description": "Request body can not be empty"}`)
	expect(t, h.do("PATCH", "/v2/queues/c/claims/"+cid, `{"ttl": 200}`), 204, "")
	if r := h.do("GET", "/v2/queues/c/claims/"+cid, "").json(t); r["age"] != 0.0 || r["ttl"] != 200.0 {
		t.Fatalf("renewed claim %v", r)
	}
	expect(t, h.do("PATCH", "/v2/queues/c/claims/nope", `{}`), 404, "*")
	expect(t, h.do("GET", "/v2/queues/c/claims/nope", ""), 404,
		`{"title": "Not found", "description": "Claim nope does not exist in queue c for project proj-1"}`)

	// After the claim expires the href loses its claim_id.
	h.clock.Advance(201 * time.Second)
	if strings.Contains(string(h.do("GET", "/v2/queues/c/messages/"+ids[2], "").body), "claim_id") {
		t.Fatal("message under an expired claim still shows it")
	}
	expect(t, h.do("DELETE", "/v2/queues/c/claims/"+cid, ""), 204, "")
	expect(t, h.do("DELETE", "/v2/queues/c/claims/nope", ""), 204, "")
}

func TestListIncludeClaimed(t *testing.T) {
	h := newHarness(t)
	ids := postedIDs(t, h.do("POST", "/v2/queues/ic/messages", `{"messages": [{"body": 1}, {"body": 2}]}`))
	r := h.do("POST", "/v2/queues/ic/claims?limit=1", `{"ttl": 60, "grace": 60}`, hd{"Client-ID": clientB})
	cid := r.hdr.Get("Location")[len("/v2/queues/ic/claims/"):]
	r = h.do("GET", "/v2/queues/ic/messages?include_claimed=yes", "", hd{"Client-ID": clientB})
	if !strings.Contains(string(r.body), ids[0]+"?claim_id="+cid) || !strings.Contains(string(r.body), "include_claimed=true") {
		t.Fatalf("include_claimed listing %s", r.body)
	}
	r = h.do("GET", "/v2/queues/ic/messages", "", hd{"Client-ID": clientB})
	if strings.Contains(string(r.body), ids[0]) || !strings.Contains(string(r.body), ids[1]) {
		t.Fatalf("default listing shows claimed messages: %s", r.body)
	}
}
