package wsapi

import (
	"reflect"
	"testing"
	"time"
)

func TestQueueActions(t *testing.T) {
	e := newEnv(t)
	c := e.dial()

	if b := c.mustDo(201, "queue_create", map[string]any{"queue_name": "wsq", "metadata": map[string]any{"a": 1}}); b != "Queue wsq created." {
		t.Errorf("create body %v", b)
	}
	if b := c.mustDo(204, "queue_create", map[string]any{"queue_name": "wsq"}); b != "Queue wsq created." {
		t.Errorf("second create body %v", b)
	}
	c.mustDo(201, "queue_create", map[string]any{"queue_name": "other"})

	// queue_get: stored metadata only, no reserved defaults; {} for a missing queue.
	if b := c.mustDo(200, "queue_get", map[string]any{"queue_name": "wsq"}); !reflect.DeepEqual(b, map[string]any{"a": 1.0}) {
		t.Errorf("queue_get %v", b)
	}
	if b := c.mustDo(200, "queue_get", map[string]any{"queue_name": "nope"}); !reflect.DeepEqual(b, map[string]any{}) {
		t.Errorf("queue_get missing %v", b)
	}

	b := c.mustDo(200, "queue_list", nil)
	if jsonOf(b) != `{"queues":[{"name":"other"},{"name":"wsq"}]}` {
		t.Errorf("queue_list %s", jsonOf(b))
	}
	b = c.mustDo(200, "queue_list", map[string]any{"limit": 1, "marker": "other", "detailed": true})
	list := b.(map[string]any)["queues"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["name"] != "wsq" || list[0].(map[string]any)["metadata"].(map[string]any)["a"] != 1.0 {
		t.Errorf("queue_list detailed %s", jsonOf(b))
	}
	st, b, _ := c.do("queue_list", map[string]any{"limit": 0})
	if st != 400 || jsonOf(b) != `{"error":null,"exception":"Limit must be at least 1 and no greater than 20."}` {
		t.Errorf("queue_list limit 0: %d %s", st, jsonOf(b))
	}

	// Stats: zeros with 404 for a missing queue.
	st, b, _ = c.do("queue_get_stats", map[string]any{"queue_name": "nope"})
	if st != 404 || jsonOf(b) != `{"messages":{"claimed":0,"free":0,"total":0}}` {
		t.Errorf("stats missing: %d %s", st, jsonOf(b))
	}
	c.mustDo(201, "message_post", map[string]any{"queue_name": "wsq", "messages": []any{map[string]any{"body": 1}, map[string]any{"body": 2}}})
	e.clock.Advance(3 * time.Second)
	b = c.mustDo(200, "queue_get_stats", map[string]any{"queue_name": "wsq"})
	m := b.(map[string]any)["messages"].(map[string]any)
	if m["total"] != 2.0 || m["free"] != 2.0 || m["claimed"] != 0.0 || m["oldest"].(map[string]any)["age"] != 3.0 ||
		m["newest"].(map[string]any)["id"] == nil || m["oldest"].(map[string]any)["href"] != nil {
		t.Errorf("stats %s", jsonOf(b))
	}

	if b := c.mustDo(204, "queue_purge", map[string]any{"queue_name": "wsq", "resource_types": []any{"messages"}}); jsonOf(b) != "{}" {
		t.Errorf("purge body %s", jsonOf(b))
	}
	b = c.mustDo(200, "queue_get_stats", map[string]any{"queue_name": "wsq"})
	if b.(map[string]any)["messages"].(map[string]any)["total"] != 0.0 {
		t.Errorf("after purge %s", jsonOf(b))
	}
	st, b, _ = c.do("queue_purge", map[string]any{"queue_name": "wsq", "resource_types": []any{"bogus"}})
	if st != 400 || b.(map[string]any)["exception"] != "Resource types must be a sub set of {'messages', 'subscriptions'}." {
		t.Errorf("bad purge: %d %s", st, jsonOf(b))
	}

	if b := c.mustDo(204, "queue_delete", map[string]any{"queue_name": "wsq"}); b != "Queue wsq removed." {
		t.Errorf("delete body %v", b)
	}
	st, b, _ = c.do("queue_create", map[string]any{"queue_name": "bad name"})
	if st != 400 || b.(map[string]any)["exception"] != "The format of the submitted queue name or project id is not valid." {
		t.Errorf("bad name: %d %s", st, jsonOf(b))
	}
	st, b, _ = c.do("queue_create", map[string]any{"queue_name": "q2", "metadata": map[string]any{"_default_message_ttl": 5}})
	if st != 400 || b.(map[string]any)["error"] != nil {
		t.Errorf("bad metadata: %d %s", st, jsonOf(b))
	}
}

func TestMessageActions(t *testing.T) {
	e := newEnv(t)
	c := e.dial()

	// message_list on a missing queue is a 404 over websocket.
	st, b, _ := c.do("message_list", map[string]any{"queue_name": "wsq"})
	if st != 404 || b.(map[string]any)["exception"] != "Queue wsq does not exist for project proj-ws" {
		t.Errorf("list missing queue: %d %s", st, jsonOf(b))
	}

	b = c.mustDo(201, "message_post", map[string]any{"queue_name": "wsq", "messages": []any{
		map[string]any{"body": map[string]any{"z": 1, "a": []any{1.5, "x"}}, "ttl": 120},
		map[string]any{"body": "hi"},
	}})
	ids := b.(map[string]any)["message_ids"].([]any)
	if len(ids) != 2 {
		t.Fatalf("post %s", jsonOf(b))
	}
	id0, id1 := ids[0].(string), ids[1].(string)

	// Own messages are hidden without echo.
	if b := c.mustDo(200, "message_list", map[string]any{"queue_name": "wsq"}); jsonOf(b) != `{"messages":[]}` {
		t.Errorf("list without echo %s", jsonOf(b))
	}
	e.clock.Advance(2 * time.Second)
	b = c.mustDo(200, "message_list", map[string]any{"queue_name": "wsq", "echo": true, "limit": 1})
	want := `{"messages":[{"age":2,"body":{"a":[1.5,"x"],"z":1},"claim_id":null,"id":"` + id0 + `","ttl":120}]}`
	if jsonOf(b) != want {
		t.Errorf("list:\n got %s\nwant %s", jsonOf(b), want)
	}

	b = c.mustDo(200, "message_get", map[string]any{"queue_name": "wsq", "message_id": id1})
	if jsonOf(b) != `{"messages":{"age":2,"body":"hi","claim_id":null,"id":"`+id1+`","ttl":3600}}` {
		t.Errorf("get %s", jsonOf(b))
	}
	st, b, _ = c.do("message_get", map[string]any{"queue_name": "wsq", "message_id": "nope"})
	if st != 404 {
		t.Errorf("get missing: %d %s", st, jsonOf(b))
	}
	b = c.mustDo(200, "message_get_many", map[string]any{"queue_name": "wsq", "message_ids": []any{id1, "nope"}})
	if ms := b.(map[string]any)["messages"].([]any); len(ms) != 1 || ms[0].(map[string]any)["id"] != id1 {
		t.Errorf("get_many %s", jsonOf(b))
	}
	if b := c.mustDo(200, "message_get_many", map[string]any{"queue_name": "wsq", "message_ids": []any{"nope"}}); jsonOf(b) != `{"messages":[]}` {
		t.Errorf("get_many none found %s", jsonOf(b))
	}

	// Claims, and deletion under claim rules.
	b = c.mustDo(201, "claim_create", map[string]any{"queue_name": "wsq", "limit": 1, "ttl": 60, "grace": 60})
	cid := b.(map[string]any)["claim_id"].(string)
	claimed := b.(map[string]any)["messages"].([]any)
	if len(claimed) != 1 || claimed[0].(map[string]any)["claim_id"] != cid || claimed[0].(map[string]any)["id"] != id0 {
		t.Errorf("claim %s", jsonOf(b))
	}
	st, b, _ = c.do("message_delete", map[string]any{"queue_name": "wsq", "message_id": id0})
	if st != 403 || jsonOf(b) != `{"error":"This message is claimed; it cannot be deleted without a valid claim ID.","exception":"This message is claimed; it cannot be deleted without a valid claim ID."}` {
		t.Errorf("delete claimed: %d %s", st, jsonOf(b))
	}
	st, b, _ = c.do("message_delete", map[string]any{"queue_name": "wsq", "message_id": id1, "claim_id": cid})
	if st != 400 {
		t.Errorf("delete with a claim on an unclaimed message: %d %s", st, jsonOf(b))
	}
	// A listed claimed message carries its claim.
	b = c.mustDo(200, "message_get", map[string]any{"queue_name": "wsq", "message_id": id0})
	if b.(map[string]any)["messages"].(map[string]any)["claim_id"] != cid {
		t.Errorf("claimed get %s", jsonOf(b))
	}
	e.clock.Advance(5 * time.Second)
	b = c.mustDo(200, "claim_get", map[string]any{"queue_name": "wsq", "claim_id": cid})
	if jsonOf(b) != `{"age":5,"messages":[{"age":7,"body":{"a":[1.5,"x"],"z":1},"claim_id":"`+cid+`","id":"`+id0+`","ttl":120}],"ttl":60}` {
		t.Errorf("claim_get %s", jsonOf(b))
	}
	if b := c.mustDo(204, "claim_update", map[string]any{"queue_name": "wsq", "claim_id": cid, "ttl": 120}); b != "Claim "+cid+" updated." {
		t.Errorf("claim_update %v", b)
	}
	st, _, _ = c.do("claim_update", map[string]any{"queue_name": "wsq", "claim_id": "nope", "ttl": 120})
	if st != 404 {
		t.Errorf("claim_update missing: %d", st)
	}
	st, b, _ = c.do("claim_create", map[string]any{"queue_name": "wsq", "ttl": 1})
	if st != 400 || b.(map[string]any)["exception"] != "The TTL for a claim may not exceed 43200 seconds, and must be at least 60 seconds long." {
		t.Errorf("claim ttl: %d %s", st, jsonOf(b))
	}
	c.mustDo(204, "message_delete", map[string]any{"queue_name": "wsq", "message_id": id0, "claim_id": cid})
	if b := c.mustDo(204, "claim_delete", map[string]any{"queue_name": "wsq", "claim_id": cid}); b != "Claim "+cid+" deleted." {
		t.Errorf("claim_delete %v", b)
	}
	st, _, _ = c.do("claim_get", map[string]any{"queue_name": "wsq", "claim_id": cid})
	if st != 404 {
		t.Errorf("released claim found: %d", st)
	}

	// Pop and delete-many.
	b = c.mustDo(201, "message_post", map[string]any{"queue_name": "wsq", "messages": []any{map[string]any{"body": 3}, map[string]any{"body": 4}}})
	more := b.(map[string]any)["message_ids"].([]any)
	b = c.mustDo(200, "message_delete_many", map[string]any{"queue_name": "wsq", "pop": 1})
	if ms := b.(map[string]any)["messages"].([]any); len(ms) != 1 || ms[0].(map[string]any)["id"] != id1 {
		t.Errorf("pop %s", jsonOf(b))
	}
	if b := c.mustDo(204, "message_delete_many", map[string]any{"queue_name": "wsq", "message_ids": more}); jsonOf(b) != "{}" {
		t.Errorf("delete_many body %s", jsonOf(b))
	}
	st, b, _ = c.do("message_delete_many", map[string]any{"queue_name": "wsq"})
	if st != 400 || b.(map[string]any)["exception"] != `The request should have either "ids" or "pop" parameter in the request, to be able to delete.` {
		t.Errorf("delete_many neither: %d %s", st, jsonOf(b))
	}
	st, b, _ = c.do("message_delete_many", map[string]any{"queue_name": "wsq", "pop": 0})
	if st != 400 || b.(map[string]any)["exception"] != "Pop value must be at least 1 and may not be greater than 20." {
		t.Errorf("pop 0: %d %s", st, jsonOf(b))
	}
	if b := c.mustDo(204, "claim_create", map[string]any{"queue_name": "wsq"}); jsonOf(b) != `{"claim_id":null}` {
		t.Errorf("empty claim %s", jsonOf(b))
	}

	// Domain validation reaches the client as {"exception", "error": null}.
	st, b, _ = c.do("message_post", map[string]any{"queue_name": "wsq", "messages": []any{map[string]any{"body": 1, "ttl": 1}}})
	if st != 400 || jsonOf(b) != `{"error":null,"exception":"The TTL for a message may not exceed 1209600 seconds, and must be at least 60 seconds long."}` {
		t.Errorf("bad ttl: %d %s", st, jsonOf(b))
	}
	st, b, _ = c.do("message_post", map[string]any{"queue_name": "wsq", "messages": []any{}})
	if st != 400 {
		t.Errorf("empty post: %d %s", st, jsonOf(b))
	}
	st, b, _ = c.do("message_post", map[string]any{"queue_name": "wsq", "messages": []any{map[string]any{"body": 1}}}, "Client-ID", "not-a-uuid")
	if st != 400 || b.(map[string]any)["exception"] != "Malformed hexadecimal UUID." {
		t.Errorf("bad client id: %d %s", st, jsonOf(b))
	}
}

func TestSubscriptionActions(t *testing.T) {
	e := newEnv(t)
	c := e.dial()
	b := c.mustDo(201, "subscription_create", map[string]any{"queue_name": "wsq", "subscriber": "http://127.0.0.1:9/hook",
		"ttl": 120, "options": map[string]any{"post_headers": map[string]any{"X-A": "b"}}})
	sid := b.(map[string]any)["subscription_id"].(string)
	if b.(map[string]any)["message"] != "Subscription wsq created." {
		t.Errorf("create %s", jsonOf(b))
	}
	st, b, _ := c.do("subscription_create", map[string]any{"queue_name": "wsq", "subscriber": "http://127.0.0.1:9/hook"})
	if st != 409 || b != "Subscription wsq not created." {
		t.Errorf("duplicate: %d %v", st, b)
	}
	st, b, _ = c.do("subscription_create", map[string]any{"queue_name": "wsq", "subscriber": "ftp://x"})
	if st != 400 || b.(map[string]any)["exception"] != "The subscriber type of subscription must be supported in the list ['http', 'https', 'mailto', 'trust+http', 'trust+https']." {
		t.Errorf("bad scheme: %d %s", st, jsonOf(b))
	}
	e.clock.Advance(4 * time.Second)
	b = c.mustDo(200, "subscription_get", map[string]any{"queue_name": "wsq", "subscription_id": sid})
	want := `{"age":4,"confirmed":false,"id":"` + sid + `","options":{"post_headers":{"X-A":"b"}},"source":"wsq","subscriber":"http://127.0.0.1:9/hook","ttl":120}`
	if jsonOf(b) != want {
		t.Errorf("get:\n got %s\nwant %s", jsonOf(b), want)
	}
	b = c.mustDo(200, "subscription_list", map[string]any{"queue_name": "wsq"})
	if subs := b.(map[string]any)["subscriptions"].([]any); len(subs) != 1 || subs[0].(map[string]any)["id"] != sid {
		t.Errorf("list %s", jsonOf(b))
	}
	if b := c.mustDo(204, "subscription_delete", map[string]any{"queue_name": "wsq", "subscription_id": sid}); b != "Subscription "+sid+" removed." {
		t.Errorf("delete %v", b)
	}
	st, _, _ = c.do("subscription_get", map[string]any{"queue_name": "wsq", "subscription_id": sid})
	if st != 404 {
		t.Errorf("deleted subscription found: %d", st)
	}
}

func TestProtocolErrors(t *testing.T) {
	e := newEnv(t)
	c := e.dial()
	empty := map[string]any{"action": nil, "body": map[string]any{}, "headers": map[string]any{}, "api": "v2"}
	cases := []struct {
		name    string
		frame   string
		status  int
		errText string
		request map[string]any // nil: not checked
	}{
		{"not json", `{"action": `, 400, "Can't decode text (JSON) request. JSONDecodeError: ", empty},
		{"not an object", `["queue_list"]`, 400, "Unexpected body type. Expected dict or dict like.", empty},
		{"number", `5`, 400, "Unexpected body type. Expected dict or dict like.", empty},
		{"unknown action", `{"action": "bogus", "headers": {}}`, 400, "bogus is not a valid action",
			map[string]any{"action": "bogus", "body": map[string]any{}, "headers": map[string]any{}, "api": "v2"}},
		{"no action", `{"headers": {}}`, 400, "None is not a valid action", nil},
		{"action not a string", `{"action": 5}`, 400, "5 is not a valid action", nil},
		{"no headers", `{"action": "queue_list"}`, 400, "Schema validation failed.", nil},
		{"no client id", `{"action": "queue_list", "headers": {"X-Project-ID": "p"}}`, 400, "Schema validation failed.", nil},
		{"header not a string", `{"action": "queue_list", "headers": {"Client-ID": 5, "X-Project-ID": "p"}}`, 400, "Schema validation failed.", nil},
		{"body missing", `{"action": "queue_create", "headers": {"Client-ID": "a", "X-Project-ID": "p"}}`, 400, "Schema validation failed.", nil},
		{"body not an object", `{"action": "queue_list", "headers": {"Client-ID": "a", "X-Project-ID": "p"}, "body": []}`, 400, "Schema validation failed.", nil},
		{"queue name missing", `{"action": "queue_get", "headers": {"Client-ID": "a", "X-Project-ID": "p"}, "body": {}}`, 400, "Schema validation failed.", nil},
		{"float is not an integer", `{"action": "claim_create", "headers": {"Client-ID": "a", "X-Project-ID": "p"}, "body": {"queue_name": "q", "ttl": 60.0}}`, 400, "Schema validation failed.", nil},
		{"boolean is not an integer", `{"action": "queue_list", "headers": {"Client-ID": "a", "X-Project-ID": "p"}, "body": {"limit": true}}`, 400, "Schema validation failed.", nil},
		{"messages not a list", `{"action": "message_post", "headers": {"Client-ID": "a", "X-Project-ID": "p"}, "body": {"queue_name": "q", "messages": {}}}`, 400, "Schema validation failed.", nil},
		{"unimplemented", `{"action": "get_home_doc", "headers": {}}`, 400, "get_home_doc is not implemented by this server.", nil},
		{"pool", `{"action": "pool_list", "headers": {}}`, 400, "pool_list is not implemented by this server.", nil},
	}
	for _, tc := range cases {
		c.sendRaw(1, []byte(tc.frame))
		resp := c.readJSON()
		if st := status(t, resp); st != tc.status {
			t.Errorf("%s: status %d, want %d (%v)", tc.name, st, tc.status, resp)
		}
		if got := errorText(t, resp["body"]); !contains(got, tc.errText) || (tc.errText[len(tc.errText)-1] != ' ' && got != tc.errText) {
			t.Errorf("%s: error %q, want %q", tc.name, got, tc.errText)
		}
		if tc.request != nil && !reflect.DeepEqual(resp["request"], tc.request) {
			t.Errorf("%s: request echo %v, want %v", tc.name, resp["request"], tc.request)
		}
	}

	// A good request echoes the client's body and headers.
	_, _, resp := c.do("queue_list", map[string]any{"limit": 5})
	wantReq := map[string]any{"action": "queue_list", "body": map[string]any{"limit": 5.0},
		"headers": map[string]any{"Client-ID": testClient, "X-Project-ID": testProject}, "api": "v2"}
	if !reflect.DeepEqual(resp["request"], wantReq) {
		t.Errorf("echo %v, want %v", resp["request"], wantReq)
	}

	// Without auth, authenticate gets an answer (Zaqar sends none).
	st, b, resp := c.do("authenticate", nil, "X-Auth-Token", "anything")
	if st != 200 || !contains(jsonOf(b), "not enabled") || jsonOf(resp["request"]) != `{"action":"authenticate","api":"v2","body":{},"headers":{}}` {
		t.Errorf("authenticate without auth: %d %v", st, resp)
	}

	// Invalid UTF-8 in a text frame.
	c.sendRaw(1, []byte("{\"action\": \"\xff\"}"))
	if resp := c.readJSON(); status(t, resp) != 400 || !contains(errorText(t, resp["body"]), "Can't decode text (JSON) request. UnicodeDecodeError") {
		t.Errorf("invalid utf-8: %v", resp)
	}
}
