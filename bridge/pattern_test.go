package bridge

import (
	"errors"
	"strings"
	"testing"
)

func TestParsePatternErrors(t *testing.T) {
	for _, s := range []string{
		"", "a/#/b", "a/{x}/{x}", "a/{}/b", "a/{bad-name}", "a/b{x}", "a/x+", "a/#x", "$SYS/{x}",
		"a/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}",
	} {
		if _, err := ParsePattern(s); !errors.Is(err, ErrBadRule) {
			t.Errorf("ParsePattern(%q) = %v, want ErrBadRule", s, err)
		}
	}
}

func TestPatternMatch(t *testing.T) {
	tests := []struct {
		pattern, topic string
		want           bool
		vals           []string
	}{
		{"sensors/{building}/{room}/{kind}", "sensors/b1/r101/temp", true, []string{"b1", "r101", "temp"}},
		{"sensors/{building}/{room}/{kind}", "sensors/b1/r101", false, nil},
		{"sensors/{building}/{room}/{kind}", "sensors/b1/r101/temp/x", false, nil},
		{"sensors/{building}/{room}/{kind}", "sensors//r101/temp", false, nil}, // a named level is never empty
		{"sensors/{building}/{room}/{kind}", "Sensors/b1/r101/temp", false, nil},
		{"devices/{device}/telemetry", "devices/ac-12/telemetry", true, []string{"ac-12"}},
		{"devices/{device}/telemetry", "devices/ac-12/telemetry/", false, nil},
		{"devices/+/x", "devices//x", true, nil},
		{"devices/{device}/#", "devices/d1", true, []string{"d1"}},
		{"devices/{device}/#", "devices/d1/a/b", true, []string{"d1"}},
		{"devices/{device}/#", "devices", false, nil},
		{"#", "anything/at/all", true, nil},
		{"#", "$SYS/broker", false, nil},
		{"{x}/y", "$SYS/y", false, nil},
		{"a", "a", true, nil},
		{"a", "a/", false, nil},
		{"a/", "a/", true, nil},
		{"a/", "a", false, nil},
	}
	for _, tt := range tests {
		p, err := ParsePattern(tt.pattern)
		if err != nil {
			t.Fatalf("ParsePattern(%q): %v", tt.pattern, err)
		}
		var vals [MaxPatternVars]string
		if got := p.Match(tt.topic, &vals); got != tt.want {
			t.Errorf("%q.Match(%q) = %v, want %v", tt.pattern, tt.topic, got, tt.want)
			continue
		}
		for i, v := range tt.vals {
			if vals[i] != v {
				t.Errorf("%q.Match(%q): var %d = %q, want %q", tt.pattern, tt.topic, i, vals[i], v)
			}
		}
	}
}

func TestPatternCovers(t *testing.T) {
	tests := []struct {
		pattern, filter string
		device          string
		want            bool
	}{
		{"devices/{device}/commands", "devices/ac-12/commands", "ac-12", true},
		{"devices/{device}/commands", "devices/ac-13/commands", "ac-12", false},
		{"devices/{device}/commands", "devices/+/commands", "ac-12", false},
		{"devices/{device}/commands", "devices/#", "ac-12", false},
		{"devices/{device}/commands", "#", "ac-12", false},
		{"devices/{device}/commands", "devices/ac-12/+", "ac-12", false},
		{"devices/{device}/commands", "devices/ac-12/commands/x", "ac-12", false},
		{"devices/{device}/commands", "devices/ac-12", "ac-12", false},
		{"devices/{device}/commands", "$share/g/devices/ac-12/commands", "ac-12", true},
		{"devices/{device}/commands", "$share/g/devices/+/commands", "ac-12", false},
		{"devices/{device}/commands", "$share/g", "ac-12", false},
		{"devices/{device}/#", "devices/ac-12/#", "ac-12", true},
		{"devices/{device}/#", "devices/ac-12/state/+", "ac-12", true},
		{"devices/{device}/#", "devices/ac-12", "ac-12", true},
		{"devices/{device}/#", "devices/ac-12x/state", "ac-12", false},
		{"devices/{device}/#", "devices/+/state", "ac-12", false},
		{"sensors/+/{room}/{device}", "sensors/b1/+/ac-12", "ac-12", true},
		{"sensors/+/{room}/{device}", "sensors/b1/+/+", "ac-12", false},
		{"#", "$SYS/broker/uptime", "x", false},
	}
	for _, tt := range tests {
		p, err := ParsePattern(tt.pattern)
		if err != nil {
			t.Fatalf("ParsePattern(%q): %v", tt.pattern, err)
		}
		if got := p.Covers(tt.filter, p.VarIndex(DeviceVar), tt.device); got != tt.want {
			t.Errorf("%q.Covers(%q, device=%q) = %v, want %v", tt.pattern, tt.filter, tt.device, got, tt.want)
		}
	}
}

func TestFilterMatches(t *testing.T) {
	tests := []struct {
		filter, topic string
		want          bool
	}{
		{"devices/ac-12/commands", "devices/ac-12/commands", true},
		{"devices/+/commands", "devices/ac-12/commands", true},
		{"devices/#", "devices/ac-12/commands", true},
		{"devices/#", "devices", true},
		{"#", "devices/ac-12/commands", true},
		{"#", "$SYS/x", false},
		{"+/x", "$SYS/x", false},
		{"devices/+", "devices/ac-12/commands", false},
		{"devices/ac-12/commands/#", "devices/ac-12/commands", true},
		{"devices/ac-12/commands", "devices/ac-12", false},
		{"$share/g/devices/+/commands", "devices/ac-12/commands", true},
		{"a/+/c", "a//c", true},
		{"", "a", false},
	}
	for _, tt := range tests {
		if got := filterMatches(tt.filter, tt.topic); got != tt.want {
			t.Errorf("filterMatches(%q, %q) = %v, want %v", tt.filter, tt.topic, got, tt.want)
		}
	}
}

// asFilter writes a pattern as the MQTT filter that matches the same topics, apart from named wildcards
// refusing empty levels.
func asFilter(p Pattern) string {
	var parts []string
	for _, l := range p.levels {
		if l.v == levelLiteral {
			parts = append(parts, l.lit)
		} else {
			parts = append(parts, "+")
		}
	}
	if p.multi {
		parts = append(parts, "#")
	}
	return strings.Join(parts, "/")
}

// FuzzPattern checks Match against filterMatches and Covers: a topic a pattern matches is matched by the
// equivalent filter and covered by the pattern (a topic is a filter without wildcards), and the pattern,
// expanded with the matched values where it is concrete, gives the topic back.
func FuzzPattern(f *testing.F) {
	f.Add("sensors/{building}/{room}/{kind}", "sensors/b1/r101/temp")
	f.Add("devices/{device}/#", "devices/d/x/y")
	f.Add("a/+/{x}", "a//b")
	f.Add("#", "$SYS/a")
	f.Fuzz(func(t *testing.T, pattern, topic string) {
		p, err := ParsePattern(pattern)
		if err != nil || topic == "" || strings.ContainsAny(topic, "+#") {
			return
		}
		var vals [MaxPatternVars]string
		matched := p.Match(topic, &vals)
		byFilter := filterMatches(asFilter(p), topic)
		if matched && !byFilter {
			t.Fatalf("%q matches %q but its filter %q does not", pattern, topic, asFilter(p))
		}
		if !matched {
			if byFilter && !strings.Contains(topic, "//") && !strings.HasPrefix(topic, "/") && !strings.HasSuffix(topic, "/") {
				t.Fatalf("filter %q matches %q (no empty level) but pattern %q does not", asFilter(p), topic, pattern)
			}
			return
		}
		if !p.Covers(topic, -1, "") {
			t.Fatalf("%q matches %q but does not cover it", pattern, topic)
		}
		if p.Concrete() {
			if got := p.Expand(vals[:len(p.Vars())]...); got != topic {
				t.Fatalf("%q expanded with %q = %q, want %q", pattern, vals[:len(p.Vars())], got, topic)
			}
		}
	})
}
