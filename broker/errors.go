package broker

import (
	"errors"
	"fmt"
)

// Error kinds. Every error the Service returns wraps exactly one of them (test with errors.Is); transports map
// each kind to a status and a Zaqar error title in exactly one table (httpapi, wsapi).
var (
	ErrInvalid          = errors.New("invalid api request")            // 400 "Invalid API request"
	ErrBadBody          = errors.New("invalid request body")           // 400 "Invalid request body"
	ErrNotFound         = errors.New("not found")                      // 404 "Not found"
	ErrConflict         = errors.New("resource conflict")              // 409 "Resource conflict"
	ErrClaimed          = errors.New("message is claimed")             // 403 "Unable to delete"
	ErrCannotDelete     = errors.New("unable to delete")               // 400 "Unable to delete"
	ErrCannotUpdateSub  = errors.New("unable to update subscription")  // 400 "Unable to update subscription"
	ErrCannotConfirmSub = errors.New("unable to confirm subscription") // 400 "Unable to confirm subscription"
	ErrForbidden        = errors.New("not authorized")                 // 403 "Not authorized"
	ErrUnavailable      = errors.New("service unavailable")            // 503 "Service temporarily unavailable"

	// ErrBadQueueName: the queue name or project ID is malformed. 400 "Invalid queue identification" (Zaqar's
	// hook-level title; the description is always "The format of the submitted queue name or project id is not
	// valid."). Every queue-scoped Service method checks names itself, so a transport need not.
	ErrBadQueueName = errors.New("invalid queue identification")
	// ErrBadClientID: a Client-ID that is not a UUID (ParseClientID). 400 "Wrong UUID value".
	ErrBadClientID = errors.New("wrong uuid value")
)

// Error is a domain error: a kind (one of the sentinels above), the description a client is shown (Zaqar's
// text), and the underlying cause if any.
type Error struct {
	Kind        error
	Description string
	Err         error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%v: %s: %v", e.Kind, e.Description, e.Err)
	}
	return fmt.Sprintf("%v: %s", e.Kind, e.Description)
}

// Unwrap exposes both the kind and the cause to errors.Is and errors.As.
func (e *Error) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Kind, e.Err}
	}
	return []error{e.Kind}
}

// Errorf builds an *Error of the given kind with a formatted description.
func Errorf(kind error, format string, args ...any) *Error {
	return &Error{Kind: kind, Description: fmt.Sprintf(format, args...)}
}

// Describe returns the client-facing description of err: the Description of an *Error in its chain, or "".
func Describe(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Description
	}
	return ""
}
