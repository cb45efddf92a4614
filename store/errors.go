package store

import "errors"

// Sentinel errors. Backends wrap them with %w; callers test them with errors.Is.
var (
	// ErrNotFound: the queue, claim or subscription does not exist (or has expired).
	ErrNotFound = errors.New("not found")
	// ErrConflict: the change collides with existing state (a duplicate subscriber).
	ErrConflict = errors.New("conflict")
	// ErrClaimed: the message is under a live claim that the caller does not hold.
	ErrClaimed = errors.New("message is claimed")
	// ErrNotClaimed: a claim was named but the message is not under a live claim.
	ErrNotClaimed = errors.New("message is not claimed")
	// ErrClaimNotFound: the named claim does not exist or has expired.
	ErrClaimNotFound = errors.New("claim does not exist or has expired")
	// ErrClosed: the store has been closed.
	ErrClosed = errors.New("store closed")
	// ErrUnavailable: the backend cannot serve the request now (I/O failure, unreachable server).
	ErrUnavailable = errors.New("store unavailable")
)
