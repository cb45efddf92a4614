package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// CounterMap exports a component's named counters (such as the guard's refusals by reason) as one counter
// with a label, read at scrape time. name is the full metric name; fn returns every counter, and its key set
// must be fixed (it is the label's value set).
func (m *Metrics) CounterMap(name, help, label string, fn func() map[string]uint64) {
	m.reg.MustRegister(&mapCollector{desc: prometheus.NewDesc(name, help, []string{label}, nil), fn: fn})
}

// HistogramFunc exports a histogram kept by a component, read at scrape time: fn returns the observation
// count, their sum, and the cumulative count at each upper bound (the bounds must not change between calls).
func (m *Metrics) HistogramFunc(name, help string, fn func() (count uint64, sum float64, buckets map[float64]uint64)) {
	m.reg.MustRegister(&histogramCollector{desc: prometheus.NewDesc(name, help, nil, nil), fn: fn})
}

type histogramCollector struct {
	desc *prometheus.Desc
	fn   func() (uint64, float64, map[float64]uint64)
}

func (c *histogramCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *histogramCollector) Collect(ch chan<- prometheus.Metric) {
	count, sum, buckets := c.fn()
	ch <- prometheus.MustNewConstHistogram(c.desc, count, sum, buckets)
}

// CounterFunc exports a monotonic count read at scrape time.
func (m *Metrics) CounterFunc(name, help string, fn func() float64) {
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, fn))
}

// GaugeFunc exports a level read at scrape time.
func (m *Metrics) GaugeFunc(name, help string, fn func() float64) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, fn))
}

type mapCollector struct {
	desc *prometheus.Desc
	fn   func() map[string]uint64
}

func (c *mapCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *mapCollector) Collect(ch chan<- prometheus.Metric) {
	for k, v := range c.fn() {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(v), k)
	}
}
