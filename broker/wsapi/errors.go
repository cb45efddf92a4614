package wsapi

import (
	"errors"
	"github.com/zedge-io/zedge/internal/jsonw"
	"net/http"

	"github.com/zedge-io/zedge/broker"
)

// reply is an action's answer: the status of the response envelope's headers and its JSON body.
type reply struct {
	status int
	body   []byte
}

// textReply answers with a JSON string body, as Zaqar does for "Queue q created." and the like.
func textReply(status int, text string) reply {
	return reply{status: status, body: jsonw.AppendString(nil, text)}
}

// emptyObject is the {} body of Zaqar's 204 answers.
var emptyObject = []byte("{}")

// protocolError is an error of the protocol layer: {"error": text}.
func protocolError(status int, text string) reply {
	b := append([]byte(`{"error": `), jsonw.AppendString(nil, text)...)
	return reply{status: status, body: append(b, '}')}
}

// Protocol-layer answers with Zaqar's texts.
var (
	errSchema           = protocolError(http.StatusBadRequest, "Schema validation failed.")
	errNotObject        = protocolError(http.StatusBadRequest, "Unexpected body type. Expected dict or dict like.")
	errNotAuthentified  = protocolError(http.StatusForbidden, "Not authentified.")
	errNotAuthenticated = protocolError(http.StatusForbidden, "Not authenticated.")
	errAuthFailed       = protocolError(http.StatusUnauthorized, "Authentication failed.")
)

// kindTable maps each broker error kind to its websocket status, the one place where domain errors become
// websocket answers. Endpoint errors have Zaqar's body {"exception": <description>, "error": <summary>}; Zaqar
// leaves the summary null for validation failures and sets it for the others, so summary says whether the
// description is repeated there. Anything not listed is a 500 with the summary "Unexpected error.".
var kindTable = []struct {
	kind    error
	status  int
	summary bool
}{
	{broker.ErrInvalid, http.StatusBadRequest, false},
	{broker.ErrBadBody, http.StatusBadRequest, false},
	{broker.ErrBadQueueName, http.StatusBadRequest, false},
	{broker.ErrBadClientID, http.StatusBadRequest, false},
	{broker.ErrNotFound, http.StatusNotFound, true},
	{broker.ErrConflict, http.StatusConflict, true},
	{broker.ErrClaimed, http.StatusForbidden, true},
	{broker.ErrCannotDelete, http.StatusBadRequest, true},
	{broker.ErrCannotUpdateSub, http.StatusBadRequest, true},
	{broker.ErrCannotConfirmSub, http.StatusBadRequest, true},
	{broker.ErrForbidden, http.StatusForbidden, true},
	{broker.ErrUnavailable, http.StatusServiceUnavailable, true},
}

// errorReply resolves a Service error through kindTable.
func errorReply(err error) reply {
	desc := broker.Describe(err)
	for _, k := range kindTable {
		if errors.Is(err, k.kind) {
			if k.summary {
				return endpointError(k.status, desc, desc)
			}
			return endpointError(k.status, desc, "")
		}
	}
	if desc == "" {
		desc = "internal error" // never the text of an unexpected error: it may name internals
	}
	return endpointError(http.StatusInternalServerError, desc, "Unexpected error.")
}

// endpointError writes {"exception": exception, "error": summary or null}.
func endpointError(status int, exception, summary string) reply {
	b := append([]byte(`{"exception": `), jsonw.AppendString(nil, exception)...)
	b = append(b, `, "error": `...)
	if summary == "" {
		b = append(b, "null"...)
	} else {
		b = jsonw.AppendString(b, summary)
	}
	return reply{status: status, body: append(b, '}')}
}
