package revoke

import "context"

// Version names one stored state of the list. Only the Backend that returned it interprets it; nil is
// "nothing stored" (no file, no key).
type Version any

// Backend is where a List keeps its entries between restarts and shares them with other processes: a file
// (File, for one node) or a Redis value (package redisrevoke, for the nodes of a scale-out deployment). A
// List calls it only to load, to change and to poll, never on the request path.
//
// The conformance suite in package revoketest checks an implementation.
type Backend interface {
	// Load reads the stored list and its version. Nothing stored is an empty list with a nil Version. A stored
	// list that does not parse fails with ErrCorrupt.
	Load(ctx context.Context) ([]Entry, Version, error)
	// Update is one atomic read-modify-write: fn gets the list as stored now (whoever wrote it last), and its
	// result is stored unless another writer changed the list in between, so no writer's change is lost. A
	// backend may call fn again with the newer list after such a conflict; fn may modify its argument. When fn
	// fails nothing is stored and its error is returned. Update returns what it stored and its version. A
	// stored list that does not parse is not overwritten: Update fails with ErrCorrupt.
	Update(ctx context.Context, fn func([]Entry) ([]Entry, error)) ([]Entry, Version, error)
	// Changed reports whether the stored list may differ from the one at version v. It is called every
	// PollInterval by every watching List, so it must be cheap (a stat, a GET).
	Changed(ctx context.Context, v Version) (bool, error)
	// String says where the list lives, for logs: "file /var/lib/zedge/revocations.json".
	String() string
}
