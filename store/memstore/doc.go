// Package memstore is zedge's in-memory store: the shared queue engine with no persistence. It is the
// reference for the store semantics (it passes storetest.Run) and the store of unit tests; everything is lost
// when the process ends.
package memstore
