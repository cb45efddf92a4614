package httpapi

import (
	"strings"
	"sync/atomic"
	"testing"

	"github.com/valyala/fasthttp"
)

const (
	bodyMissingClient  = `{"title": "Missing header value", "description": "The \"Client-ID\" header is required."}`
	bodyWrongUUID      = `{"title": "Wrong UUID value", "description": "Malformed hexadecimal UUID."}`
	bodyMissingProject = `{"title": "Project-Id Missing", "description": "The header X-PROJECT-ID was missing"}`
	bodyEmptyProject   = `{"title": "Empty project header not allowed", "description": "X-PROJECT-ID cannot be an empty string. Specify the right header X-PROJECT-ID and retry."}`
	bodyQueueIdent     = `{"title": "Invalid queue identification", "description": "The format of the submitted queue name or project id is not valid."}`
	bodyFormEncoded    = `{"title": "Invalid Content-Type", "description": "Endpoint does not accept ` +
		"`application/x-www-form-urlencoded` content; currently supported media type is `application/json`; " +
		`specify proper client-side media type with the \"Content-Type\" header."}`
	body404 = `{"title": "404 Not Found"}`
	body405 = `{"title": "405 Method Not Allowed"}`
)

// TestPipelineOrder drives each hook's failure and checks which one wins when several apply.
func TestPipelineOrder(t *testing.T) {
	h := newHarness(t)
	form := hd{"Content-Type": "application/x-www-form-urlencoded"}
	for _, c := range []struct {
		name         string
		method, path string
		body         string
		headers      hd
		status       int
		want         string
	}{
		{"unknown route before hooks", "GET", "/nope", "", hd{"Client-ID": "-", "X-Project-ID": "-"}, 404, body404},
		{"unknown route even with bad accept", "GET", "/v2/nope", "", hd{"Accept": "text/html"}, 404, body404},
		{"/v2 without slash", "GET", "/v2", "", nil, 404, body404},
		{"no trailing-slash alias", "GET", "/v2/queues/", "", nil, 404, body404},
		{"no trailing-slash alias on items", "GET", "/v2/queues/q/", "", nil, 404, body404},
		{"pools are not served", "GET", "/v2/pools", "", nil, 404, body404},
		{"health off without admin mode", "GET", "/v2/health", "", hd{"X-Roles": "admin"}, 404, body404},
		{"versions need no headers", "GET", "/", "", hd{"Client-ID": "-", "X-Project-ID": "-"}, 300, "*"},
		{"form ban first", "POST", "/v2/queues/q/messages", "a=b", hd{"Content-Type": "application/x-www-form-urlencoded", "Client-ID": "-", "Accept": "text/html"}, 400, bodyFormEncoded},
		{"form ban case-insensitive", "PUT", "/v2/queues/q", "a=b", hd{"Content-Type": "Application/X-WWW-Form-URLEncoded"}, 400, bodyFormEncoded},
		{"form ban compares the whole value", "PUT", "/v2/queues/q", "", hd{"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}, 201, ""},
		{"form ban on root too", "GET", "/", "x", form, 400, bodyFormEncoded},
		{"accept before client id", "GET", "/v2/queues", "", hd{"Accept": "text/html", "Client-ID": "-"}, 406, ""},
		{"accept on root", "GET", "/", "", hd{"Accept": "text/plain"}, 406, ""},
		{"missing client id", "GET", "/v2/queues", "", hd{"Client-ID": "-"}, 400, bodyMissingClient},
		{"client id on home", "GET", "/v2/", "", hd{"Client-ID": "-"}, 400, bodyMissingClient},
		{"client id on ping", "GET", "/v2/ping", "", hd{"Client-ID": "-"}, 400, bodyMissingClient},
		{"empty client id is a bad uuid", "GET", "/v2/queues", "", hd{"Client-ID": ""}, 400, bodyWrongUUID},
		{"bad client id", "GET", "/v2/queues", "", hd{"Client-ID": "not-a-uuid"}, 400, bodyWrongUUID},
		{"client id before project", "GET", "/v2/queues", "", hd{"Client-ID": "-", "X-Project-ID": "-"}, 400, bodyMissingClient},
		{"missing project", "GET", "/v2/queues", "", hd{"X-Project-ID": "-"}, 400, bodyMissingProject},
		{"empty project", "GET", "/v2/queues", "", hd{"X-Project-ID": ""}, 400, bodyEmptyProject},
		{"bad queue name", "GET", "/v2/queues/bad%21name", "", nil, 400, bodyQueueIdent},
		{"queue name too long", "GET", "/v2/queues/" + strings.Repeat("q", 65), "", nil, 400, bodyQueueIdent},
		{"queue name of 64", "GET", "/v2/queues/" + strings.Repeat("q", 64) + "/stats", "", nil, 200, "*"},
		{"dots are allowed", "GET", "/v2/queues/a.b/stats", "", nil, 200, "*"},
		{"project too long", "GET", "/v2/queues/q", "", hd{"X-Project-ID": strings.Repeat("p", 257)}, 400, bodyQueueIdent},
		{"long project fine off queue routes", "GET", "/v2/queues", "", hd{"X-Project-ID": strings.Repeat("p", 257)}, 200, "*"},
		{"hooks before 405", "POST", "/v2/queues/x", "", hd{"Client-ID": "-"}, 400, bodyMissingClient},
		{"queue identification before 405", "POST", "/v2/queues/bad%21", "", nil, 400, bodyQueueIdent},
		{"405 after hooks", "POST", "/v2/queues/x", "", nil, 405, body405},
		{"405 on purge PUT", "PUT", "/v2/queues/x/purge", "", nil, 405, body405},
		{"405 on root", "POST", "/", "", nil, 405, body405},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := h.do(c.method, c.path, c.body, c.headers)
			expect(t, r, c.status, c.want)
			if c.status == 406 && len(r.body) != 0 {
				t.Fatalf("406 must have an empty body, got %q", r.body)
			}
			if ct := r.hdr.Get("Content-Type"); c.want != "" && c.status != 300 && ct != "application/json" {
				t.Fatalf("Content-Type %q", ct)
			}
		})
	}
}

func TestClientIDSpellings(t *testing.T) {
	h := newHarness(t)
	for _, id := range []string{
		"3381af92-2b9e-11e3-b191-71861300734c",
		"3381af922b9e11e3b19171861300734c", // python-zaqarclient
		"3381AF922B9E11E3B19171861300734C",
		"{3381af92-2b9e-11e3-b191-71861300734c}",
		"urn:uuid:3381af92-2b9e-11e3-b191-71861300734c",
		"3381-af922b9e11e3b191-71861300734c",
	} {
		expect(t, h.do("GET", "/v2/ping", "", hd{"Client-ID": id}), 204, "")
	}
	for _, id := range []string{"3381af92", "3381af922b9e11e3b19171861300734c0", "zz81af922b9e11e3b19171861300734c", " "} {
		expect(t, h.do("GET", "/v2/ping", "", hd{"Client-ID": id}), 400, bodyWrongUUID)
	}
}

func TestClientIDOffMode(t *testing.T) {
	h := newHarness(t, harnessOpt{cfg: func(c *Config) { c.ClientIDMode = ClientIDOff }})
	expect(t, h.do("GET", "/v2/ping", "", hd{"Client-ID": "device-0001"}), 204, "")
	expect(t, h.do("GET", "/v2/ping", "", hd{"Client-ID": clientA}), 204, "")
	want := `{"title": "Length of client id must be at least 10 and no greater than 36."}`
	expect(t, h.do("GET", "/v2/ping", "", hd{"Client-ID": "short"}), 400, want)
	expect(t, h.do("GET", "/v2/ping", "", hd{"Client-ID": strings.Repeat("x", 37)}), 400, want)
	expect(t, h.do("GET", "/v2/ping", "", hd{"Client-ID": "-"}), 400, bodyMissingClient)

	// Echo still tells clients apart when their ids are not UUIDs.
	expect(t, h.do("POST", "/v2/queues/q/messages", `{"messages": [{"body": 1}]}`, hd{"Client-ID": "device-0001"}), 201, "*")
	if got := h.do("GET", "/v2/queues/q/messages", "", hd{"Client-ID": "device-0001"}).json(t)["messages"]; len(got.([]any)) != 0 {
		t.Fatalf("poster sees its own message without echo: %v", got)
	}
	if got := h.do("GET", "/v2/queues/q/messages", "", hd{"Client-ID": "device-0002"}).json(t)["messages"]; len(got.([]any)) != 1 {
		t.Fatalf("another client does not see the message: %v", got)
	}
}

func TestMethodNotAllowedAndOptions(t *testing.T) {
	h := newHarness(t)
	for _, c := range []struct {
		method, path, allow string
	}{
		{"HEAD", "/v2/queues/x", "DELETE, GET, PATCH, PUT, OPTIONS"},
		{"POST", "/v2/queues/x", "DELETE, GET, PATCH, PUT, OPTIONS"},
		{"PUT", "/v2/queues/x/purge", "POST, OPTIONS"},
		{"POST", "/v2/ping", "GET, HEAD, OPTIONS"},
		{"PUT", "/v2/queues/x/messages", "DELETE, GET, POST, OPTIONS"},
		{"POST", "/v2/queues/x/claims/c1", "DELETE, GET, PATCH, OPTIONS"},
		{"GET", "/v2/queues/x/subscriptions/s1/confirm", "PUT, OPTIONS"},
		{"DELETE", "/v2/queues", "GET, OPTIONS"},
		{"FOO", "/v2/queues", "GET, OPTIONS"},
	} {
		r := h.do(c.method, c.path, "")
		if c.method == "HEAD" {
			expect(t, r, 405, "")
		} else {
			expect(t, r, 405, body405)
		}
		if got := r.hdr.Get("Allow"); got != c.allow {
			t.Errorf("%s %s: Allow %q; want %q", c.method, c.path, got, c.allow)
		}
	}

	r := h.do("OPTIONS", "/v2/queues/x", "")
	expect(t, r, 200, "")
	if got := r.hdr.Get("Allow"); got != "DELETE, GET, PATCH, PUT" {
		t.Errorf("OPTIONS Allow %q", got)
	}
	r = h.do("OPTIONS", "/v2/queues/x", "", hd{"Client-ID": "-", "X-Project-ID": "-"})
	expect(t, r, 200, "")
	if got, ok := r.hdr["Allow"]; ok {
		t.Errorf("OPTIONS without the Zaqar headers has Allow %q", got)
	}
	// Zaqar's oslo.middleware CORS layer turns every non-2xx answer to an OPTIONS into a bare 200, the 404 of an
	// unknown path included.
	r = h.do("OPTIONS", "/nope", "")
	expect(t, r, 200, "")
	if _, ok := r.hdr["Allow"]; ok || r.hdr.Get("Content-Type") != "" {
		t.Errorf("OPTIONS of an unknown path: %v", r.hdr)
	}
	expect(t, h.do("GET", "/nope", ""), 404, body404)
}

func TestAuthenticatorRunsFirst(t *testing.T) {
	var calls atomic.Int32
	auth := AuthenticatorFunc(func(ctx *fasthttp.RequestCtx) error {
		calls.Add(1)
		if len(ctx.Request.Header.Peek("URL-Signature")) > 0 {
			return ErrRouteNotFound
		}
		return nil
	})
	h := newHarness(t, harnessOpt{opts: []Option{WithAuthenticator(auth)}})
	// A refused signature wins over every later hook.
	r := h.do("POST", "/v2/queues/q/messages", "a=b", hd{"URL-Signature": "bad", "Client-ID": "-",
		"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html"})
	expect(t, r, 404, body404)
	expect(t, h.do("GET", "/v2/queues/q/stats", ""), 200, "*")
	n := calls.Load()
	expect(t, h.do("GET", "/unknown", "", hd{"URL-Signature": "x"}), 404, body404)
	if calls.Load() != n {
		t.Fatal("the authenticator ran for an unknown route")
	}
	// Nothing was stored by the refused post.
	if got := h.do("GET", "/v2/queues/q/stats", "").json(t)["messages"].(map[string]any)["total"]; got != 0.0 {
		t.Fatalf("total %v", got)
	}
}

func TestPanicIsA500(t *testing.T) {
	h := newHarness(t, harnessOpt{opts: []Option{WithAuthenticator(AuthenticatorFunc(func(ctx *fasthttp.RequestCtx) error {
		if string(ctx.Path()) == "/v2/queues/boom" {
			panic("kaboom")
		}
		return nil
	}))}})
	expect(t, h.do("GET", "/v2/queues/boom", ""), 500, `{"title": "Internal server error"}`)
	expect(t, h.do("GET", "/v2/ping", ""), 204, "") // the server lives on
}

func TestRequestID(t *testing.T) {
	h := newHarness(t)
	r := h.do("GET", "/v2/ping", "", hd{"X-Openstack-Request-ID": "req-abc-123"})
	if got := r.hdr.Get("X-Openstack-Request-Id"); got != "req-abc-123" {
		t.Fatalf("request id not echoed: %q", got)
	}
	a := h.do("GET", "/v2/ping", "").hdr.Get("X-Openstack-Request-Id")
	b := h.do("GET", "/nope", "").hdr.Get("X-Openstack-Request-Id")
	if !strings.HasPrefix(a, "req-") || len(a) != 40 || a == b {
		t.Fatalf("generated request ids %q %q", a, b)
	}
}

// TestClientIDOffModeCountsBytes: Zaqar reads headers as WSGI native strings (each byte one ISO-8859-1
// character), so the off-mode length rule counts bytes, not UTF-8 characters.
func TestClientIDOffModeCountsBytes(t *testing.T) {
	h := newHarness(t, harnessOpt{cfg: func(c *Config) { c.ClientIDMode = ClientIDOff }})
	want := `{"title": "Length of client id must be at least 10 and no greater than 36."}`
	for _, c := range []struct {
		id     string
		status int
	}{
		{strings.Repeat("é", 5), 204},  // 5 characters, 10 bytes
		{strings.Repeat("é", 18), 204}, // 36 bytes
		{strings.Repeat("é", 4), 400},  // 8 bytes
		{strings.Repeat("é", 19), 400}, // 19 characters, 38 bytes
	} {
		body := ""
		if c.status == 400 {
			body = want
		}
		expect(t, h.do("GET", "/v2/ping", "", hd{"Client-ID": c.id}), c.status, body)
	}
}
