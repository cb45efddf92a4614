package app

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/zedge-io/zedge/store/badgerstore"
	"github.com/zedge-io/zedge/store/memstore"
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

// The engine-based stores report expiries to the metrics, and the badger store its commit histograms.
var (
	_ expiryObservable   = (*badgerstore.Store)(nil)
	_ expiryObservable   = (*memstore.Store)(nil)
	_ commitHistogrammer = (*badgerstore.Store)(nil)
)

func TestStoreCommitHistogramsExported(t *testing.T) {
	r := start(t, testConfig(t, StoreBadger), Options{})
	addr := r.app.HTTPAddr()
	if code, body := call(t, addr, "POST", "/v2/queues/sensor-1/messages", producerID,
		`{"messages": [{"body": 1, "ttl": 60}, {"body": 2, "ttl": 60}]}`); code != http.StatusCreated {
		t.Fatalf("POST = %d %s", code, body)
	}
	_, body := get(t, "http://"+addr+"/metrics")
	for _, want := range []string{`zedge_store_commit_records_bucket{le="+Inf"} `, "zedge_store_commit_duration_seconds_count ",
		"# TYPE zedge_store_commit_records histogram"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	// The post's queue record and two messages went in at least one group.
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, "zedge_store_commit_records_sum "); ok {
			if n, err := strconv.ParseFloat(v, 64); err != nil || n < 3 {
				t.Errorf("records committed: %s, want at least 3", v)
			}
		}
	}
}
