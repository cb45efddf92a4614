package webapp

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

func testSite() Site {
	return Site{Name: "North campus", Buildings: []Building{
		{ID: "b1", Name: "Building 1", Offices: []Office{
			{ID: "b1-f1-o1", Name: "Office 1.1", Floor: "1", Thermostat: "b1-f1-o1-th", ACs: []string{"b1-f1-o1-ac1"},
				Sensors: []string{"b1-f1-o1-temp", "b1-f1-o1-co2"}},
			{ID: "b1-f1-o2", ACs: []string{"b1-f1-o2-ac1", "b1-f1-o2-ac2"}},
		}},
		{ID: "b2", Offices: []Office{{ID: "b2-f1-o1", Thermostat: "b2-f1-o1-th"}}},
	}}
}

func testConfig() Config {
	return Config{WebsocketURL: "ws://127.0.0.1:9000/", ProjectID: "campus",
		ClientID: "3381af92-2b9e-11e3-b191-71861300734c", Token: "tok", Site: testSite()}
}

func get(t *testing.T, h http.Handler, method, path string) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec.Result()
}

func readAll(t *testing.T, r *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestConfigJSON: config.json is the Config with the agreed field names, and decodes back to the same value.
func TestConfigJSON(t *testing.T) {
	cfg := testConfig()
	resp := get(t, Handler(cfg), "GET", "/config.json")
	body := readAll(t, resp)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("config.json: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var shape map[string]any
	if err := json.Unmarshal([]byte(body), &shape); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"websocket_url", "project_id", "client_id", "token", "site"} {
		if _, ok := shape[key]; !ok {
			t.Errorf("config.json has no %q: %s", key, body)
		}
	}
	office := shape["site"].(map[string]any)["buildings"].([]any)[0].(map[string]any)["offices"].([]any)[0].(map[string]any)
	want := map[string]any{"id": "b1-f1-o1", "name": "Office 1.1", "floor": "1", "thermostat": "b1-f1-o1-th",
		"acs": []any{"b1-f1-o1-ac1"}, "sensors": []any{"b1-f1-o1-temp", "b1-f1-o1-co2"}}
	if !reflect.DeepEqual(office, want) {
		t.Errorf("office as JSON = %v, want %v", office, want)
	}
	var back Config
	if err := json.Unmarshal([]byte(body), &back); err != nil || !reflect.DeepEqual(back, cfg) {
		t.Errorf("round trip: %+v, %v", back, err)
	}

	// Optional fields are left out when empty, so the page can tell "no token" from an empty one.
	cfg.ClientID, cfg.Token = "", ""
	body = readAll(t, get(t, Handler(cfg), "GET", "/config.json"))
	if strings.Contains(body, "client_id") || strings.Contains(body, "token") {
		t.Errorf("empty optional fields serialised: %s", body)
	}
}

// TestConfigJSONInvalid: a config that fails Validate is not served as if it were fine: the page gets a 500
// with the reason.
func TestConfigJSONInvalid(t *testing.T) {
	cfg := testConfig()
	cfg.WebsocketURL = "http://127.0.0.1:9000/"
	resp := get(t, Handler(cfg), "GET", "/config.json")
	body := readAll(t, resp)
	var e struct{ Error string }
	if resp.StatusCode != 500 || json.Unmarshal([]byte(body), &e) != nil || !strings.Contains(e.Error, "websocket_url") {
		t.Fatalf("invalid config: %d %s", resp.StatusCode, body)
	}
	if strings.Contains(body, "tok") {
		t.Errorf("the error body leaks the config: %s", body)
	}
}

// TestStaticFiles: each file with its content type, the same bytes as embedded, HEAD without a body.
func TestStaticFiles(t *testing.T) {
	h := Handler(testConfig())
	cases := []struct {
		path, file, contentType, contains string
	}{
		{"/", "index.html", "text/html; charset=utf-8", `<script src="app.js"`},
		{"/index.html", "index.html", "text/html; charset=utf-8", `<link rel="stylesheet" href="style.css">`},
		{"/app.js", "app.js", "text/javascript; charset=utf-8", "subscription_create"},
		{"/style.css", "style.css", "text/css; charset=utf-8", ".office"},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			resp := get(t, h, "GET", c.path)
			body := readAll(t, resp)
			want, _ := static.ReadFile("static/" + c.file)
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != c.contentType || body != string(want) ||
				!strings.Contains(body, c.contains) {
				t.Fatalf("%s: %d %q, %d bytes", c.path, resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
			}
			if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("headers: %v", resp.Header)
			}
			head := get(t, h, "HEAD", c.path)
			if head.StatusCode != 200 || readAll(t, head) != "" || head.Header.Get("Content-Length") != resp.Header.Get("Content-Length") {
				t.Errorf("HEAD %s: %d, length %s", c.path, head.StatusCode, head.Header.Get("Content-Length"))
			}
		})
	}
}

// TestNothingElse: no other path, no directory listing, no other method.
func TestNothingElse(t *testing.T) {
	h := Handler(testConfig())
	for _, path := range []string{"/static/", "/static/app.js", "/app.js/", "/../webapp.go", "/webapp.go", "/doc.go",
		"/favicon.ico", "/config", "/index.htm", "/APP.JS", "/.git/config"} {
		if resp := get(t, h, "GET", path); resp.StatusCode != 404 {
			t.Errorf("GET %s: %d, want 404", path, resp.StatusCode)
		}
	}
	for _, method := range []string{"POST", "PUT", "DELETE", "PATCH", "OPTIONS"} {
		resp := get(t, h, method, "/config.json")
		if resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s /config.json: %d allow %q", method, resp.StatusCode, resp.Header.Get("Allow"))
		}
	}
}

// TestMountedUnderPrefix: with http.StripPrefix the page's relative URLs resolve under the prefix.
func TestMountedUnderPrefix(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("/app/", http.StripPrefix("/app", Handler(testConfig())))
	for _, path := range []string{"/app/", "/app/app.js", "/app/config.json"} {
		if resp := get(t, mux, "GET", path); resp.StatusCode != 200 {
			t.Errorf("GET %s: %d", path, resp.StatusCode)
		}
	}
}

// TestContentSecurityPolicy: sockets only to the configured zedge; a hostile URL cannot widen the policy.
func TestContentSecurityPolicy(t *testing.T) {
	cases := []struct{ url, want string }{
		{"ws://127.0.0.1:9000/", "connect-src 'self' ws://127.0.0.1:9000;"},
		{"wss://zedge.example:443/v2/ws", "connect-src 'self' wss://zedge.example:443;"},
		{"http://127.0.0.1:9000/", "connect-src 'self';"},
		{"ws://a;script-src *", "connect-src 'self';"},
	}
	for _, c := range cases {
		if got := contentSecurityPolicy(c.url); !strings.Contains(got, c.want) || !strings.Contains(got, "script-src 'self'") {
			t.Errorf("%q: %s", c.url, got)
		}
	}
}

func TestValidate(t *testing.T) {
	long := strings.Repeat("x", 61)
	cases := []struct {
		name   string
		modify func(*Config)
		want   string // "" means valid
	}{
		{"valid", func(*Config) {}, ""},
		{"no client id", func(c *Config) { c.ClientID = "" }, ""},
		{"wss", func(c *Config) { c.WebsocketURL = "wss://host/v2/ws" }, ""},
		{"empty url", func(c *Config) { c.WebsocketURL = "" }, "websocket_url is empty"},
		{"http url", func(c *Config) { c.WebsocketURL = "http://host/" }, "not a ws:// or wss://"},
		{"no host", func(c *Config) { c.WebsocketURL = "ws:///x" }, "not a ws:// or wss://"},
		{"no project", func(c *Config) { c.ProjectID = "" }, "project_id"},
		{"bad client id", func(c *Config) { c.ClientID = "app-1" }, "not a UUID"},
		{"no buildings", func(c *Config) { c.Site.Buildings = nil }, "no buildings"},
		{"empty building id", func(c *Config) { c.Site.Buildings[0].ID = "" }, "empty id"},
		{"building twice", func(c *Config) { c.Site.Buildings[1].ID = "b1" }, `building "b1" is listed twice`},
		{"office twice", func(c *Config) { c.Site.Buildings[1].Offices[0].ID = "b1-f1-o1" }, `office "b1-f1-o1" is listed twice`},
		{"device twice", func(c *Config) { c.Site.Buildings[0].Offices[1].ACs[1] = "b1-f1-o1-ac1" }, `device "b1-f1-o1-ac1" is listed twice`},
		{"dot in device", func(c *Config) { c.Site.Buildings[0].Offices[0].ACs[0] = "ac.1" }, "letters, digits"},
		{"slash in building", func(c *Config) { c.Site.Buildings[0].ID = "b/1" }, "letters, digits"},
		{"device too long", func(c *Config) { c.Site.Buildings[0].Offices[0].Thermostat = long }, "too long"},
		{"device at the limit", func(c *Config) { c.Site.Buildings[0].Offices[0].Thermostat = long[:60] }, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Site = testSite() // fresh slices per case
			c.modify(&cfg)
			err := cfg.Validate()
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case c.want != "" && (err == nil || !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("error %v, want one wrapping ErrInvalidConfig with %q", err, c.want)
			}
		})
	}
	if err := DefaultConfig().Validate(); err == nil || !strings.Contains(err.Error(), "no buildings") {
		t.Errorf("DefaultConfig (no site) validated: %v", err)
	}
}

// FuzzConfig: whatever JSON a config is made from, Validate and Handler never panic, and config.json is the
// config itself exactly when it validates, else a 500 with the reason.
func FuzzConfig(f *testing.F) {
	good, _ := json.Marshal(testConfig())
	f.Add(good)
	f.Add([]byte(`{"websocket_url":"ws://h/","project_id":"p","site":{"buildings":[{"id":"b1","offices":[{"id":"o","acs":["a","a"]}]}]}}`))
	f.Add([]byte(`{"websocket_url":"wss://[::1]:9/","project_id":"p","client_id":"{3381AF92-2B9E-11E3-B191-71861300734C}","site":{"buildings":[{"id":"b-1"}]}}`))
	f.Add([]byte(`{"websocket_url":"ws://a b/","site":{"buildings":[{"id":"b1.x"}]}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		var cfg Config
		if json.Unmarshal(raw, &cfg) != nil {
			return
		}
		valid := cfg.Validate()
		resp := get(t, Handler(cfg), "GET", "/config.json")
		body := readAll(t, resp)
		if valid != nil {
			if !errors.Is(valid, ErrInvalidConfig) {
				t.Fatalf("Validate error %v does not wrap ErrInvalidConfig", valid)
			}
			var e struct{ Error string }
			if resp.StatusCode != 500 || json.Unmarshal([]byte(body), &e) != nil || e.Error != valid.Error() {
				t.Fatalf("invalid config served as %d %s", resp.StatusCode, body)
			}
			return
		}
		var back Config
		want, _ := json.Marshal(cfg)
		if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &back) != nil {
			t.Fatalf("valid config served as %d %s", resp.StatusCode, body)
		}
		if got, _ := json.Marshal(back); string(got) != string(want) {
			t.Fatalf("config.json %s, want %s", got, want)
		}
	})
}

func BenchmarkHandler(b *testing.B) {
	h := Handler(testConfig())
	for _, c := range []struct{ name, path string }{{"index", "/"}, {"app.js", "/app.js"}, {"config.json", "/config.json"},
		{"not-found", "/missing"}} {
		path := c.path
		b.Run(c.name, func(b *testing.B) {
			req := httptest.NewRequest("GET", path, nil)
			probe := httptest.NewRecorder()
			h.ServeHTTP(probe, req)
			b.SetBytes(int64(probe.Body.Len()))
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
			}
		})
	}
}
