package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFormatters(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{formatRate(0), "0"},
		{formatRate(950.4), "950"},
		{formatRate(4321), "4.32k"},
		{formatRate(43210), "43.2k"},
		{formatRate(1_250_000), "1.25M"},
		{formatLatency(0), "-"},
		{formatLatency(412.4), "412µs"},
		{formatLatency(1234), "1.23ms"},
		{formatLatency(45678), "45.7ms"},
		{formatLatency(250000), "250ms"},
		{formatBytes(0), "-"},
		{formatBytes(2048), "2KiB"},
		{formatBytes(3 << 20), "3.0MiB"},
		{formatBytes(5 << 30), "5.00GiB"},
		{formatErrorKinds(map[string]int{"503": 2, "400": 1, "transport": 3}), "400:1 503:2 transport:3"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func sampleReport() *Report {
	rep := &Report{Durability: "sync"}
	ref := Result{LoadResult: LoadResult{Workload: "post1", Conns: 32, Requests: 500000, Messages: 500000, Elapsed: 5,
		Latency: LatencySummary{P50US: 300, P99US: 900, P999US: 2000}}, Target: targetReference, ServerCPU: 4}
	post := Result{LoadResult: LoadResult{Workload: "post10", Conns: 32, Requests: 100000, Messages: 1000000, Elapsed: 5,
		Errors: 3, ErrorKind: map[string]int{"503": 3}, Latency: LatencySummary{P50US: 1500, P99US: 4800, P999US: 12000}},
		Target: "zedge", ServerCPU: 8, ServerRSS: 80 << 20, DataDir: 300 << 20}
	claim := Result{LoadResult: LoadResult{Workload: "claim10+delete", Conns: 32, Requests: 1100, Messages: 1000,
		Elapsed: 1, Exhausted: true}, Target: "zedge"}
	for _, r := range []*Result{&ref, &post, &claim} {
		r.fill()
	}
	rep.Results = []Result{ref, post, claim}
	rep.applyCeiling()
	return rep
}

func TestRatesAndCeiling(t *testing.T) {
	rep := sampleReport()
	post := rep.Results[1]
	if post.ReqPerSec != 20000 || post.MsgPerSec != 200000 {
		t.Errorf("rates %v req/s %v msg/s", post.ReqPerSec, post.MsgPerSec)
	}
	if post.CPUPer1k != 0.08 {
		t.Errorf("cpu per 1k = %v, want 8 s / 100k requests * 1000 = 0.08", post.CPUPer1k)
	}
	if post.VsCeiling != 0.2 || rep.Results[0].VsCeiling != 1 {
		t.Errorf("ratios %v and %v, want 0.2 and 1", post.VsCeiling, rep.Results[0].VsCeiling)
	}
}

func TestTable(t *testing.T) {
	var buf bytes.Buffer
	if err := sampleReport().WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("want a header and 3 rows:\n%s", buf.String())
	}
	for _, col := range []string{"workload", "req/s", "msg/s", "p50", "p99", "p99.9", "errors", "cpu s/1k req", "RSS",
		"data dir", "vs canned"} {
		if !strings.Contains(lines[0], col) {
			t.Errorf("header lacks %q: %s", col, lines[0])
		}
	}
	// Right-aligned columns: every line ends at the same width.
	for _, l := range lines[1:] {
		if len([]rune(l)) != len([]rune(lines[0])) {
			t.Errorf("misaligned row:\n%s\n%s", lines[0], l)
		}
	}
	for _, want := range []string{"canned-201", "100.0k", "1.50ms", "4.80ms", "12.0ms", "3 (503:3)", "0.0800", "80.0MiB",
		"300.0MiB", "0.20", "claim10+delete*"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, buf.String())
		}
	}
}

func TestJSONRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.json")
	rep := sampleReport()
	if err := rep.WriteJSON(path); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Results) != 3 || back.Results[1].ReqPerSec != 20000 || back.Results[1].Latency.P99US != 4800 ||
		back.Results[1].ErrorKind["503"] != 3 {
		t.Errorf("round trip lost data: %+v", back.Results)
	}
}

func TestParseStatCPU(t *testing.T) {
	// A command name with spaces and a parenthesis, as /proc allows.
	stat := "4242 (zedge (x) y) S 1 4242 4242 0 -1 4194560 1234 0 0 0 250 75 0 0 20 0 8 0 100 0 0"
	got, err := parseStatCPU(stat)
	if err != nil || got != 3.25 {
		t.Errorf("parseStatCPU = %v, %v; want (250+75)/100 = 3.25", got, err)
	}
	if _, err := parseStatCPU("garbage"); err == nil {
		t.Error("no error for a malformed stat line")
	}
}

func TestMessageBodySizes(t *testing.T) {
	for _, n := range []int{1, 10} {
		body := messageBody(n, 100, 7)
		var v struct {
			Messages []struct {
				TTL  int            `json:"ttl"`
				Body map[string]any `json:"body"`
			} `json:"messages"`
		}
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatalf("%d messages: %v: %s", n, err, body)
		}
		if len(v.Messages) != n || v.Messages[0].TTL != 60 {
			t.Errorf("%d messages: %+v", n, v)
		}
		raw, _ := json.Marshal(v.Messages[0].Body)
		if len(raw) < 90 || len(raw) > 110 {
			t.Errorf("message body is %d bytes, want about 100: %s", len(raw), raw)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "zedge")
	if err := os.WriteFile(bin, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	good := DefaultConfig()
	good.Zedge = bin
	good.resolve()
	if err := good.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for name, mutate := range map[string]func(*Config){
		"unknown workload": func(c *Config) { c.Workloads = []string{"post3"} },
		"no conns":         func(c *Config) { c.Conns = 0 },
		"more queues":      func(c *Config) { c.Queues = c.Conns + 1 },
		"durability":       func(c *Config) { c.Durability = "fsync" },
		"missing binary":   func(c *Config) { c.Zedge = bin + ".missing" },
		"body size":        func(c *Config) { c.BodySize = 0 },
	} {
		c := good
		mutate(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
