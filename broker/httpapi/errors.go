package httpapi

import (
	"errors"

	"github.com/valyala/fasthttp"

	"github.com/zedge-io/zedge/broker"
)

// Error is a transport-level failure with its exact Zaqar response: a status, a title and an optional
// description. Hooks and handlers return it for problems of HTTP syntax (headers, query parameters, body
// presence and size); the Service's domain errors go through kindTable instead.
type Error struct {
	Status      int
	Title       string
	Description string
	// NoBody sends the status with an empty body (Falcon's 406).
	NoBody bool
	// Keystone writes Keystone's error shape instead of Falcon's, {"error": {"code": 401, "title": ...,
	// "message": ...}} with Description as the message, and a 401 gets a WWW-Authenticate challenge.
	Keystone bool
}

func (e *Error) Error() string {
	if e.Description == "" {
		return e.Title
	}
	return e.Title + ": " + e.Description
}

// ErrRouteNotFound is Falcon's bare 404, used for unknown routes and for every signed-URL failure: an
// Authenticator returns it to refuse a request without telling why.
var ErrRouteNotFound = &Error{Status: fasthttp.StatusNotFound, Title: "404 Not Found"}

// kindTable maps each broker error kind to its HTTP status and Zaqar title: the one place where domain
// errors become HTTP. Anything not listed is a 500.
var kindTable = []struct {
	kind   error
	status int
	title  string
}{
	{broker.ErrInvalid, fasthttp.StatusBadRequest, "Invalid API request"},
	{broker.ErrBadBody, fasthttp.StatusBadRequest, "Invalid request body"},
	{broker.ErrNotFound, fasthttp.StatusNotFound, "Not found"},
	{broker.ErrConflict, fasthttp.StatusConflict, "Resource conflict"},
	{broker.ErrClaimed, fasthttp.StatusForbidden, "Unable to delete"},
	{broker.ErrCannotDelete, fasthttp.StatusBadRequest, "Unable to delete"},
	{broker.ErrCannotUpdateSub, fasthttp.StatusBadRequest, "Unable to update subscription"},
	{broker.ErrCannotConfirmSub, fasthttp.StatusBadRequest, "Unable to confirm subscription"},
	{broker.ErrForbidden, fasthttp.StatusForbidden, "Not authorized"},
	{broker.ErrUnavailable, fasthttp.StatusServiceUnavailable, "Service temporarily unavailable"},
	{broker.ErrBadQueueName, fasthttp.StatusBadRequest, "Invalid queue identification"},
	{broker.ErrBadClientID, fasthttp.StatusBadRequest, "Wrong UUID value"},
}

const internalErrorTitle = "Internal server error"

// errorResponse resolves err into what is written: a transport *Error as is, a broker kind through kindTable
// with broker.Describe as the description, anything else as a 500.
func errorResponse(err error) *Error {
	var he *Error
	if errors.As(err, &he) {
		return he
	}
	desc := broker.Describe(err)
	for _, k := range kindTable {
		if errors.Is(err, k.kind) {
			return &Error{Status: k.status, Title: k.title, Description: desc}
		}
	}
	return &Error{Status: fasthttp.StatusInternalServerError, Title: internalErrorTitle, Description: desc}
}

// Transport errors with Zaqar's exact texts.
var (
	errFormEncoded = &Error{Status: fasthttp.StatusBadRequest, Title: "Invalid Content-Type",
		Description: "Endpoint does not accept `application/x-www-form-urlencoded` content; currently supported " +
			"media type is `application/json`; specify proper client-side media type with the \"Content-Type\" header."}
	errNotAcceptable  = &Error{Status: fasthttp.StatusNotAcceptable, NoBody: true}
	errMissingClient  = &Error{Status: fasthttp.StatusBadRequest, Title: "Missing header value", Description: `The "Client-ID" header is required.`}
	errWrongUUID      = &Error{Status: fasthttp.StatusBadRequest, Title: "Wrong UUID value", Description: "Malformed hexadecimal UUID."}
	errEmptyProject   = &Error{Status: fasthttp.StatusBadRequest, Title: "Empty project header not allowed", Description: "X-PROJECT-ID cannot be an empty string. Specify the right header X-PROJECT-ID and retry."}
	errMissingProject = &Error{Status: fasthttp.StatusBadRequest, Title: "Project-Id Missing", Description: "The header X-PROJECT-ID was missing"}
	errQueueIdent     = &Error{Status: fasthttp.StatusBadRequest, Title: "Invalid queue identification", Description: "The format of the submitted queue name or project id is not valid."}
	errNotAuthorized  = &Error{Status: fasthttp.StatusForbidden, Title: "Not authorized", Description: "You are not authorized to complete this action."}
	errMethodNotAllow = &Error{Status: fasthttp.StatusMethodNotAllowed, Title: "405 Method Not Allowed"}
	errEmptyBody      = &Error{Status: fasthttp.StatusBadRequest, Title: "Invalid request body", Description: "Request body can not be empty"}
	errEmptyPatch     = &Error{Status: fasthttp.StatusBadRequest, Title: "Invalid request body", Description: "PATCH body could not be empty for update."}
	errPatchMediaType = &Error{Status: fasthttp.StatusUnsupportedMediaType,
		Title: "Accepted media type for PATCH: {'Accept-Patch': 'application/openstack-messaging-v2.0-json-patch'}."}
	errNoSigningKey = &Error{Status: fasthttp.StatusBadRequest, Title: "Invalid API request", Description: "The `key` can't be None"}
)
