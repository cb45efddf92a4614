package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestParseStatsTotal(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    int
		wantErr bool
	}{
		{"total", `{"messages":{"free":3,"claimed":2,"total":5}}`, 5, false},
		{"empty queue", `{"messages":{"free":0,"claimed":0,"total":0}}`, 0, false},
		{"no total", `{"messages":{"free":3}}`, 0, true},
		{"no messages", `{}`, 0, true},
		{"not json", `<html>`, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStatsTotal([]byte(tt.body))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("parseStatsTotal(%s) = %d, %v; want %d, error %v", tt.body, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestTelemetryTopicAndPayload(t *testing.T) {
	if got := telemetryTopic(1234); got != "sensors/b4/r1234/temp" {
		t.Fatalf("telemetryTopic(1234) = %q", got)
	}
	if got := deviceID(7); got != "dev-0007" {
		t.Fatalf("deviceID(7) = %q", got)
	}
	for _, n := range []int{0, 9, 999} {
		p := telemetryPayload(n)
		if len(p) < 95 || len(p) > 110 {
			t.Errorf("payload %d is %d bytes, want about 100", n, len(p))
		}
		var v map[string]any
		if err := json.Unmarshal(p, &v); err != nil {
			t.Errorf("payload %d is not JSON: %v: %s", n, err, p)
		}
		if v["sensor"] != deviceID(n) {
			t.Errorf("payload %d names sensor %v", n, v["sensor"])
		}
	}
}

func TestDevicesFor(t *testing.T) {
	tests := []struct {
		workload string
		devices  int
		short    bool
		want     int
	}{
		{workloadMQTTQoS1, 0, true, 1000},
		{workloadMQTTQoS0, 0, false, 1000},
		{workloadMQTTCmd, 0, false, 100},
		{workloadMQTTIdle, 0, false, 1000},
		{workloadMQTTIdle, 0, true, 200},
		{workloadMQTTIdle, 50, true, 50},
		{workloadPost1, 0, false, 0},
	}
	for _, tt := range tests {
		if got := devicesFor(tt.workload, tt.devices, tt.short); got != tt.want {
			t.Errorf("devicesFor(%s, %d, %v) = %d, want %d", tt.workload, tt.devices, tt.short, got, tt.want)
		}
	}
}

func TestIdleNote(t *testing.T) {
	note := idleNote(100, 10<<20, 10<<20+1200<<10)
	if !strings.Contains(note, "12.0 KiB per idle device") || !strings.Contains(note, "Go runtime overhead") {
		t.Fatalf("idleNote = %q", note)
	}
}

func TestMQTTWorkloadsInDefaultSet(t *testing.T) {
	for name := range mqttWorkloads {
		if !strings.Contains(defaultWorkloadSet, name) {
			t.Errorf("%s is not in the default set %q", name, defaultWorkloadSet)
		}
	}
}

func TestCPUPerMessageNote(t *testing.T) {
	r := Result{LoadResult: LoadResult{Workload: workloadMQTTQoS1, Messages: 20000}, ServerCPU: 0.8}
	if got := cpuPerMessageNote(r); !strings.Contains(got, "40.0 µs per stored message") {
		t.Fatalf("cpuPerMessageNote = %q", got)
	}
	r.Messages = 0
	if got := cpuPerMessageNote(r); !strings.Contains(got, "nothing stored") {
		t.Fatalf("cpuPerMessageNote with no messages = %q", got)
	}
}

func TestSummarizeStopError(t *testing.T) {
	got := summarizeStopError("zedge-1 exited with exit status 1; log:\nline one\nlevel=ERROR msg=\"zedge stopped\"\n\n")
	if got != `zedge-1 exited with exit status 1: level=ERROR msg="zedge stopped"` {
		t.Fatalf("summarizeStopError = %q", got)
	}
	if got := summarizeStopError("no log"); got != "no log" {
		t.Fatalf("summarizeStopError(one line) = %q", got)
	}
}
