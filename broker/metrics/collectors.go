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
