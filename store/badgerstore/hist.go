package badgerstore

import (
	"math"
	"sync/atomic"
	"time"
)

// Histogram is a snapshot of one of the store's histograms, in the shape Prometheus exports: Buckets[i]
// counts the observations ≤ UpperBounds[i] (cumulative), Count all of them and Sum their total.
type Histogram struct {
	UpperBounds []float64
	Buckets     []uint64
	Count       uint64
	Sum         float64
}

// Bucket bounds of the commit histograms.
var (
	// commitRecordBounds are records per committed group: posts of single messages from a few dozen
	// connections make groups of 20-40 records; batches of 10 and MQTT floods make hundreds.
	commitRecordBounds = []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096}
	// commitSecondBounds are a group's write-and-fsync times: an fsync takes about 350 µs on the reference
	// machine's disk, and tens of milliseconds when it is busy.
	commitSecondBounds = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1}
)

// histogram is a fixed-bucket histogram updated with atomics: one committer writes it, scrapes read it.
type histogram struct {
	bounds []float64
	counts []atomic.Uint64 // per bucket (not cumulative); the last one is +Inf
	count  atomic.Uint64
	sumBit atomic.Uint64 // float64 bits of the sum
}

func newHistogram(bounds []float64) *histogram {
	return &histogram{bounds: bounds, counts: make([]atomic.Uint64, len(bounds)+1)}
}

func (h *histogram) observe(v float64) {
	i := 0
	for i < len(h.bounds) && v > h.bounds[i] {
		i++
	}
	h.counts[i].Add(1)
	for {
		old := h.sumBit.Load()
		if h.sumBit.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+v)) {
			break
		}
	}
	h.count.Add(1)
}

// snapshot reads the histogram; with a concurrent observe it may be off by that one observation between the
// buckets and the count, which Prometheus tolerates.
func (h *histogram) snapshot() Histogram {
	s := Histogram{UpperBounds: h.bounds, Buckets: make([]uint64, len(h.bounds))}
	var cum uint64
	for i := range h.bounds {
		cum += h.counts[i].Load()
		s.Buckets[i] = cum
	}
	s.Count = cum + h.counts[len(h.bounds)].Load()
	s.Sum = math.Float64frombits(h.sumBit.Load())
	return s
}

// commitObserver records each committed group's size and its write (and, in sync mode, fsync) time.
type commitObserver struct {
	records, seconds *histogram
}

func newCommitObserver() *commitObserver {
	return &commitObserver{records: newHistogram(commitRecordBounds), seconds: newHistogram(commitSecondBounds)}
}

func (o *commitObserver) observe(records int, took time.Duration) {
	o.records.observe(float64(records))
	o.seconds.observe(took.Seconds())
}
