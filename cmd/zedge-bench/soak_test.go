package main

import (
	"strings"
	"testing"
	"time"
)

func TestParseExpositionSumsLabels(t *testing.T) {
	text := `# HELP zedge_messages_expired_total x
# TYPE zedge_messages_expired_total counter
zedge_messages_expired_total{queue_class="a"} 3
zedge_messages_expired_total{queue_class="b"} 4.5
go_memstats_heap_inuse_bytes 1.048576e+06
bad line
`
	m := parseExposition([]byte(text))
	if m["zedge_messages_expired_total"] != 7.5 || m["go_memstats_heap_inuse_bytes"] != 1<<20 {
		t.Errorf("parsed %v", m)
	}
	if _, ok := m["bad"]; ok {
		t.Errorf("a malformed line was parsed: %v", m)
	}
}

func TestSummarizeSoak(t *testing.T) {
	sc := soakConfig{Duration: 90 * time.Second, Sample: 5 * time.Second, TTL: 60, Rate: 10_000}
	var samples []SoakSample
	for at := 5; at <= 90; at += 5 {
		live := int64(min(at, 60)) * 1000
		samples = append(samples, SoakSample{At: float64(at), LiveBytes: live, Disk: 2 * live,
			RSS: 100 << 20, Expired: int64(max(at-60, 0))})
	}
	samples[len(samples)-1].Disk = 150_000 // 2.5× the steady live set
	samples[len(samples)-1].RSS = 105 << 20
	r := summarizeSoak(samples, sc, 100, 200, 9990, 0)
	if r.LiveSet != 60_000 || r.DiskMax != 150_000 || r.DiskRatio != 2.5 || r.DiskOK {
		t.Errorf("disk: live %d max %d ratio %v ok %v", r.LiveSet, r.DiskMax, r.DiskRatio, r.DiskOK)
	}
	// 90 s with 5 s samples: the reference is one ttl in, and a 5% rise is flat.
	if r.RSSRefAt != 60 || r.RSSRef != 100<<20 || r.RSSEnd != 105<<20 || !r.RSSFlat || r.RSSSlope <= 0 {
		t.Errorf("rss: ref %v at %vs, end %v, slope %v, flat %v", r.RSSRef, r.RSSRefAt, r.RSSEnd, r.RSSSlope, r.RSSFlat)
	}
	if r.ExpiredTotal != 30 {
		t.Errorf("expired %d, want 30", r.ExpiredTotal)
	}
	note := r.note(sc)
	if r.LiveBodies != 30_000 || r.BodyRatio != 5 {
		t.Errorf("bodies: %d, ratio %v; want half the records and 5×", r.LiveBodies, r.BodyRatio)
	}
	for _, want := range []string{"2.50× live set", "(≤ 2×: NO;", "flat within 10%: yes", "200-byte records"} {
		if !strings.Contains(note, want) {
			t.Errorf("note %q lacks %q", note, want)
		}
	}
	// A 10-minute run takes its reference 2 minutes in.
	sc.Duration = 10 * time.Minute
	if r := summarizeSoak(append(samples, SoakSample{At: 600, RSS: 200 << 20}), sc, 100, 200, 1, 0); r.RSSRefAt != 90 || r.RSSFlat {
		t.Errorf("10 min: ref at %vs, flat %v; want the last sample before 2 min and not flat", r.RSSRefAt, r.RSSFlat)
	}
}

func TestSoakConfigValidate(t *testing.T) {
	sc := defaultSoakConfig()
	sc.resolve(true)
	if err := sc.validate(); err != nil || sc.Duration != 90*time.Second {
		t.Fatalf("short defaults: %v, %v", sc.Duration, err)
	}
	sc.Batch, sc.TTL = 11, 30
	if err := sc.validate(); err == nil || !strings.Contains(err.Error(), "-soak-batch") || !strings.Contains(err.Error(), "-soak-ttl") {
		t.Errorf("bad batch and ttl: %v", err)
	}
}
