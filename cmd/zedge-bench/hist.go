package main

import (
	"math"
	"math/bits"
	"time"
)

// subBucketBits sets the histogram's precision: each power-of-two range of latencies is split into
// 2^subBucketBits linear sub-buckets, so a recorded value is known to within 1/128 (< 0.8 %).
const subBucketBits = 7

const (
	subBuckets = 1 << subBucketBits
	// maxTrackable caps recorded values (about 18 minutes in nanoseconds); larger ones count as the cap.
	maxTrackable = uint64(1) << 40
)

// histogramBuckets is the number of buckets needed to cover [0, maxTrackable].
var histogramBuckets = bucketIndex(maxTrackable) + 1

// Histogram is a log-linear latency histogram in the style of HdrHistogram: constant memory, O(1) recording,
// mergeable, with a bounded relative error. It is not safe for concurrent use; give each worker its own and Merge.
type Histogram struct {
	counts []uint64
	total  uint64
	min    uint64
	max    uint64
	sum    float64
}

// NewHistogram returns an empty histogram.
func NewHistogram() *Histogram {
	return &Histogram{counts: make([]uint64, histogramBuckets), min: math.MaxUint64}
}

// bucketIndex maps a value to its bucket: values below 2*subBuckets are exact, larger ones share a bucket with the
// values that agree in their top subBucketBits+1 bits.
func bucketIndex(v uint64) int {
	if v < 2*subBuckets {
		return int(v)
	}
	shift := bits.Len64(v) - subBucketBits - 1
	return shift<<subBucketBits + int(v>>shift)
}

// bucketRange returns the smallest and largest value that fall into bucket i.
func bucketRange(i int) (lo, hi uint64) {
	if i < 2*subBuckets {
		return uint64(i), uint64(i)
	}
	shift := i>>subBucketBits - 1
	m := uint64(i - shift<<subBucketBits)
	return m << shift, (m+1)<<shift - 1
}

// Record adds one latency.
func (h *Histogram) Record(d time.Duration) {
	v := uint64(0)
	if d > 0 {
		v = uint64(d)
	}
	if v > maxTrackable {
		v = maxTrackable
	}
	h.counts[bucketIndex(v)]++
	h.total++
	h.sum += float64(v)
	h.min = min(h.min, v)
	h.max = max(h.max, v)
}

// Merge adds every value recorded in o.
func (h *Histogram) Merge(o *Histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
	h.sum += o.sum
	h.min = min(h.min, o.min)
	h.max = max(h.max, o.max)
}

// Count is the number of recorded values.
func (h *Histogram) Count() uint64 { return h.total }

// Percentile returns the value at or below which q percent of the recorded values lie (q in [0, 100]), as the
// highest value equivalent to its bucket, clamped to the exact maximum; 0 when empty.
func (h *Histogram) Percentile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	q = min(max(q, 0), 100)
	rank := uint64(math.Ceil(q / 100 * float64(h.total)))
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			_, hi := bucketRange(i)
			return time.Duration(min(hi, h.max))
		}
	}
	return time.Duration(h.max)
}

// Min is the smallest recorded value (0 when empty).
func (h *Histogram) Min() time.Duration {
	if h.total == 0 {
		return 0
	}
	return time.Duration(h.min)
}

// Max is the largest recorded value.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max) }

// Mean is the average recorded value.
func (h *Histogram) Mean() time.Duration {
	if h.total == 0 {
		return 0
	}
	return time.Duration(h.sum / float64(h.total))
}

// LatencySummary is the part of a histogram a report shows, in microseconds for JSON.
type LatencySummary struct {
	Count  uint64  `json:"count"`
	MinUS  float64 `json:"min_us"`
	MeanUS float64 `json:"mean_us"`
	P50US  float64 `json:"p50_us"`
	P90US  float64 `json:"p90_us"`
	P99US  float64 `json:"p99_us"`
	P999US float64 `json:"p99_9_us"`
	MaxUS  float64 `json:"max_us"`
}

// Summary computes the reported percentiles.
func (h *Histogram) Summary() LatencySummary {
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	return LatencySummary{
		Count:  h.total,
		MinUS:  us(h.Min()),
		MeanUS: us(h.Mean()),
		P50US:  us(h.Percentile(50)),
		P90US:  us(h.Percentile(90)),
		P99US:  us(h.Percentile(99)),
		P999US: us(h.Percentile(99.9)),
		MaxUS:  us(h.Max()),
	}
}
