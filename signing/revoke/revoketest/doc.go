// Package revoketest is the conformance suite of revoke.Backend implementations: one set of tests, run by
// each backend's own test package against real storage (a file in t.TempDir(), a private redis-server), so
// that the file and the Redis backend are held to the same behaviour: what one List writes another List on
// the same storage reads and its Watch picks up, concurrent writers from several Lists lose nothing, a stored
// list that does not parse keeps the last good one, Remove, expiry pruning and MaxEntries.
package revoketest
