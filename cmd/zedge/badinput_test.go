package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// anyDescription in a bad-input case accepts any non-empty description (the spec gives only the title).
const anyDescription = "*"

// badCase is one refused request: the spec's status and error body.
type badCase struct {
	name    string
	method  string
	path    string
	body    any // nil, string or JSON-marshalled value
	headers []string
	status  int
	title   string // "" for statuses with a bare body check (404, 405) or none (406)
	desc    string
}

func messagesBody(items ...string) string {
	return `{"messages": [` + strings.Join(items, ",") + `]}`
}

// TestBadInput sends malformed and out-of-range requests over real HTTP, checks each refusal against the spec, and
// then checks that nothing stored before was harmed.
func TestBadInput(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})
	c := newClient(t, s, "hostile")

	// What must survive: a queue with metadata and a few messages.
	c.do("PUT", "/v2/queues/intact", map[string]any{"site": "b1"}).expect(t, 201)
	seedBodies := []string{`{"temp": 21.5, "unit": "C"}`, `"plain"`, `[1, 2, 3]`}
	var seed []map[string]any
	for _, b := range seedBodies {
		seed = append(seed, map[string]any{"body": rawJSON(b), "ttl": 3600})
	}
	seedIDs := c.post("intact", seed...)
	metaBefore := c.do("GET", "/v2/queues/intact", nil).expect(t, 200).body

	oversize := messagesBody(fmt.Sprintf(`{"body": %q, "ttl": 60}`, strings.Repeat("a", 262144)))
	// Exactly at the limit is allowed: pad the body so the whole request is 262144 bytes.
	atLimitPrefix := `{"messages": [{"ttl": 60, "body": "`
	atLimitSuffix := `"}]}`
	atLimit := atLimitPrefix + strings.Repeat("b", 262144-len(atLimitPrefix)-len(atLimitSuffix)) + atLimitSuffix
	overByOne := atLimitPrefix + strings.Repeat("b", 262145-len(atLimitPrefix)-len(atLimitSuffix)) + atLimitSuffix

	const (
		invalidAPI  = "Invalid API request"
		invalidBody = "Invalid request body"
		invalidParm = "Invalid parameter"
		msgs        = "/v2/queues/intact/messages"
		ttlText     = "The TTL for a message may not exceed 1209600 seconds, and must be at least 60 seconds long."
		limitText   = "Limit must be at least 1 and may not be greater than 20."
		noQueueText = "The format of the submitted queue name or project id is not valid."
		mustBeInt   = `The value of the "ttl" field must be a int.`
	)
	ids21 := make([]string, 21)
	for i := range ids21 {
		ids21[i] = seedIDs[0]
	}
	cases := []badCase{
		// Size.
		{name: "post 256 KiB + body", method: "POST", path: msgs, body: oversize, status: 400, title: invalidAPI,
			desc: "Message collection size is too large. Max size 262144"},
		{name: "post one byte over", method: "POST", path: msgs, body: overByOne, status: 400, title: invalidAPI,
			desc: "Message collection size is too large. Max size 262144"},
		{name: "queue metadata over 64 KiB", method: "PUT", path: "/v2/queues/big-meta",
			body: `{"k": "` + strings.Repeat("m", 65536) + `"}`, status: 400, title: invalidAPI,
			desc: "Queue metadata is too large. Max size: 65536"},

		// Bodies that do not parse.
		{name: "truncated JSON", method: "POST", path: msgs, body: `{"messages": [{"body": 1}`, status: 400,
			title: invalidBody, desc: "Request body could not be parsed."},
		{name: "invalid UTF-8", method: "POST", path: msgs, body: "{\"messages\": [{\"body\": \"\xff\xfe\"}]}",
			status: 400, title: invalidBody, desc: "Request body could not be parsed."},
		{name: "top-level null", method: "POST", path: msgs, body: `null`, status: 400, title: invalidBody,
			desc: "Request body could not be parsed."},
		{name: "top-level number", method: "POST", path: msgs, body: `5`, status: 400, title: invalidBody,
			desc: "Request body could not be parsed."},
		{name: "empty body", method: "POST", path: msgs, body: ``, status: 400, title: invalidBody,
			desc: "Request body can not be empty"},
		{name: "integer too large", method: "POST", path: msgs,
			body: messagesBody(`{"body": 1, "ttl": 100000000000000000000}`), status: 400, title: invalidBody,
			desc: "JSON contains integer that is too large."},

		// Wrong shapes and types.
		{name: "messages not an array", method: "POST", path: msgs, body: `{"messages": {"body": 1}}`, status: 400,
			title: invalidBody, desc: "Document type not supported."},
		{name: "no messages key", method: "POST", path: msgs, body: `{"body": 1}`, status: 400, title: invalidAPI,
			desc: "No messages were found in the request body."},
		{name: "top-level array", method: "POST", path: msgs, body: `[{"body": 1}]`, status: 400, title: invalidAPI,
			desc: "No messages were found in the request body."},
		{name: "empty messages", method: "POST", path: msgs, body: `{"messages": []}`, status: 400, title: invalidAPI,
			desc: "No messages to enqueu."},
		{name: "missing body field", method: "POST", path: msgs, body: messagesBody(`{"ttl": 60}`), status: 400,
			title: invalidBody, desc: `Missing "body" field.`},
		{name: "ttl as string", method: "POST", path: msgs, body: messagesBody(`{"body": 1, "ttl": "60"}`),
			status: 400, title: invalidBody, desc: mustBeInt},
		{name: "ttl as float", method: "POST", path: msgs, body: messagesBody(`{"body": 1, "ttl": 60.0}`),
			status: 400, title: invalidBody, desc: mustBeInt},
		{name: "second message bad", method: "POST", path: msgs,
			body: messagesBody(`{"body": 1, "ttl": 60}`, `{"body": 2, "ttl": 59}`), status: 400, title: invalidAPI,
			desc: ttlText},
		{name: "queue PUT with an array", method: "PUT", path: "/v2/queues/arr", body: `[1, 2]`, status: 400,
			title: invalidBody, desc: "Document type not supported."},
		{name: "claim ttl as string", method: "POST", path: "/v2/queues/intact/claims", body: `{"ttl": "x", "grace": 60}`,
			status: 400, title: invalidBody, desc: mustBeInt},

		// Out-of-range values.
		{name: "ttl 59", method: "POST", path: msgs, body: messagesBody(`{"body": 1, "ttl": 59}`), status: 400,
			title: invalidAPI, desc: ttlText},
		{name: "ttl 1209601", method: "POST", path: msgs, body: messagesBody(`{"body": 1, "ttl": 1209601}`),
			status: 400, title: invalidAPI, desc: ttlText},
		{name: "negative ttl", method: "POST", path: msgs, body: messagesBody(`{"body": 1, "ttl": -1}`),
			status: 400, title: invalidAPI, desc: ttlText},
		{name: "claim ttl 59", method: "POST", path: "/v2/queues/intact/claims", body: `{"ttl": 59, "grace": 60}`,
			status: 400, title: invalidAPI,
			desc: "The TTL for a claim may not exceed 43200 seconds, and must be at least 60 seconds long."},
		{name: "claim ttl 43201", method: "POST", path: "/v2/queues/intact/claims", body: `{"ttl": 43201, "grace": 60}`,
			status: 400, title: invalidAPI,
			desc: "The TTL for a claim may not exceed 43200 seconds, and must be at least 60 seconds long."},
		{name: "claim grace 59", method: "POST", path: "/v2/queues/intact/claims", body: `{"ttl": 60, "grace": 59}`,
			status: 400, title: invalidAPI,
			desc: "The grace for a claim may not exceed 43200 seconds, and must be at least 60 seconds long."},
		{name: "claim update ttl 43201", method: "PATCH", path: "/v2/queues/intact/claims/0123456789abcdef01234567",
			body: `{"ttl": 43201}`, status: 400, title: invalidAPI,
			desc: "The TTL for a claim may not exceed 43200 seconds, and must be at least 60 seconds long."},
		{name: "claim limit 21", method: "POST", path: "/v2/queues/intact/claims?limit=21", body: `{"ttl": 60, "grace": 60}`,
			status: 400, title: invalidAPI, desc: limitText},
		{name: "claim limit 0", method: "POST", path: "/v2/queues/intact/claims?limit=0", body: `{"ttl": 60, "grace": 60}`,
			status: 400, title: invalidAPI, desc: limitText},
		{name: "list limit 21", method: "GET", path: msgs + "?limit=21", status: 400, title: invalidAPI, desc: limitText},
		{name: "list limit 0", method: "GET", path: msgs + "?limit=0", status: 400, title: invalidAPI, desc: limitText},
		{name: "queue list limit 21", method: "GET", path: "/v2/queues?limit=21", status: 400, title: invalidAPI,
			desc: "Limit must be at least 1 and no greater than 20."},
		{name: "get 21 ids", method: "GET", path: msgs + "?ids=" + strings.Join(ids21, ","), status: 400,
			title: invalidAPI, desc: limitText},
		{name: "pop 21", method: "DELETE", path: msgs + "?pop=21", status: 400, title: invalidAPI,
			desc: "Pop value must be at least 1 and may not be greater than 20."},
		{name: "pop 0", method: "DELETE", path: msgs + "?pop=0", status: 400, title: invalidAPI,
			desc: "Pop value must be at least 1 and may not be greater than 20."},
		{name: "delete 21 ids", method: "DELETE", path: msgs + "?ids=" + strings.Join(ids21, ","), status: 400,
			title: invalidAPI, desc: "ids parameter should have at least 1 and not greater than 20 values."},
		{name: "pop and ids", method: "DELETE", path: msgs + "?pop=1&ids=" + seedIDs[0], status: 400, title: invalidAPI,
			desc: "pop and id params cannot be present together in the delete request."},
		{name: "neither pop nor ids", method: "DELETE", path: msgs, status: 400, title: invalidAPI,
			desc: `The request should have either "ids" or "pop" parameter in the request, to be able to delete.`},
		{name: "queue _default_message_ttl 30", method: "PUT", path: "/v2/queues/bad-meta",
			body: `{"_default_message_ttl": 30}`, status: 400, title: invalidAPI,
			desc: "_default_message_ttl can not exceed 1209600 seconds, and must be at least 60 seconds long."},

		// Query parameters of the wrong type.
		{name: "echo=maybe", method: "GET", path: msgs + "?echo=maybe", status: 400, title: invalidParm,
			desc: `The "echo" parameter is invalid. The value of the parameter must be "true" or "false".`},
		{name: "include_claimed=2", method: "GET", path: msgs + "?include_claimed=2", status: 400, title: invalidParm,
			desc: `The "include_claimed" parameter is invalid. The value of the parameter must be "true" or "false".`},
		{name: "detailed=nope", method: "GET", path: "/v2/queues?detailed=nope", status: 400, title: invalidParm,
			desc: `The "detailed" parameter is invalid. The value of the parameter must be "true" or "false".`},
		{name: "limit=abc", method: "GET", path: msgs + "?limit=abc", status: 400, title: invalidParm,
			desc: `The "limit" parameter is invalid. The value must be an integer.`},
		{name: "pop=1.5", method: "DELETE", path: msgs + "?pop=1.5", status: 400, title: invalidParm,
			desc: `The "pop" parameter is invalid. The value must be an integer.`},

		// Headers.
		{name: "no Client-ID", method: "GET", path: msgs, headers: []string{"Client-ID: -"}, status: 400,
			title: "Missing header value", desc: `The "Client-ID" header is required.`},
		{name: "Client-ID not a UUID", method: "POST", path: msgs, body: messagesBody(`{"body": 1}`),
			headers: []string{"Client-ID: not-a-uuid"}, status: 400, title: "Wrong UUID value",
			desc: "Malformed hexadecimal UUID."},
		{name: "Client-ID 31 hex digits", method: "GET", path: msgs,
			headers: []string{"Client-ID: 3381af922b9e11e3b19171861300734"}, status: 400, title: "Wrong UUID value",
			desc: "Malformed hexadecimal UUID."},
		{name: "Client-ID with a non-hex digit", method: "GET", path: msgs,
			headers: []string{"Client-ID: 3381af92-2b9e-11e3-b191-71861300734g"}, status: 400, title: "Wrong UUID value",
			desc: "Malformed hexadecimal UUID."},
		{name: "Client-ID empty", method: "GET", path: msgs, headers: []string{"Client-ID: "}, status: 400,
			title: "Wrong UUID value", desc: "Malformed hexadecimal UUID."},
		{name: "no project", method: "GET", path: msgs, headers: []string{"X-Project-ID: -"}, status: 400,
			title: "Project-Id Missing", desc: "The header X-PROJECT-ID was missing"},
		{name: "empty project", method: "GET", path: msgs, headers: []string{"X-Project-ID: "}, status: 400,
			title: "Empty project header not allowed",
			desc:  "X-PROJECT-ID cannot be an empty string. Specify the right header X-PROJECT-ID and retry."},
		{name: "project of 257 chars", method: "GET", path: msgs, headers: []string{"X-Project-ID: " + strings.Repeat("p", 257)},
			status: 400, title: "Invalid queue identification", desc: noQueueText},
		{name: "form-encoded body", method: "POST", path: msgs, body: "a=1",
			headers: []string{"Content-Type: application/x-www-form-urlencoded"}, status: 400,
			title: "Invalid Content-Type", desc: anyDescription},
		{name: "Accept text/html", method: "GET", path: msgs, headers: []string{"Accept: text/html"}, status: 406},
		{name: "queue PATCH as JSON", method: "PATCH", path: "/v2/queues/intact", body: `[]`, status: 415,
			title: "Accepted media type for PATCH: {'Accept-Patch': 'application/openstack-messaging-v2.0-json-patch'}."},

		// Queue names.
		{name: "queue name with $", method: "POST", path: "/v2/queues/bad$name/messages", body: messagesBody(`{"body": 1}`),
			status: 400, title: "Invalid queue identification", desc: noQueueText},
		{name: "queue name of 65 chars", method: "PUT", path: "/v2/queues/" + strings.Repeat("q", 65), status: 400,
			title: "Invalid queue identification", desc: noQueueText},
		{name: "queue name with a space", method: "GET", path: "/v2/queues/a%20b/stats", status: 400,
			title: "Invalid queue identification", desc: noQueueText},

		// Queue metadata patches that must not apply.
		{name: "patch replace missing key", method: "PATCH", path: "/v2/queues/intact",
			body:    `[{"op": "replace", "path": "/metadata/nope", "value": 1}]`,
			headers: []string{"Content-Type: application/openstack-messaging-v2.0-json-patch"}, status: 409,
			title: "Resource conflict", desc: "Can't replace non-existent object nope."},
		{name: "patch remove missing key", method: "PATCH", path: "/v2/queues/intact",
			body:    `[{"op": "add", "path": "/metadata/site", "value": "b9"}, {"op": "remove", "path": "/metadata/nope"}]`,
			headers: []string{"Content-Type: application/openstack-messaging-v2.0-json-patch"}, status: 409,
			title: "Resource conflict", desc: "Can't remove non-existent object nope."},
		{name: "patch op move", method: "PATCH", path: "/v2/queues/intact",
			body:    `[{"op": "move", "path": "/metadata/site", "value": 1}]`,
			headers: []string{"Content-Type: application/openstack-messaging-v2.0-json-patch"}, status: 400,
			title: invalidBody, desc: "Invalid operation: `move`. It must be one of the following: add, remove, replace."},
		{name: "patch deep path", method: "PATCH", path: "/v2/queues/intact",
			body:    `[{"op": "add", "path": "/metadata/a/b", "value": 1}]`,
			headers: []string{"Content-Type: application/openstack-messaging-v2.0-json-patch"}, status: 400,
			title: invalidBody, desc: "Invalid JSON pointer for this resource: '/metadata/a/b, e.g /metadata/key'"},
		{name: "patch bad reserved value", method: "PATCH", path: "/v2/queues/intact",
			body:    `[{"op": "add", "path": "/metadata/_default_message_ttl", "value": 30}]`,
			headers: []string{"Content-Type: application/openstack-messaging-v2.0-json-patch"}, status: 400,
			title: invalidBody,
			desc:  "_default_message_ttl can not exceed 1209600 seconds, and must be at least 60 seconds long."},

		// Subscriptions.
		{name: "subscription without subscriber", method: "POST", path: "/v2/queues/intact/subscriptions",
			body: `{"ttl": 3600}`, status: 400, title: invalidAPI, desc: "Missing parameter subscriber in body."},
		{name: "subscription ttl 10", method: "POST", path: "/v2/queues/intact/subscriptions",
			body: `{"subscriber": "http://127.0.0.1:9/x", "ttl": 10}`, status: 400, title: invalidAPI,
			desc: "The TTL for a subscription must be at least 60 seconds long."},

		// Routes and methods.
		{name: "unknown route", method: "GET", path: "/v2/nope", status: 404},
		{name: "v2 without slash", method: "GET", path: "/v2", status: 404},
		{name: "unknown queue subresource", method: "GET", path: "/v2/queues/intact/nope", status: 404},
		{name: "POST on a queue", method: "POST", path: "/v2/queues/intact", body: `{}`, status: 405},
		{name: "PUT on purge", method: "PUT", path: "/v2/queues/intact/purge", status: 405},
		{name: "DELETE on stats", method: "DELETE", path: "/v2/queues/intact/stats", status: 405},
		{name: "HEAD on a queue", method: "HEAD", path: "/v2/queues/intact", status: 405},
		{name: "hooks run before 405", method: "POST", path: "/v2/queues/intact", body: `{}`,
			headers: []string{"Client-ID: -"}, status: 400, title: "Missing header value",
			desc: `The "Client-ID" header is required.`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := c.do(tc.method, tc.path, tc.body, tc.headers...)
			checkRefusal(t, r, tc)
		})
	}

	// At the limit is accepted (to another queue, so the survivors' counts stay exact).
	t.Run("post exactly 262144 bytes", func(t *testing.T) {
		if len(atLimit) != 262144 {
			t.Fatalf("test body is %d bytes", len(atLimit))
		}
		c.do("POST", "/v2/queues/at-limit/messages", atLimit).expect(t, 201)
	})

	// A chunked body has no Content-Length: Zaqar refuses it as empty.
	t.Run("chunked body", func(t *testing.T) {
		req, err := http.NewRequest("POST", s.base+msgs, io.MultiReader(strings.NewReader(messagesBody(`{"body": 1}`))))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Client-ID", c.clientID)
		req.Header.Set("X-Project-ID", c.project)
		req.ContentLength = -1
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		r := reply{method: "POST (chunked)", path: msgs, status: resp.StatusCode, header: resp.Header, body: body}
		wantError(t, r, 400, invalidBody, "Request body can not be empty")
	})

	// Lenient spellings that must be accepted.
	for _, id := range []string{
		"3381af92-2b9e-11e3-b191-71861300734c", "3381af922b9e11e3b19171861300734c", "3381AF92-2B9E-11E3-B191-71861300734C",
		"{3381af92-2b9e-11e3-b191-71861300734c}", "urn:uuid:3381af92-2b9e-11e3-b191-71861300734c",
		"3381-af922b9e11e3b191-71861300734c",
	} {
		t.Run("Client-ID "+id, func(t *testing.T) {
			c.do("GET", msgs, nil, "Client-ID: "+id).expect(t, 200)
		})
	}
	for _, v := range []string{"true", "True", "t", "yes", "y", "1", "on", "false", "False", "f", "no", "n", "0", "off"} {
		t.Run("echo="+v, func(t *testing.T) {
			c.do("GET", msgs+"?echo="+v, nil).expect(t, 200)
		})
	}
	t.Run("queue name with a dot", func(t *testing.T) {
		c.do("PUT", "/v2/queues/a.b", nil).expect(t, 201)
	})

	// Nothing stored before was harmed.
	t.Run("survivors intact", func(t *testing.T) {
		r := c.do("GET", msgs+"?ids="+strings.Join(seedIDs, ","), nil).expect(t, 200)
		var out struct {
			Messages []message `json:"messages"`
		}
		r.decode(t, &out)
		got := map[string]message{}
		for _, m := range out.Messages {
			got[m.ID] = m
		}
		for i, id := range seedIDs {
			m, ok := got[id]
			if !ok {
				t.Errorf("seed message %s is gone", id)
				continue
			}
			if !jsonEqual(t, m.Body, []byte(seedBodies[i])) || m.TTL != 3600 {
				t.Errorf("seed message %s is now %s (ttl %d)", id, m.Body, m.TTL)
			}
		}
		if total, claimed, _ := c.stats("intact"); total != len(seedIDs) || claimed != 0 {
			t.Errorf("intact queue: total %d claimed %d, want %d and 0", total, claimed, len(seedIDs))
		}
		metaAfter := c.do("GET", "/v2/queues/intact", nil).expect(t, 200).body
		if !jsonEqual(t, metaAfter, metaBefore) {
			t.Errorf("queue metadata changed: %s, was %s", metaAfter, metaBefore)
		}
		if got := newClient(t, s, "hostile").list("intact", "limit=20"); len(got) != len(seedIDs) {
			t.Errorf("listing shows %d messages, want %d", len(got), len(seedIDs))
		}
		// Refused creations left no queues behind.
		r = c.do("GET", "/v2/queues?limit=20", nil).expect(t, 200)
		var ql struct {
			Queues []struct {
				Name string `json:"name"`
			} `json:"queues"`
		}
		r.decode(t, &ql)
		var names []string
		for _, q := range ql.Queues {
			names = append(names, q.Name)
		}
		if want := []string{"a.b", "at-limit", "intact"}; !reflect.DeepEqual(names, want) {
			t.Errorf("queues %v, want %v", names, want)
		}
	})
}

// checkRefusal checks one refused request against its case.
func checkRefusal(t *testing.T, r reply, tc badCase) {
	t.Helper()
	switch {
	case tc.status == 406:
		if r.status != 406 || len(r.body) != 0 {
			t.Errorf("%s: want 406 with an empty body", r)
		}
	case tc.status == 404 && tc.title == "":
		wantError(t, r, 404, "404 Not Found", "")
	case tc.status == 405:
		if tc.method == "HEAD" {
			if r.status != 405 {
				t.Errorf("%s: want 405", r)
			}
		} else {
			wantError(t, r, 405, "405 Method Not Allowed", "")
		}
		if r.status == 405 && r.header.Get("Allow") == "" {
			t.Errorf("%s: a 405 without an Allow header", r)
		}
	case tc.desc == anyDescription:
		var got map[string]any
		if r.status != tc.status || json.Unmarshal(r.body, &got) != nil {
			t.Errorf("%s: want %d with a JSON error body", r, tc.status)
		} else if desc, _ := got["description"].(string); got["title"] != tc.title || desc == "" || len(got) != 2 {
			t.Errorf("%s: want title %q and a description", r, tc.title)
		}
	default:
		wantError(t, r, tc.status, tc.title, tc.desc)
	}
}

// TestHugeDeclaredBody declares a 64 MiB message POST and sends only the first megabyte: the server must answer
// from the Content-Length alone, without waiting for (or buffering) the rest, and must stay up.
func TestHugeDeclaredBody(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{})
	c := newClient(t, s, "hostile")
	kept := c.post("intact", map[string]any{"body": "keep me", "ttl": 3600})
	rssBefore, _ := s.rssKiB()

	for round := range 3 { // a few times: nothing may accumulate
		conn, err := net.Dial("tcp", s.addr)
		if err != nil {
			t.Fatal(err)
		}
		const declared = 64 << 20
		head := "POST /v2/queues/intact/messages HTTP/1.1\r\nHost: " + s.addr + "\r\n" +
			"Client-ID: " + c.clientID + "\r\nX-Project-ID: hostile\r\nContent-Type: application/json\r\n" +
			"Content-Length: " + strconv.Itoa(declared) + "\r\n\r\n"
		if _, err := conn.Write([]byte(head)); err != nil {
			t.Fatal(err)
		}
		chunk := []byte(`{"messages": [{"ttl": 60, "body": "` + strings.Repeat("z", 1<<20))
		_, _ = conn.Write(chunk) // the server may already have answered and closed

		// The bound is liveness, not speed: a server that waits for the remaining 63 MiB never answers.
		_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			conn.Close()
			t.Fatalf("round %d: no answer to a 64 MiB declared body after 1 MiB sent: %v", round, err)
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		resp.Body.Close()
		conn.Close()
		r := reply{method: "POST (64 MiB declared)", path: "/v2/queues/intact/messages", status: resp.StatusCode,
			header: resp.Header, body: body}
		wantError(t, r, 400, "Invalid API request", "Message collection size is too large. Max size 262144")
	}

	// Still up, nothing lost, memory not grown by the declared sizes.
	c.do("GET", "/v2/ping", nil).expect(t, 204)
	if got := newClient(t, s, "hostile").list("intact", ""); len(got) != 1 || got[0].ID != kept[0] {
		t.Errorf("after the huge bodies the queue lists %v, want %v", ids(got), kept)
	}
	if rssAfter, err := s.rssKiB(); err == nil {
		t.Logf("server RSS %d KiB before, %d KiB after three 64 MiB declared bodies", rssBefore, rssAfter)
		if rssAfter-rssBefore > 3*64*1024 {
			t.Errorf("server RSS grew by %d KiB: the declared bodies were buffered", rssAfter-rssBefore)
		}
	}
}

// TestSystemRoutes covers the versions document, ping, the home document and health.
func TestSystemRoutes(t *testing.T) {
	t.Parallel()
	admin := startServer(t, serverOptions{adminMode: true})
	plain := startServer(t, serverOptions{})
	ca := newClient(t, admin, "ops")
	cp := newClient(t, plain, "ops")

	r := cp.do("GET", "/", nil, "Client-ID: -", "X-Project-ID: -")
	if r.status != 300 {
		t.Errorf("%s: want 300 with the versions document", r)
	} else {
		var v struct {
			Versions []struct {
				ID     string `json:"id"`
				Status string `json:"status"`
			} `json:"versions"`
		}
		r.decode(t, &v)
		if len(v.Versions) != 3 || v.Versions[2].ID != "2" || v.Versions[2].Status != "CURRENT" {
			t.Errorf("versions document %s", r.body)
		}
	}

	for _, method := range []string{"GET", "HEAD"} {
		r := cp.do(method, "/v2/ping", nil)
		if r.status != 204 || len(r.body) != 0 {
			t.Errorf("%s: want 204 with no body", r)
		}
	}
	wantError(t, cp.do("GET", "/v2/ping", nil, "Client-ID: -"), 400, "Missing header value",
		`The "Client-ID" header is required.`)

	r = cp.do("GET", "/v2/", nil).expect(t, 200)
	if ct := r.header.Get("Content-Type"); ct != "application/json-home" {
		t.Errorf("home document Content-Type %q", ct)
	}
	var home struct {
		Resources map[string]any `json:"resources"`
	}
	r.decode(t, &home)
	for _, rel := range []string{"rel/queues", "rel/messages", "rel/post_claim", "rel/ping"} {
		if _, ok := home.Resources[rel]; !ok {
			t.Errorf("home document lacks %s", rel)
		}
	}
	if _, ok := home.Resources["rel/health"]; ok {
		t.Error("home document lists rel/health without admin_mode")
	}

	wantError(t, cp.do("GET", "/v2/health", nil, "X-Roles: admin"), 404, "404 Not Found", "")
	wantError(t, ca.do("GET", "/v2/health", nil), 403, "Not authorized", "You are not authorized to complete this action.")
	r = ca.do("GET", "/v2/health", nil, "X-Roles: member,admin").expect(t, 200)
	var health struct {
		StorageReachable bool                      `json:"storage_reachable"`
		Operations       map[string]map[string]any `json:"operation_status"`
	}
	r.decode(t, &health)
	if !health.StorageReachable {
		t.Errorf("health: storage not reachable: %s", r.body)
	}
	for _, op := range []string{"create_queue", "post_messages", "claim_messages", "list_messages", "delete_messages",
		"delete_claim", "bulk_delete_messages", "delete_queue"} {
		if health.Operations[op]["succeeded"] != true {
			t.Errorf("health operation %s: %v", op, health.Operations[op])
		}
	}
	// The self-test leaves nothing behind in the caller's project.
	r = ca.do("GET", "/v2/queues", nil).expect(t, 200)
	var ql struct {
		Queues []any `json:"queues"`
	}
	r.decode(t, &ql)
	if len(ql.Queues) != 0 {
		t.Errorf("queues after the health self-test: %s", r.body)
	}
}
