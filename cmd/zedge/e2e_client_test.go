package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// client is a small raw Zaqar v2 HTTP client for the tests: every call returns the status, headers and body, so
// the tests can check the wire exactly.
type client struct {
	t        testing.TB
	base     string
	clientID string
	project  string
	hc       *http.Client
}

func newClient(t testing.TB, s *server, project string) *client {
	return &client{t: t, base: s.base, clientID: uuid.NewString(), project: project, hc: &http.Client{}}
}

// reply is one HTTP response.
type reply struct {
	method, path string
	status       int
	header       http.Header
	body         []byte
}

func (r reply) String() string {
	return fmt.Sprintf("%s %s -> %d %s", r.method, r.path, r.status, r.body)
}

// header overrides: "Name: value"; a value of "-" removes the header.
func (c *client) do(method, path string, body any, headers ...string) reply {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Client-ID", c.clientID)
	req.Header.Set("X-Project-ID", c.project)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, h := range headers {
		name, value, ok := strings.Cut(h, ":")
		if !ok {
			c.t.Fatalf("bad header override %q", h)
		}
		value = strings.TrimSpace(value)
		if value == "-" {
			req.Header.Del(name)
		} else {
			req.Header[http.CanonicalHeaderKey(name)] = []string{value}
		}
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return reply{method: method, path: path, status: resp.StatusCode, header: resp.Header, body: raw}
}

// expect fails the test unless the reply has the given status.
func (r reply) expect(t testing.TB, status int) reply {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: want status %d", r, status)
	}
	return r
}

// decode unmarshals the body into v.
func (r reply) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("%s: body is not the expected JSON: %v", r, err)
	}
}

// wantError checks a Zaqar error reply: the status, a JSON content type, and a body that is exactly
// {"title": title, "description": description} (no description key when description is "").
func wantError(t testing.TB, r reply, status int, title, description string) {
	t.Helper()
	if r.status != status {
		t.Errorf("%s: want status %d", r, status)
		return
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s: Content-Type %q, want application/json", r, ct)
	}
	var got map[string]any
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Errorf("%s: error body is not JSON: %v", r, err)
		return
	}
	want := map[string]any{"title": title}
	if description != "" {
		want["description"] = description
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got error body %v\nwant           %v", r, got, want)
	}
}

// message is a message item as listed, fetched or claimed.
type message struct {
	ID   string          `json:"id"`
	Href string          `json:"href"`
	TTL  int             `json:"ttl"`
	Age  int             `json:"age"`
	Body json.RawMessage `json:"body"`
}

// claimIDFromHref returns the claim_id query value of a message href ("" if none).
func claimIDFromHref(href string) string {
	_, query, ok := strings.Cut(href, "?")
	if !ok {
		return ""
	}
	v, _ := url.ParseQuery(query)
	return v.Get("claim_id")
}

// idFromPath returns the last path segment (without any query).
func idFromPath(p string) string {
	p, _, _ = strings.Cut(p, "?")
	return p[strings.LastIndex(p, "/")+1:]
}

// post posts messages (each a {"body":..., "ttl":...} object) and returns their ids, checking the 201 reply.
func (c *client) post(queue string, msgs ...map[string]any) []string {
	c.t.Helper()
	r := c.do("POST", "/v2/queues/"+queue+"/messages", map[string]any{"messages": msgs}).expect(c.t, 201)
	var out struct {
		Resources []string `json:"resources"`
	}
	r.decode(c.t, &out)
	if len(out.Resources) != len(msgs) {
		c.t.Fatalf("%s: %d resources for %d messages", r, len(out.Resources), len(msgs))
	}
	ids := make([]string, len(out.Resources))
	for i, href := range out.Resources {
		prefix := "/v2/queues/" + queue + "/messages/"
		if !strings.HasPrefix(href, prefix) {
			c.t.Fatalf("%s: resource %q does not start with %q", r, href, prefix)
		}
		ids[i] = idFromPath(href)
	}
	if loc, want := r.header.Get("Location"), "/v2/queues/"+queue+"/messages?ids="+strings.Join(ids, ","); loc != want {
		c.t.Errorf("POST messages Location = %q, want %q", loc, want)
	}
	return ids
}

// list lists one page of messages with the given raw query (e.g. "echo=true&limit=20").
func (c *client) list(queue, query string) []message {
	c.t.Helper()
	r := c.do("GET", "/v2/queues/"+queue+"/messages?"+query, nil).expect(c.t, 200)
	var out struct {
		Messages []message `json:"messages"`
	}
	r.decode(c.t, &out)
	return out.Messages
}

// listAll pages through a queue's messages with the next links until an empty page.
func (c *client) listAll(queue, query string) []message {
	c.t.Helper()
	var all []message
	path := "/v2/queues/" + queue + "/messages?" + query
	for range 10000 {
		r := c.do("GET", path, nil).expect(c.t, 200)
		var out struct {
			Messages []message `json:"messages"`
			Links    []struct {
				Rel  string `json:"rel"`
				Href string `json:"href"`
			} `json:"links"`
		}
		r.decode(c.t, &out)
		if len(out.Messages) == 0 {
			return all
		}
		all = append(all, out.Messages...)
		next := ""
		for _, l := range out.Links {
			if l.Rel == "next" {
				next = l.Href
			}
		}
		if next == "" {
			c.t.Fatalf("%s: a non-empty page without a next link", r)
		}
		path = next
	}
	c.t.Fatal("listing did not end")
	return nil
}

// get fetches one message by id; it returns the reply so callers can check 404s.
func (c *client) get(queue, id string) (message, reply) {
	c.t.Helper()
	r := c.do("GET", "/v2/queues/"+queue+"/messages/"+id, nil)
	var m message
	if r.status == 200 {
		r.decode(c.t, &m)
	}
	return m, r
}

// claim claims messages; status is 201 (claimID and msgs set) or 204.
func (c *client) claim(queue string, ttl, grace, limit int) (claimID string, msgs []message, status int) {
	c.t.Helper()
	path := "/v2/queues/" + queue + "/claims"
	if limit > 0 {
		path += "?limit=" + strconv.Itoa(limit)
	}
	r := c.do("POST", path, map[string]any{"ttl": ttl, "grace": grace})
	switch r.status {
	case 204:
		if len(r.body) != 0 {
			c.t.Errorf("%s: a 204 claim with a body", r)
		}
		return "", nil, 204
	case 201:
	default:
		c.t.Fatalf("%s: want 201 or 204", r)
	}
	var out struct {
		Messages []message `json:"messages"`
	}
	r.decode(c.t, &out)
	if len(out.Messages) == 0 {
		c.t.Fatalf("%s: a 201 claim without messages", r)
	}
	loc := r.header.Get("Location")
	claimID = idFromPath(loc)
	if !strings.HasPrefix(loc, "/v2/queues/"+queue+"/claims/") || claimID == "" {
		c.t.Fatalf("%s: claim Location %q", r, loc)
	}
	for _, m := range out.Messages {
		if got := claimIDFromHref(m.Href); got != claimID {
			c.t.Errorf("claimed message href %q carries claim_id %q, want %q", m.Href, got, claimID)
		}
	}
	return claimID, out.Messages, 201
}

// deleteMessage deletes one message, with a claim id if given, and returns the status.
func (c *client) deleteMessage(queue, id, claimID string) reply {
	c.t.Helper()
	path := "/v2/queues/" + queue + "/messages/" + id
	if claimID != "" {
		path += "?claim_id=" + claimID
	}
	return c.do("DELETE", path, nil)
}

// stats returns the queue's message counters.
func (c *client) stats(queue string) (total, claimed, free int) {
	c.t.Helper()
	r := c.do("GET", "/v2/queues/"+queue+"/stats", nil).expect(c.t, 200)
	var out struct {
		Messages struct {
			Claimed int `json:"claimed"`
			Free    int `json:"free"`
			Total   int `json:"total"`
		} `json:"messages"`
	}
	r.decode(c.t, &out)
	return out.Messages.Total, out.Messages.Claimed, out.Messages.Free
}

// ids returns the ids of msgs in order.
func ids(msgs []message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.ID
	}
	return out
}

// jsonEqual compares two JSON texts by value (whitespace and key order do not matter).
func jsonEqual(t testing.TB, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("not JSON: %q: %v", a, err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("not JSON: %q: %v", b, err)
	}
	return reflect.DeepEqual(va, vb)
}

// rawJSON marks a string as literal JSON inside a marshalled value.
func rawJSON(s string) json.RawMessage { return json.RawMessage(s) }
