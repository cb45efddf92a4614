package main

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBucketsRoundTrip(t *testing.T) {
	prevHi := uint64(0)
	for i := 0; i < histogramBuckets; i++ {
		lo, hi := bucketRange(i)
		if i > 0 && lo != prevHi+1 {
			t.Fatalf("bucket %d starts at %d, previous ended at %d: gap or overlap", i, lo, prevHi)
		}
		if bucketIndex(lo) != i || bucketIndex(hi) != i {
			t.Fatalf("bucket %d = [%d, %d] but the bounds map to %d and %d", i, lo, hi, bucketIndex(lo), bucketIndex(hi))
		}
		if lo >= 2*subBuckets && float64(hi-lo+1)/float64(lo) > 1.0/subBuckets {
			t.Fatalf("bucket %d = [%d, %d] is wider than 1/%d of its values", i, lo, hi, subBuckets)
		}
		prevHi = hi
	}
	if prevHi < maxTrackable {
		t.Fatalf("buckets end at %d, below the cap %d", prevHi, maxTrackable)
	}
}

// exactPercentile is the nearest-rank percentile of sorted values.
func exactPercentile(sorted []time.Duration, q float64) time.Duration {
	rank := int(math.Ceil(q / 100 * float64(len(sorted))))
	return sorted[max(rank, 1)-1]
}

func TestPercentilesMatchSortedSamples(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	dists := map[string]func() time.Duration{
		"uniform-us": func() time.Duration { return time.Duration(rng.IntN(1000)) * time.Microsecond },
		"lognormal-ms": func() time.Duration {
			return time.Duration(math.Exp(rng.NormFloat64()*1.5) * float64(time.Millisecond))
		},
		"tiny-ns": func() time.Duration { return time.Duration(rng.IntN(300)) },
	}
	for name, gen := range dists {
		t.Run(name, func(t *testing.T) {
			h := NewHistogram()
			var samples []time.Duration
			for range 20000 {
				d := gen()
				samples = append(samples, d)
				h.Record(d)
			}
			slices.Sort(samples)
			for _, q := range []float64{0, 1, 50, 90, 99, 99.9, 100} {
				want := exactPercentile(samples, q)
				got := h.Percentile(q)
				// The histogram reports its bucket's upper bound: never below the exact value, at most 1/128 above.
				if got < want || float64(got-want) > float64(want)/subBuckets+1 {
					t.Errorf("p%v = %v, exact %v", q, got, want)
				}
			}
			if h.Max() != samples[len(samples)-1] || h.Min() != samples[0] || h.Count() != uint64(len(samples)) {
				t.Errorf("min/max/count = %v/%v/%d, want %v/%v/%d", h.Min(), h.Max(), h.Count(),
					samples[0], samples[len(samples)-1], len(samples))
			}
		})
	}
}

func TestMergeEqualsRecordingTogether(t *testing.T) {
	a, b, both := NewHistogram(), NewHistogram(), NewHistogram()
	for i := range 5000 {
		d := time.Duration(i*i) * time.Nanosecond
		if i%3 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
		both.Record(d)
	}
	a.Merge(b)
	if a.Summary() != both.Summary() {
		t.Errorf("merged %+v, recorded together %+v", a.Summary(), both.Summary())
	}
}

func TestEmptyAndExtremeValues(t *testing.T) {
	h := NewHistogram()
	if h.Percentile(99) != 0 || h.Min() != 0 || h.Mean() != 0 {
		t.Errorf("empty histogram: p99 %v min %v mean %v", h.Percentile(99), h.Min(), h.Mean())
	}
	h.Record(-time.Second) // a clock step backwards counts as zero
	h.Record(time.Hour)    // beyond the cap counts as the cap
	if h.Percentile(0) != 0 || h.Percentile(100) != time.Duration(maxTrackable) {
		t.Errorf("p0 %v p100 %v", h.Percentile(0), h.Percentile(100))
	}
}

func BenchmarkRecord(b *testing.B) {
	h := NewHistogram()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		h.Record(time.Duration(i%100000) * time.Microsecond)
	}
}
