package app

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b)
}

// pprof is off by default and served on its own listener when debug.pprof_addr is set; /metrics is on by
// default and off with http.metrics: false.
func TestMetricsAndPprofListeners(t *testing.T) {
	cfg := testConfig(t, StoreMemory)
	r := start(t, cfg, Options{})
	if r.app.PprofAddr() != "" {
		t.Errorf("pprof listening at %s by default", r.app.PprofAddr())
	}
	if status, body := get(t, "http://"+r.app.HTTPAddr()+"/metrics"); status != 200 ||
		!strings.Contains(body, "zedge_auth_refusals_total") {
		t.Errorf("GET /metrics: %d %.200s", status, body)
	}

	cfg = testConfig(t, StoreMemory)
	cfg.HTTP.Metrics = false
	cfg.Debug.PprofAddr = "127.0.0.1:0"
	r = start(t, cfg, Options{})
	if status, _ := get(t, "http://"+r.app.HTTPAddr()+"/metrics"); status != 404 {
		t.Errorf("GET /metrics with http.metrics false: %d, want 404", status)
	}
	if status, body := get(t, "http://"+r.app.PprofAddr()+"/debug/pprof/goroutine?debug=1"); status != 200 ||
		!strings.Contains(body, "goroutine profile") {
		t.Errorf("pprof goroutine profile: %d %.200s", status, body)
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get("http://" + r.app.PprofAddr() + "/debug/pprof/"); err == nil {
		t.Error("pprof still answers after Run returned")
	}
}

func TestDebugConfigValidate(t *testing.T) {
	for addr, ok := range map[string]bool{"": true, "127.0.0.1:6060": true, "localhost:0": true, "6060": false} {
		if err := (DebugConfig{PprofAddr: addr}).Validate(); (err == nil) != ok {
			t.Errorf("pprof_addr %q: %v", addr, err)
		}
	}
}
