package bridge

import (
	"errors"
	"strings"
	"testing"

	"github.com/zedge-io/zedge/broker"
)

func defaultMapper(t testing.TB) *Mapper {
	t.Helper()
	m, err := NewMapper(DefaultRules())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestTelemetryMapping(t *testing.T) {
	m := defaultMapper(t)
	tests := []struct {
		topic  string
		queue  string
		device string
		err    error
	}{
		{"sensors/b1/r101/temp", "telemetry-b1", "", nil},
		{"sensors/library/r2/co2", "telemetry-library", "", nil},
		{"sensors/b 1/r101/temp", "telemetry-b 1", "", ErrBadQueue},
		{"sensors/" + strings.Repeat("b", 60) + "/r/t", "telemetry-" + strings.Repeat("b", 60), "", ErrBadQueue},
		{"sensors/b1/r101", "", "", ErrNoRule},
		{"devices/ac-12/telemetry", "telemetry-devices", "ac-12", nil},
		{"devices/ac 12/telemetry", "telemetry-devices", "ac 12", nil}, // the queue does not depend on the id
		{"devices/ac-12/commands", "", "", ErrNoRule},
		{"devices/ac-12/acks", "", "", ErrNoRule},
		{"lobby/screen", "", "", ErrNoRule},
	}
	for _, tt := range tests {
		r, err := m.Telemetry(tt.topic)
		if !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
			t.Errorf("Telemetry(%q) error = %v, want %v", tt.topic, err, tt.err)
			continue
		}
		if r.Queue != tt.queue || r.Device != tt.device {
			t.Errorf("Telemetry(%q) = queue %q device %q, want %q %q", tt.topic, r.Queue, r.Device, tt.queue, tt.device)
		}
	}
}

func TestTelemetryRuleOrderAndTTL(t *testing.T) {
	m, err := NewMapper(Rules{Telemetry: []TelemetryRule{
		{Topic: "sensors/b9/{room}/{kind}", Queue: "vip-{room}", TTL: 120},
		{Topic: "sensors/{building}/#", Queue: "rest-{building}"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for topic, want := range map[string]TelemetryRoute{
		"sensors/b9/r1/temp":    {Rule: 0, Queue: "vip-r1", TTL: 120},
		"sensors/b1/r1/temp":    {Rule: 1, Queue: "rest-b1"},
		"sensors/b9/r1/temp/x":  {Rule: 1, Queue: "rest-b9"},
		"sensors/b2":            {Rule: 1, Queue: "rest-b2"},
		"sensors/b2/deep/er/st": {Rule: 1, Queue: "rest-b2"},
	} {
		got, err := m.Telemetry(topic)
		if err != nil || got != want {
			t.Errorf("Telemetry(%q) = %+v, %v; want %+v", topic, got, err, want)
		}
	}
}

func TestCommandMapping(t *testing.T) {
	m := defaultMapper(t)
	tests := []struct {
		queue  string
		ok     bool
		device string
		topic  string
	}{
		{"cmd-ac-12", true, "ac-12", "devices/ac-12/commands"},
		{"cmd-x", true, "x", "devices/x/commands"},
		{"cmd-", false, "", ""},
		{"cmdac", false, "", ""},
		{"telemetry-b1", false, "", ""},
	}
	for _, tt := range tests {
		r, ok := m.CommandQueue(tt.queue)
		if ok != tt.ok || r.Device != tt.device || r.Topic != tt.topic {
			t.Errorf("CommandQueue(%q) = %+v, %v; want device %q topic %q, %v", tt.queue, r, ok, tt.device, tt.topic, tt.ok)
		}
	}
	if r, ok := m.CommandTopic("devices/ac-12/commands"); !ok || r.Queue != "cmd-ac-12" || r.Device != "ac-12" {
		t.Errorf("CommandTopic = %+v, %v", r, ok)
	}
	if _, ok := m.CommandTopic("devices/ac 12/commands"); ok {
		t.Error("CommandTopic accepted a device id that makes no valid queue name")
	}
	if !m.IsCommandTopic("devices/ac 12/commands") || m.IsCommandTopic("devices/ac-12/acks") {
		t.Error("IsCommandTopic wrong")
	}
	if r, ok := m.AckTopic("devices/ac-12/acks"); !ok || r.Queue != "cmd-ac-12" || r.Topic != "devices/ac-12/commands" {
		t.Errorf("AckTopic = %+v, %v", r, ok)
	}
	if got := m.ResultsQueue(0, "ac-12"); got != "cmd-results" {
		t.Errorf("ResultsQueue = %q", got)
	}
	if got := m.ForDevice("ac-12"); len(got) != 1 || got[0].Queue != "cmd-ac-12" {
		t.Errorf("ForDevice = %+v", got)
	}
	if got := m.ForDevice("a/b"); len(got) != 0 {
		t.Errorf("ForDevice(a/b) = %+v", got)
	}
}

// A results queue is never a command queue, though a device id may make it one: under the defaults the
// device "results" would otherwise take every status record in cmd-results as its command.
func TestResultsQueueIsNoCommandQueue(t *testing.T) {
	m := defaultMapper(t)
	if r, ok := m.CommandQueue("cmd-results"); ok {
		t.Errorf("CommandQueue(cmd-results) = %+v", r)
	}
	if r, ok := m.CommandTopic("devices/results/commands"); ok {
		t.Errorf("CommandTopic(devices/results/commands) = %+v", r)
	}
	if r, ok := m.AckTopic("devices/results/acks"); ok {
		t.Errorf("AckTopic(devices/results/acks) = %+v", r)
	}
	if got := m.ForDevice("results"); len(got) != 0 {
		t.Errorf("ForDevice(results) = %+v", got)
	}
	if _, ok := m.CommandQueue("cmd-results2"); !ok {
		t.Error("CommandQueue(cmd-results2) refused: only the results queue itself is kept out")
	}

	perDevice, err := NewMapper(Rules{Commands: []CommandRule{
		{Queue: "c-{device}", Topic: "d/{device}/c", ResultsQueue: "c-{device}-r-{device}"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]bool{
		"c-x":             true,
		"c-x-r-x":         false, // device x's results queue
		"c-x-r-y":         true,  // not a results queue: the two {device} differ
		"c-a-r-a-r-a":     true,  // no device d expands to it ("c-d-r-d")
		"c-a-r-b-r-a-r-b": false, // device "a-r-b"
	} {
		if _, ok := perDevice.CommandQueue(q); ok != want {
			t.Errorf("per-device results: CommandQueue(%q) ok = %v, want %v", q, ok, want)
		}
	}
}

func TestPerDeviceResultsQueue(t *testing.T) {
	m, err := NewMapper(Rules{Commands: []CommandRule{{Queue: "c_{device}", Topic: "d/{device}/c", AckTopic: "d/{device}/a",
		ResultsQueue: "r_{device}", Ack: AckReply}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := m.ResultsQueue(0, "x1"); got != "r_x1" {
		t.Errorf("ResultsQueue = %q", got)
	}
	if !m.ReplyOnly(0) {
		t.Error("ReplyOnly = false")
	}
}

func TestBadRules(t *testing.T) {
	for name, r := range map[string]Rules{
		"unknown var":       {Telemetry: []TelemetryRule{{Topic: "a/{x}", Queue: "q-{y}"}}},
		"unclosed":          {Telemetry: []TelemetryRule{{Topic: "a/{x}", Queue: "q-{x"}}},
		"negative ttl":      {Telemetry: []TelemetryRule{{Topic: "a/{x}", Queue: "q", TTL: -1}}},
		"empty queue":       {Telemetry: []TelemetryRule{{Topic: "a/{x}", Queue: ""}}},
		"cmd no device":     {Commands: []CommandRule{{Queue: "cmd-x", Topic: "d/{device}/c"}}},
		"cmd two vars":      {Commands: []CommandRule{{Queue: "cmd-{device}-{x}", Topic: "d/{device}/c"}}},
		"cmd bad chars":     {Commands: []CommandRule{{Queue: "cmd/{device}", Topic: "d/{device}/c"}}},
		"cmd topic wild":    {Commands: []CommandRule{{Queue: "cmd-{device}", Topic: "d/{device}/+"}}},
		"cmd topic no dev":  {Commands: []CommandRule{{Queue: "cmd-{device}", Topic: "d/{x}/c"}}},
		"ack is cmd":        {Commands: []CommandRule{{Queue: "cmd-{device}", Topic: "d/{device}/c", AckTopic: "d/{device}/c"}}},
		"reply without ack": {Commands: []CommandRule{{Queue: "cmd-{device}", Topic: "d/{device}/c", Ack: AckReply}}},
		"bad ack mode":      {Commands: []CommandRule{{Queue: "cmd-{device}", Topic: "d/{device}/c", Ack: "maybe"}}},
		"overlap": {Commands: []CommandRule{
			{Queue: "cmd-{device}", Topic: "d/{device}/c"},
			{Queue: "cmd-x{device}", Topic: "e/{device}/c"},
		}},
	} {
		if _, err := NewMapper(r); !errors.Is(err, ErrBadRule) {
			t.Errorf("%s: NewMapper = %v, want ErrBadRule", name, err)
		}
	}
}

// FuzzTelemetry: whatever the topic, a route without error names a valid queue, and with the default rules
// the queue is what the rule says.
func FuzzTelemetry(f *testing.F) {
	m := defaultMapper(f)
	f.Add("sensors/b1/r101/temp")
	f.Add("devices/ac-12/telemetry")
	f.Add("sensors/b\x00/r/t")
	f.Add("sensors/ü/r/t")
	f.Fuzz(func(t *testing.T, topic string) {
		r, err := m.Telemetry(topic)
		switch {
		case err == nil:
			if !broker.ValidQueueName(r.Queue) {
				t.Fatalf("Telemetry(%q) gave invalid queue %q", topic, r.Queue)
			}
			parts := strings.Split(topic, "/")
			if parts[0] == "sensors" && r.Queue != "telemetry-"+parts[1] {
				t.Fatalf("Telemetry(%q) = %q", topic, r.Queue)
			}
		case errors.Is(err, ErrBadQueue):
			if broker.ValidQueueName(r.Queue) {
				t.Fatalf("Telemetry(%q) refused valid queue %q", topic, r.Queue)
			}
		case !errors.Is(err, ErrNoRule):
			t.Fatalf("Telemetry(%q): unexpected error %v", topic, err)
		}
		if cr, ok := m.CommandQueue(topic); ok && !strings.HasPrefix(topic, "cmd-") {
			t.Fatalf("CommandQueue(%q) = %+v", topic, cr)
		}
	})
}

// Every expansion of a results template is matched by it (the property that keeps a device's results queue
// out of the command queues), whatever the literals and however often {device} appears.
func FuzzTemplateMatches(f *testing.F) {
	f.Add("c-", "-r-", "", "ac-1", true)
	f.Add("", "", "x", "", false)
	f.Add("a", "a", "a", "aa", true)
	f.Fuzz(func(t *testing.T, prefix, mid, suffix, device string, twice bool) {
		text := prefix + "{device}" + suffix
		if twice {
			text = prefix + "{device}" + mid + "{device}" + suffix
		}
		tpl, err := ParseTemplate(text, []string{DeviceVar})
		if err != nil {
			return // braces in the literals
		}
		var vals [MaxPatternVars]string
		vals[0] = device
		if s := tpl.Expand(&vals); !tpl.matches(s) {
			t.Fatalf("%q does not match its expansion %q (device %q)", text, s, device)
		}
	})
}
