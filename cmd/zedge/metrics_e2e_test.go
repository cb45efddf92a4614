package main

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape reads /metrics of the running binary, as Prometheus would (no Zaqar headers), and parses it.
func scrape(t *testing.T, s *server) map[string]*dto.MetricFamily {
	t.Helper()
	res, err := http.Get(s.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", res.StatusCode, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("exposition does not parse: %v", err)
	}
	return fams
}

// sample is the value of the series of family name whose labels include want (0 when there is none).
func sample(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	f := fams[name]
	if f == nil {
		return 0
	}
	var sum float64
next:
	for _, m := range f.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if labels[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		}
	}
	return sum
}

func TestMetricsScrape(t *testing.T) {
	s := startServer(t, serverOptions{})
	c := newClient(t, s, "metrics-project")
	const queue = "e2emetrics-q7x3"
	postRoute := map[string]string{"route": "/v2/queues/{queue_name}/messages", "method": "POST", "status": "201"}
	classLabel := map[string]string{"queue_class": "e2emetrics"}

	before := scrape(t, s)
	// The vectors (requests, messages) have no series until something happened; these always do.
	for _, fam := range []string{"go_goroutines", "process_resident_memory_bytes", "zedge_auth_refusals_total",
		"zedge_mqtt_events_total", "zedge_mqtt_clients_connected", "zedge_notifications_total",
		"zedge_websocket_sockets_open", "zedge_store_commit_groups_total"} {
		if before[fam] == nil {
			t.Errorf("family %s missing from /metrics", fam)
		}
	}

	c.post(queue, map[string]any{"ttl": 300, "body": map[string]any{"t": 21.5}},
		map[string]any{"ttl": 300, "body": 2})
	c.post(queue, map[string]any{"ttl": 300, "body": 3})
	if _, msgs, status := c.claim(queue, 60, 60, 2); status != http.StatusCreated || len(msgs) != 2 {
		t.Fatalf("claim: %d, %d messages", status, len(msgs))
	}

	after := scrape(t, s)
	if d := sample(after, "zedge_messages_posted_total", classLabel) -
		sample(before, "zedge_messages_posted_total", classLabel); d != 3 {
		t.Errorf("posted counter of class e2emetrics moved by %v, want 3", d)
	}
	if d := sample(after, "zedge_http_requests_total", postRoute) -
		sample(before, "zedge_http_requests_total", postRoute); d != 2 {
		t.Errorf("POST messages request counter moved by %v, want 2", d)
	}
	latency := map[string]string{"route": postRoute["route"], "method": "POST"}
	if d := sample(after, "zedge_http_request_duration_seconds", latency) -
		sample(before, "zedge_http_request_duration_seconds", latency); d != 2 {
		t.Errorf("POST messages latency histogram count moved by %v, want 2", d)
	}
	if got := sample(after, "zedge_messages_claimed_total", classLabel); got != 2 {
		t.Errorf("claimed counter of class e2emetrics is %v, want 2", got)
	}
	if got := sample(after, "zedge_store_commit_records_total", nil); got <= 0 {
		t.Errorf("store commit records %v after posting to the badger store", got)
	}

	// Bounded cardinality: neither the raw queue name nor the raw path is ever a label value.
	for name, f := range after {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if strings.Contains(l.GetValue(), queue) {
					t.Errorf("%s has label %s=%q: a raw queue name", name, l.GetName(), l.GetValue())
				}
			}
		}
	}
}

// In jwt mode /metrics stays open like /healthz, while /v2 needs a token; a refused request shows up in the
// refusal counter by reason.
func TestMetricsOpenInJWTMode(t *testing.T) {
	s, _ := authServer(t, true)
	before := scrape(t, s)
	res, err := http.Get(s.base + "/v2/queues")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET /v2/queues without a token: %d, want 401", res.StatusCode)
	}
	after := scrape(t, s)
	if d := sample(after, "zedge_auth_refusals_total", nil) - sample(before, "zedge_auth_refusals_total", nil); d != 1 {
		t.Errorf("auth refusals moved by %v after one refused request, want 1", d)
	}
}
