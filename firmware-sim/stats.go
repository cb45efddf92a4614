package firmwaresim

import (
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// flow tracks one kind of upstream data (MQTT telemetry or signed-URL readings) by identity: what was
// produced, what the broker acknowledged, and how long acknowledgements took.
type flow struct {
	sent      atomic.Int64 // unique items produced
	acked     atomic.Int64 // unique items acknowledged (PUBACK / 201)
	attempts  atomic.Int64 // publishes or posts, retries included
	failures  atomic.Int64 // attempts that failed (and were retried or kept)
	dropped   atomic.Int64 // items a full outbox pushed out (counted, never silent)
	rejected  atomic.Int64 // items the broker refused for good
	mu        sync.Mutex
	ackedIDs  map[string]struct{}
	latencies latencySample
}

func newFlow() *flow {
	return &flow{ackedIDs: map[string]struct{}{}, latencies: newLatencySample(200_000)}
}

func (f *flow) ack(id string, took time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, dup := f.ackedIDs[id]; dup {
		return
	}
	f.ackedIDs[id] = struct{}{}
	f.acked.Add(1)
	f.latencies.add(took)
}

func (f *flow) ackedSet() map[string]struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]struct{}, len(f.ackedIDs))
	for k := range f.ackedIDs {
		out[k] = struct{}{}
	}
	return out
}

// latencySample keeps up to max durations (reservoir sampling past that), for percentiles.
type latencySample struct {
	max  int
	seen int
	d    []time.Duration
}

func newLatencySample(max int) latencySample { return latencySample{max: max} }

func (s *latencySample) add(d time.Duration) {
	s.seen++
	if len(s.d) < s.max {
		s.d = append(s.d, d)
		return
	}
	if i := rand.IntN(s.seen); i < s.max {
		s.d[i] = d
	}
}

// Percentiles are latency figures in milliseconds.
type Percentiles struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

func (s *latencySample) percentiles() Percentiles {
	if len(s.d) == 0 {
		return Percentiles{}
	}
	d := slices.Clone(s.d)
	slices.Sort(d)
	at := func(q float64) float64 {
		i := int(q * float64(len(d)-1))
		return float64(d[i].Microseconds()) / 1000
	}
	return Percentiles{Count: s.seen, P50: at(0.50), P90: at(0.90), P99: at(0.99), Max: at(1)}
}

// commandLog tracks commands the sim posted and what became of them.
type commandLog struct {
	mu        sync.Mutex
	sent      map[string]sentCommand // message id → what and when
	acked     map[string]time.Time   // message id → first acknowledgement
	delivered map[string]time.Time   // message id → when a device first received (and PUBACKed) it
	records   int64                  // status records read from cmd-results while running
	final     int64                  // status records in cmd-results at the end (the full relisting)
	byApp     int64                  // deliveries of commands posted by others ("by":"app")
}

type sentCommand struct {
	device string
	by     string
	at     time.Time
}

func newCommandLog() *commandLog {
	return &commandLog{sent: map[string]sentCommand{}, acked: map[string]time.Time{}, delivered: map[string]time.Time{}}
}

func (l *commandLog) posted(id, device, by string, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sent[id] = sentCommand{device: device, by: by, at: at}
}

func (l *commandLog) deliveredTo(id, by string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, dup := l.delivered[id]; dup {
		return
	}
	l.delivered[id] = time.Now()
	if by == "app" {
		l.byApp++
	}
}

// result notes one status record from cmd-results.
func (l *commandLog) result(id string, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.records++
	if _, dup := l.acked[id]; dup {
		return
	}
	l.acked[id] = at
}

// finalResult notes a record of the final relisting of cmd-results: the authoritative count, and any
// acknowledgement the live watcher missed.
func (l *commandLog) finalResult(id string, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.final++
	if _, seen := l.acked[id]; seen {
		return
	}
	l.acked[id] = at
}

// latency is post → the device's PUBACK (both on the sim's clock) of the commands the sim sent and a device
// received; the status record follows the PUBACK by one store write.
func (l *commandLog) latency() Percentiles {
	l.mu.Lock()
	defer l.mu.Unlock()
	sample := newLatencySample(200_000)
	for id, s := range l.sent {
		if at, ok := l.delivered[id]; ok {
			sample.add(max(0, at.Sub(s.at)))
		}
	}
	return sample.percentiles()
}

// counts: sent, delivered (of those sent), acked (of those sent).
func (l *commandLog) counts() (sent, delivered, acked int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for id := range l.sent {
		if _, ok := l.delivered[id]; ok {
			delivered++
		}
		if _, ok := l.acked[id]; ok {
			acked++
		}
	}
	return int64(len(l.sent)), delivered, acked
}
