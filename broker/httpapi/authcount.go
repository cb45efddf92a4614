package httpapi

import "sync/atomic"

// authCounters counts authentication outcomes by reason. A later metrics exporter reads them through
// Guard.Counters; they are padded apart so that the hot counters (the .ok ones) do not share a cache line
// with each other.
type authCounters struct {
	c [numAuthReasons]struct {
		n atomic.Uint64
		_ [56]byte
	}
}

func (a *authCounters) inc(r authReason) { a.c[r].n.Add(1) }

func (a *authCounters) snapshot() map[string]uint64 {
	m := make(map[string]uint64, numAuthReasons)
	for i := range a.c {
		m[authReasonNames[i]] = a.c[i].n.Load()
	}
	return m
}
