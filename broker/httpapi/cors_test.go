package httpapi

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
	"gopkg.in/yaml.v3"

	"github.com/zedge-io/zedge/signing"
)

const (
	appOrigin   = "https://app.example.com"
	otherOrigin = "https://evil.example.net"
)

func corsOn(origins ...string) func(*Config) {
	return func(c *Config) { c.CORS.AllowedOrigins = origins }
}

func TestNormalizeOrigin(t *testing.T) {
	for _, c := range []struct {
		in, want string // want "" means refused
	}{
		{"https://app.example.com", "https://app.example.com"},
		{"HTTPS://App.Example.COM", "https://app.example.com"},
		{"https://app.example.com:443", "https://app.example.com"},
		{"http://app.example.com:80", "http://app.example.com"},
		{"http://app.example.com:443", "http://app.example.com:443"},
		{"https://app.example.com:8443", "https://app.example.com:8443"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"http://[::1]:8080", "http://[::1]:8080"},
		{"http://[::1]", "http://[::1]"},
		{"capacitor://localhost", "capacitor://localhost"},
		{"https://app.example.com/", ""},
		{"https://app.example.com/path", ""},
		{"https://app.example.com?x=1", ""},
		{"https://app.example.com?", ""},
		{"https://app.example.com#top", ""},
		{"https://user@app.example.com", ""},
		{"https://app.example.com:0", ""},
		{"https://app.example.com:70000", ""},
		{"https://app.example.com:", ""},
		{"app.example.com", ""},
		{"//app.example.com", ""},
		{"null", ""},
		{"", ""},
		{"https://", ""},
		{"mailto:a@example.com", ""},
	} {
		got, err := normalizeOrigin(c.in)
		if c.want == "" {
			if err == nil {
				t.Errorf("%q: accepted as %q, want an error", c.in, got)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%q: got %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestCORSConfigValidate(t *testing.T) {
	if err := DefaultCORSConfig().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	if DefaultCORSConfig().Enabled() {
		t.Fatal("CORS is on by default")
	}
	for _, c := range []struct {
		name   string
		change func(*CORSConfig)
		want   string // "" means valid
	}{
		{"one origin", func(c *CORSConfig) { c.AllowedOrigins = []string{appOrigin} }, ""},
		{"any origin", func(c *CORSConfig) { c.AllowedOrigins = []string{"*"} }, ""},
		{"any origin with credentials", func(c *CORSConfig) {
			c.AllowedOrigins, c.AllowCredentials = []string{"*"}, true
		}, ""},
		{"star among others", func(c *CORSConfig) { c.AllowedOrigins = []string{appOrigin, "*"} }, `"*" must be the only`},
		{"origin with path", func(c *CORSConfig) { c.AllowedOrigins = []string{appOrigin + "/"} }, "no path"},
		{"lists are checked while CORS is off", func(c *CORSConfig) {
			c.AllowedHeaders = []string{"X Bad"}
		}, "allowed_headers"},
		{"empty header name", func(c *CORSConfig) { c.AllowedHeaders = []string{""} }, "allowed_headers"},
		{"bad expose header", func(c *CORSConfig) { c.ExposeHeaders = []string{"Location:"} }, "expose_headers"},
		{"method outside Zaqar's list", func(c *CORSConfig) { c.AllowedMethods = []string{"TRACE"} }, "allowed_methods"},
		{"method in lower case", func(c *CORSConfig) { c.AllowedMethods = []string{"get"} }, "allowed_methods"},
		{"fewer methods", func(c *CORSConfig) { c.AllowedMethods = []string{"GET", "POST"} }, ""},
		{"no methods", func(c *CORSConfig) { c.AllowedMethods = nil }, ""},
		{"negative max age", func(c *CORSConfig) { c.MaxAge = -time.Second }, "max_age"},
		{"max age too long", func(c *CORSConfig) { c.MaxAge = 25 * time.Hour }, "max_age"},
		{"max age at the bound", func(c *CORSConfig) { c.MaxAge = 24 * time.Hour }, ""},
		{"no max age", func(c *CORSConfig) { c.MaxAge = 0 }, ""},
	} {
		cfg := DefaultCORSConfig()
		c.change(&cfg)
		err := cfg.Validate()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: got %v, want an error about %s", c.name, err, c.want)
		}
		// The server's Config reports the same problem, one per line and named after its key.
		full := DefaultConfig()
		full.CORS = cfg
		if ferr := full.Validate(); (ferr == nil) != (err == nil) ||
			ferr != nil && !strings.HasPrefix(ferr.Error(), "http.cors.") {
			t.Errorf("%s: Config.Validate gave %v", c.name, ferr)
		}
	}
}

func TestCORSConfigYAML(t *testing.T) {
	cfg := DefaultConfig()
	doc := "cors:\n  allowed_origins: [\"https://app.example.com\"]\n  allow_credentials: true\n  max_age: 1h\n"
	if err := yaml.Unmarshal([]byte(doc), &cfg); err != nil {
		t.Fatal(err)
	}
	c := cfg.CORS
	if !c.Enabled() || c.AllowedOrigins[0] != appOrigin || !c.AllowCredentials || c.MaxAge != time.Hour ||
		len(c.AllowedHeaders) != len(DefaultCORSConfig().AllowedHeaders) {
		t.Fatalf("decoded %+v", c)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
}

// The defaults let a browser send every header zedge's clients use, and read every header they read.
func TestCORSDefaultsCoverZedgeClients(t *testing.T) {
	p := newCORS(CORSConfig{AllowedOrigins: []string{appOrigin}, AllowedHeaders: DefaultCORSConfig().AllowedHeaders,
		AllowedMethods: DefaultCORSConfig().AllowedMethods})
	for _, h := range []string{"Authorization", "X-Project-ID", "Client-ID", "Content-Type", "Accept",
		"URL-Signature", "URL-Expires", "URL-Methods", "URL-Paths", "X-Roles", "X-Auth-Token"} {
		if !p.preflightAllowed([]byte("POST"), []byte(strings.ToLower(h))) {
			t.Errorf("request header %s is not allowed by default", h)
		}
	}
	expose := strings.Join(DefaultCORSConfig().ExposeHeaders, ",")
	for _, h := range []string{"Location", hdrRequestID, "WWW-Authenticate"} {
		if !strings.Contains(strings.ToLower(expose), strings.ToLower(h)) {
			t.Errorf("response header %s is not exposed by default", h)
		}
	}
}

func TestCORSOriginAllowed(t *testing.T) {
	listed := newCORS(CORSConfig{AllowedOrigins: []string{"HTTPS://App.Example.com:443", "http://127.0.0.1:8080"}})
	anyOrigin := newCORS(CORSConfig{AllowedOrigins: []string{"*"}})
	for _, c := range []struct {
		origin         string
		listed, anyOne bool
	}{
		{"https://app.example.com", true, true},
		{"http://127.0.0.1:8080", true, true},
		{"http://app.example.com", false, true},       // another scheme is another origin
		{"https://app.example.com:8443", false, true}, // another port too
		{"http://127.0.0.1:8081", false, true},
		{"https://app.example.com.evil.net", false, true},
		{"https://evil.net/https://app.example.com", false, true},
		{"null", false, true},
		{"", false, false}, // no Origin: not a cross-origin request
	} {
		if got := listed.originAllowed([]byte(c.origin)); got != c.listed {
			t.Errorf("listed origins, %q: %v", c.origin, got)
		}
		if got := anyOrigin.originAllowed([]byte(c.origin)); got != c.anyOne {
			t.Errorf("any origin, %q: %v", c.origin, got)
		}
	}
	if newCORS(DefaultCORSConfig()) != nil {
		t.Error("newCORS prepared a policy while CORS is off")
	}
}

func TestCORSPreflightAllowed(t *testing.T) {
	p := newCORS(CORSConfig{AllowedOrigins: []string{appOrigin}, AllowedMethods: []string{"GET", "POST", "DELETE"},
		AllowedHeaders: []string{"Client-ID", "X-Project-ID", "Authorization"}})
	for _, c := range []struct {
		method, headers string
		want            bool
	}{
		{"POST", "", true},
		{"POST", "client-id", true},
		{"POST", "authorization,client-id,x-project-id", true},
		{"POST", "Authorization, CLIENT-ID ,\tx-project-id", true}, // case and white space do not matter
		{"POST", "client-id,,x-project-id,", true},                 // nor empty entries
		{"DELETE", "client-id", true},
		{"PUT", "client-id", false},    // method not configured
		{"delete", "client-id", false}, // methods are case-sensitive, as the router's are
		{"TRACE", "", false},
		{"POST", "client-id,x-secret", false}, // one header not allowed refuses it all
		{"POST", "client-i", false},
		{"POST", "client-idx", false},
		{"GET", "x-project-id,authorizatio", false},
	} {
		if got := p.preflightAllowed([]byte(c.method), []byte(c.headers)); got != c.want {
			t.Errorf("%s %q: %v, want %v", c.method, c.headers, got, c.want)
		}
	}
}

// FuzzCORSPreflightHeaders checks the allocation-free parse of Access-Control-Request-Headers against the
// obvious one: split on commas, trim blanks, skip empty names, compare case-insensitively.
func FuzzCORSPreflightHeaders(f *testing.F) {
	allowed := []string{"Client-ID", "X-Project-ID", "Authorization", "URL-Signature"}
	p := newCORS(CORSConfig{AllowedOrigins: []string{appOrigin}, AllowedMethods: []string{"POST"}, AllowedHeaders: allowed})
	for _, seed := range []string{"", "client-id", "authorization, client-id,x-project-id", " ,\t,", "client-id,x",
		"CLIENT-ID", "url-signaturE", "client-id\x00", "\xff"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, list string) {
		want := true
		for _, name := range strings.Split(list, ",") {
			name = strings.Trim(name, " \t")
			if name == "" {
				continue
			}
			ok := false
			for _, a := range allowed {
				ok = ok || asciiEqualFold(a, name)
			}
			want = want && ok
		}
		if got := p.preflightAllowed([]byte("POST"), []byte(list)); got != want {
			t.Errorf("%q: %v, want %v", list, got, want)
		}
	})
}

// asciiEqualFold is strings.EqualFold without Unicode folding (HTTP header names are ASCII; "K" must not
// match the Kelvin sign).
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range len(a) {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// corsHeaders are the CORS response headers, for comparing whole sets.
var corsHeaders = []string{hdrAllowOrigin, hdrAllowMethods, hdrAllowHeaders, hdrAllowCredentials, hdrExposeHeaders,
	hdrMaxAge}

func noCORSHeaders(t *testing.T, what string, r resp) {
	t.Helper()
	for _, h := range corsHeaders {
		if v, ok := r.hdr[h]; ok {
			t.Errorf("%s: unexpected %s: %q", what, h, v)
		}
	}
}

// preflightHeaders are what a browser sends with its preflight (no credentials, no Zaqar headers).
func preflightHeaders(origin, method, headers string) hd {
	return hd{"Origin": origin, hdrRequestMethod: method, hdrRequestHeaders: headers, "Client-ID": "-", "X-Project-ID": "-"}
}

// Off (the default), Origin and preflights change nothing: OPTIONS is Falcon's, no CORS header anywhere.
func TestCORSOffChangesNothing(t *testing.T) {
	h := newHarness(t)
	r := h.do("OPTIONS", "/v2/queues/q1", "", hd{"Origin": appOrigin, hdrRequestMethod: "PUT"})
	expect(t, r, 200, "")
	if got := r.hdr.Get("Allow"); got != "DELETE, GET, PATCH, PUT" {
		t.Errorf("OPTIONS Allow = %q", got)
	}
	noCORSHeaders(t, "OPTIONS", r)
	r = h.do("OPTIONS", "/v2/queues/q1", "", preflightHeaders(appOrigin, "PUT", "client-id"))
	expect(t, r, 200, "")
	if _, ok := r.hdr["Allow"]; ok {
		t.Error("OPTIONS without the Zaqar headers has Allow; Falcon's hook failure leaves it out")
	}
	noCORSHeaders(t, "preflight", r)
	r = h.do("PUT", "/v2/queues/q1", "", hd{"Origin": appOrigin})
	expect(t, r, 201, "")
	noCORSHeaders(t, "PUT", r)
	if v := r.hdr.Values(hdrVary); len(v) != 0 {
		t.Errorf("Vary = %q while CORS is off", v)
	}
}

// A preflight is answered before authentication: in jwt mode, without a token, it gets 200 and the CORS
// headers, not 401; the actual request then needs its token as always.
func TestCORSPreflightBeforeAuth(t *testing.T) {
	e := newCORSJWTEnv(t, func(c *Config) {
		c.CORS.AllowedOrigins = []string{appOrigin}
		c.CORS.MaxAge = 90 * time.Second
	})
	r := e.do("OPTIONS", "/v2/queues/q1/messages", "",
		preflightHeaders(appOrigin, "POST", "authorization,client-id,content-type,x-project-id"))
	expect(t, r, 200, "")
	want := map[string]string{
		hdrAllowOrigin:  appOrigin,
		hdrAllowMethods: "GET, PUT, POST, DELETE, PATCH, HEAD",
		hdrAllowHeaders: "authorization,client-id,content-type,x-project-id",
		hdrMaxAge:       "90",
		hdrVary:         "Origin",
	}
	for k, v := range want {
		if got := r.hdr.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	for _, k := range []string{hdrAllowCredentials, "WWW-Authenticate", "Content-Type"} {
		if v, ok := r.hdr[k]; ok {
			t.Errorf("preflight answer has %s: %q", k, v)
		}
	}
	// Preflights of unknown routes are answered too: the layer sits before routing, as in Zaqar.
	r = e.do("OPTIONS", "/nowhere", "", preflightHeaders(appOrigin, "GET", ""))
	expect(t, r, 200, "")
	if r.hdr.Get(hdrAllowOrigin) != appOrigin {
		t.Errorf("preflight of an unknown path: %v", r.hdr)
	}

	// The actual request without a token: 401, readable by the page.
	r = e.do("POST", "/v2/queues/q1/messages", `{"messages": [{"body": 1}]}`, hd{"Origin": appOrigin})
	expect(t, r, 401, "*")
	expectCORS(t, "401", r, appOrigin)
	if r.hdr.Get("WWW-Authenticate") == "" {
		t.Error("401 lost its WWW-Authenticate")
	}
	// With the token: 201, readable, Location exposed.
	r = e.do("POST", "/v2/queues/q1/messages", `{"messages": [{"body": 1}]}`,
		hd{"Origin": appOrigin, "Authorization": "Bearer " + e.token(t, "browser", project, signing.RoleMember)})
	expect(t, r, 201, "*")
	expectCORS(t, "201", r, appOrigin)
	if !strings.Contains(r.hdr.Get(hdrExposeHeaders), "Location") || r.hdr.Get("Location") == "" {
		t.Errorf("Location not exposed: %v", r.hdr)
	}
}

// Refused preflights get no CORS header, and the request goes on to Falcon's OPTIONS answer as without CORS.
func TestCORSPreflightRefused(t *testing.T) {
	h := newHarness(t, harnessOpt{cfg: func(c *Config) {
		c.CORS.AllowedOrigins = []string{appOrigin}
		c.CORS.AllowedMethods = []string{"GET", "POST", "PUT"}
	}})
	for _, c := range []struct {
		name string
		req  hd
	}{
		{"origin not allowed", preflightHeaders(otherOrigin, "PUT", "client-id")},
		{"same host, other scheme", preflightHeaders("http://app.example.com", "PUT", "client-id")},
		{"method not allowed", preflightHeaders(appOrigin, "DELETE", "client-id")},
		{"method outside the list", preflightHeaders(appOrigin, "TRACE", "")},
		{"header not allowed", preflightHeaders(appOrigin, "PUT", "client-id,x-secret")},
	} {
		r := h.do("OPTIONS", "/v2/queues/q1", "", c.req)
		expect(t, r, 200, "")
		noCORSHeaders(t, c.name, r)
		if r.hdr.Get(hdrVary) != "Origin" {
			t.Errorf("%s: Vary = %q", c.name, r.hdr.Values(hdrVary))
		}
		// With the Zaqar headers the answer is Falcon's, Allow included, exactly as with CORS off.
		req := c.req
		req["Client-ID"], req["X-Project-ID"] = clientA, project
		r = h.do("OPTIONS", "/v2/queues/q1", "", req)
		expect(t, r, 200, "")
		noCORSHeaders(t, c.name+", Zaqar headers", r)
		if r.hdr.Get("Allow") != "DELETE, GET, PATCH, PUT" {
			t.Errorf("%s: Allow = %q", c.name, r.hdr.Get("Allow"))
		}
	}
	// A granted one, on the same server, for contrast.
	r := h.do("OPTIONS", "/v2/queues/q1", "", preflightHeaders(appOrigin, "PUT", "Client-ID"))
	expect(t, r, 200, "")
	if r.hdr.Get(hdrAllowOrigin) != appOrigin || r.hdr.Get(hdrAllowMethods) != "GET, POST, PUT" ||
		r.hdr.Get(hdrAllowHeaders) != "Client-ID" {
		t.Errorf("granted preflight: %v", r.hdr)
	}
}

func expectCORS(t *testing.T, what string, r resp, origin string) {
	t.Helper()
	if got := r.hdr.Get(hdrAllowOrigin); got != origin {
		t.Errorf("%s: %s = %q, want %q", what, hdrAllowOrigin, got, origin)
	}
	if got := r.hdr.Get(hdrExposeHeaders); got != strings.Join(DefaultCORSConfig().ExposeHeaders, ", ") {
		t.Errorf("%s: %s = %q", what, hdrExposeHeaders, got)
	}
	if got := r.hdr.Values(hdrVary); len(got) != 1 || got[0] != "Origin" {
		t.Errorf("%s: Vary = %q", what, got)
	}
	for _, k := range []string{hdrAllowMethods, hdrAllowHeaders, hdrMaxAge} {
		if v, ok := r.hdr[k]; ok {
			t.Errorf("%s: actual response has the preflight header %s: %q", what, k, v)
		}
	}
}

// Every response to an allowed origin carries the CORS headers, errors included, so that the page can read the
// error body; a disallowed origin gets the same response without them.
func TestCORSActualRequests(t *testing.T) {
	h := newHarness(t, harnessOpt{cfg: corsOn(appOrigin)})
	for _, c := range []struct {
		method, path, body string
		headers            hd
		status             int
	}{
		{"PUT", "/v2/queues/q1", "", nil, 201},
		{"PUT", "/v2/queues/q1", "", nil, 204},
		{"POST", "/v2/queues/q1/messages", `{"messages": [{"body": {"t": 21.5}}]}`, nil, 201},
		{"GET", "/v2/queues/q1/messages?echo=true", "", nil, 200},
		{"HEAD", "/v2/ping", "", nil, 204},
		{"GET", "/v2/queues", "", hd{"Client-ID": "-"}, 400},
		{"GET", "/v2/queues", "", hd{"Client-ID": "not-a-uuid"}, 400},
		{"POST", "/v2/queues/q1/messages", `{"messages": [`, nil, 400},
		{"GET", "/v2/queues/q1/claims/5f1b4fbd9b2e4d1a8c3e0a11", "", nil, 404},
		{"GET", "/v2/nowhere", "", nil, 404},
		{"POST", "/v2/queues/q1", "", nil, 405},
		{"GET", "/v2/queues", "", hd{"Accept": "text/html"}, 406},
		{"GET", "/v2/health", "", nil, 404},
		{"OPTIONS", "/v2/queues/q1", "", nil, 200}, // OPTIONS without Access-Control-Request-Method: not a preflight
	} {
		name := fmt.Sprintf("%s %s %d", c.method, c.path, c.status)
		for _, origin := range []string{appOrigin, otherOrigin, ""} {
			req := merge(c.headers, hd{"Origin": origin})
			if origin == "" {
				req["Origin"] = "-"
			}
			r := h.do(c.method, c.path, c.body, req)
			expect(t, r, c.status, "*")
			if origin == appOrigin {
				expectCORS(t, name, r, appOrigin)
				if c.method == "PUT" && c.status == 201 {
					c.status = 204 // the queue exists from now on
				}
				continue
			}
			noCORSHeaders(t, name+" from "+origin, r)
			if r.hdr.Get(hdrVary) != "Origin" {
				t.Errorf("%s from %q: Vary = %q", name, origin, r.hdr.Values(hdrVary))
			}
		}
	}
}

// An oversized body is refused before it is read and the connection closed; the answer still carries CORS.
func TestCORSOnRefusedBody(t *testing.T) {
	h := newHarness(t, harnessOpt{cfg: corsOn(appOrigin)})
	r, _, _ := h.raw(rawHead("POST", "/v2/queues/big/messages", "Origin: "+appOrigin,
		"Content-Type: application/json", "Content-Length: 1073741824") + strings.Repeat(" ", 9000))
	expect(t, r, 400, "*")
	if !r.closed {
		t.Error("connection not closed")
	}
	expectCORS(t, "oversized body", r, appOrigin)
}

func TestCORSAnyOrigin(t *testing.T) {
	for _, credentials := range []bool{false, true} {
		t.Run(fmt.Sprint("credentials=", credentials), func(t *testing.T) {
			var logged syncBuffer
			h := newHarness(t, harnessOpt{cfg: func(c *Config) {
				c.CORS.AllowedOrigins = []string{"*"}
				c.CORS.AllowCredentials = credentials
			}, log: slog.New(slog.NewTextHandler(&logged, nil))})
			if warned := strings.Contains(logged.String(), "level=WARN msg=\"http.cors allows credentials from any origin"); warned != credentials {
				t.Errorf("warned about credentials from any origin: %v; log:\n%s", warned, logged.String())
			}
			wantOrigin, wantCred := "*", ""
			if credentials { // the Fetch standard refuses "*" with credentials: echo the origin
				wantOrigin, wantCred = otherOrigin, "true"
			}
			r := h.do("OPTIONS", "/v2/queues/q1", "", preflightHeaders(otherOrigin, "PUT", "client-id,x-project-id"))
			expect(t, r, 200, "")
			if r.hdr.Get(hdrAllowOrigin) != wantOrigin || r.hdr.Get(hdrAllowCredentials) != wantCred {
				t.Errorf("preflight: %v", r.hdr)
			}
			r = h.do("PUT", "/v2/queues/q1", "", hd{"Origin": otherOrigin})
			expect(t, r, 201, "")
			if r.hdr.Get(hdrAllowOrigin) != wantOrigin || r.hdr.Get(hdrAllowCredentials) != wantCred {
				t.Errorf("actual request: %v", r.hdr)
			}
			r = h.do("GET", "/v2/queues/q1/stats", "")
			noCORSHeaders(t, "no Origin", r)
		})
	}
}

// newCORSJWTEnv is a harness in jwt mode with the given configuration; its token method issues tokens.
func newCORSJWTEnv(t *testing.T, cfg func(*Config)) *authEnv {
	t.Helper()
	sc := signing.DefaultConfig()
	sc.Token.Secrets = []signing.SecretKeyConfig{{ID: "hs1", Secret: jwtSecret}}
	sc.Token.SigningKey = "hs1"
	ac := DefaultAuthConfig()
	ac.Mode = AuthJWT
	g, err := NewGuard(ac, sc, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := sc.TokenSigner()
	if err != nil {
		t.Fatal(err)
	}
	return &authEnv{harness: newHarness(t, harnessOpt{cfg: cfg, opts: []Option{WithGuard(g)}}), guard: g, signer: signer}
}

// The CORS layer allocates nothing of its own: fasthttp's header sets reuse the response's buffers.
func TestCORSHandlerAllocations(t *testing.T) {
	cfg := DefaultCORSConfig()
	cfg.AllowedOrigins = []string{appOrigin, "http://127.0.0.1:8080"}
	cfg.AllowCredentials = true
	p := newCORS(cfg)
	next := func(ctx *fasthttp.RequestCtx) { ctx.SetStatusCode(fasthttp.StatusCreated) }
	h := p.handler(next)
	for _, c := range []struct {
		name    string
		method  string
		headers map[string]string
		check   string // a response header that must be set
	}{
		{"actual", "POST", map[string]string{"Origin": appOrigin}, hdrExposeHeaders},
		{"preflight", "OPTIONS", map[string]string{"Origin": appOrigin, hdrRequestMethod: "POST",
			hdrRequestHeaders: "authorization,client-id,content-type,x-project-id"}, hdrAllowHeaders},
		{"other origin", "POST", map[string]string{"Origin": otherOrigin}, hdrVary},
	} {
		var ctx fasthttp.RequestCtx
		ctx.Request.Header.SetMethod(c.method)
		ctx.Request.SetRequestURI("/v2/queues/q1/messages")
		for k, v := range c.headers {
			ctx.Request.Header.Set(k, v)
		}
		run := func() {
			ctx.Response.Reset()
			h(&ctx)
		}
		run()
		if len(ctx.Response.Header.Peek(c.check)) == 0 {
			t.Fatalf("%s: no %s in %s", c.name, c.check, ctx.Response.Header.String())
		}
		if n := testing.AllocsPerRun(100, run); n != 0 {
			t.Errorf("%s: %.1f allocations per request", c.name, n)
		}
	}
}
