// Package storetest holds what every store.Store backend is tested with: the conformance suite Run (the
// semantics of the store interface with a controlled clock), RunDurable (state survives Close and reopen),
// shared benchmarks (Bench), and Faulty, a wrapper that makes chosen methods fail so other packages can test
// their error paths.
//
// Backends whose storage expires data by the wall clock (Badger's TTL) are supported: the suite's fake clock
// starts at the current second and only moves forward.
package storetest
