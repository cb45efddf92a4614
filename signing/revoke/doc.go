// Package revoke is zedge's revocation list: signed URLs and tokens an operator has withdrawn before they
// expire. It keeps the list in one small JSON file (by default revocations.json in the data directory) so that
// it survives restarts, and in memory as an immutable snapshot so that the request path looks up a credential
// with a map access and no lock.
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
// # Several writers, one reader per server
//
// The running server (through its admin route) and the `zedge revoke` command may both change the file. Each
// change is a read-modify-write of the whole file under an exclusive advisory lock on a sibling file
// (<file>.lock, flock), written to a temporary file, synced and renamed over the old one, so a reader sees
// either the old list or the new one and no change is lost. The server's Watch polls the file (a stat every
// PollInterval, at most one second) and swaps in a new snapshot when the file was replaced; a file that
// fails to parse is logged and ignored, keeping the last good list, because falling back to an empty list
// would silently re-enable revoked credentials.
package revoke
