// Package store defines zedge's persistence contract: the queue-shaped Store interface, its record types and
// its sentinel errors. Backends live in subpackages (memstore, badgerstore) and all pass the same conformance
// suite, storetest.Run.
//
// The interface is shaped by what must be atomic, not by a generic key-value model: a backend makes PostMessages,
// CreateClaim (with dead-lettering), DeleteMessage (with claim rules) and PopMessages atomic in its own way, so a
// distributed backend can run each one as a single script on one shard. Times are explicit (now parameters) so
// tests control the clock; IDs and markers are opaque strings owned by the backend.
package store
