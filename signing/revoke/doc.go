// Package revoke is zedge's revocation list: signed URLs and tokens an operator has withdrawn before they
// expire. A Backend keeps the list so that it survives restarts and is shared with the other processes that
// change it, and each List holds it in memory as an immutable snapshot, so that the request path looks up a
// credential with a map access, no lock and no I/O.
//
// # What can be revoked
//
//   - A signed URL, by the fingerprint of its signature (signing.Fingerprint: hex SHA-256). The signature
//     itself is a bearer credential and is never written down; Revoke accepts it and stores its fingerprint.
//   - A token, by its jti.
//   - Every token of a subject issued up to the moment of revocation: a token whose iat is at or before the
//     revocation time (or that has no iat) is refused, and tokens issued later are accepted again, so a device
//     whose token leaked gets a new one with `zedge token` and the old ones stop working. iat has whole
//     seconds, so a token issued in the same second as the revocation is refused too.
//
// Rotating the URL-signing key (signing's KeyRing) withdraws every URL of the old key at once; it is
// configuration, not an entry of this list.
//
// An entry may carry an expiry: once the credential it names has expired on its own (plus MaxLeeway, the
// largest clock skew a verifier allows), the entry is dropped on the next write. An entry without one is kept
// until it is removed.
//
// # Backends
//
//   - File (Open, NewFile): one small JSON file, by default revocations.json in the data directory, for a
//     single node. Each change is a read-modify-write of the whole file under an exclusive advisory lock on a
//     sibling file (<file>.lock, flock), written to a temporary file, synced and renamed over the old one, so
//     a reader sees either the old list or the new one and no change is lost.
//   - Redis (package redisrevoke): the same JSON document in one Redis hash beside the store's keys, for the
//     nodes of a scale-out deployment; a change is a compare-and-set on a version field. It lives in its own
//     package so that this one does not depend on a Redis client.
//
// Package revoketest is the conformance suite both are tested with.
//
// # Several writers, one watcher per server
//
// The running server (through its admin route), the `zedge revoke` command and, with Redis, the other nodes
// may all change the list; Backend.Update makes each change atomic, so none is lost. A server's Watch polls
// the backend (Backend.Changed: a stat, or one HGET of the version, every PollInterval, at most one second)
// and swaps in a new snapshot when the list changed, so a revocation made anywhere is refused everywhere
// within a second. A stored list that fails to parse, or a backend that does not answer, is logged and
// ignored, keeping the last good list, because falling back to an empty list would silently re-enable revoked
// credentials; for the same reason New fails rather than start with an empty list.
package revoke
