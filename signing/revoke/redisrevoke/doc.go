// Package redisrevoke keeps zedge's revocation list (package revoke) in Redis, so that every node of a
// scale-out deployment on a shared Redis (store kind redis) refuses a revoked credential, whichever node or
// `zedge revoke` command revoked it.
//
// The list is one hash, by default under the key "zedge:revocations" (the store's key_prefix, a colon and
// "revocations"), with two fields:
//
//   - list: the same JSON document as revoke's file backend (revoke.Encode), so an operator can read it with
//     `redis-cli HGET zedge:revocations list`;
//   - version: the hex SHA-256 of list, changed by every write.
//
// One key is one hash slot, so the backend works unchanged on a Redis Cluster.
//
// A change is a compare-and-set: the backend reads both fields (HMGET), applies the change in Go, and stores
// the new document with a Lua script that writes only if version is still the one it read; otherwise another
// writer came first and it reads again and retries (a bounded number of times). No change is lost, and a
// reader sees the old document or the new one.
//
// A watching revoke.List polls only the version field (one HGET, a few dozen bytes) every poll interval and
// loads the list when the version differs from the one it holds. Polling, rather than pub/sub, means that a
// lost message or a reconnect cannot leave a node with a stale list beyond one interval. Because the version
// is a hash of the content, a list that was deleted and written again, or changed and changed back, is never
// mistaken for an older one with different content. Someone who edits the list field by hand must also set
// version (to any new value) for running nodes to notice.
//
// A stored document that does not parse is revoke.ErrCorrupt: loading fails (a node does not start with an
// empty list), a running List keeps its last good list and logs the error, and writes refuse to overwrite it.
// Deleting the key is an empty list.
//
// The Backend does not own its client: whoever made the client closes it after closing the List.
package redisrevoke
