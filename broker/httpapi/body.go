package httpapi

import (
	"io"
	"strconv"

	"github.com/valyala/fasthttp"

	"github.com/zedge-io/zedge/broker"
)

// bodyRule says how a route reads its request body.
type bodyRule struct {
	// limit is the largest Content-Length accepted; larger bodies get tooLarge without being read.
	limit    int
	tooLarge *Error
	// absent is returned when the body is missing or empty; nil means the body is optional.
	absent *Error
}

// bodyRules are the body rules of the routes, built once from the limits.
type bodyRules struct {
	messages   bodyRule // message posts: Limits.MaxMessagesPostSize
	queuePut   bodyRule // queue creation metadata: Limits.MaxQueueMetadata, optional
	queuePatch bodyRule // queue metadata patches: Limits.MaxQueueMetadata, required
	optional   bodyRule // other routes: Config.MaxBodySize
	required   bodyRule
}

func newBodyRules(l broker.Limits, maxBody int) bodyRules {
	other := bodyTooLarge(maxBody)
	return bodyRules{
		messages:   bodyRule{limit: l.MaxMessagesPostSize, tooLarge: messagesTooLarge(l.MaxMessagesPostSize), absent: errEmptyBody},
		queuePut:   bodyRule{limit: l.MaxQueueMetadata, tooLarge: metadataTooLarge(l.MaxQueueMetadata)},
		queuePatch: bodyRule{limit: l.MaxQueueMetadata, tooLarge: patchTooLarge(l.MaxQueueMetadata), absent: errEmptyPatch},
		optional:   bodyRule{limit: maxBody, tooLarge: other},
		required:   bodyRule{limit: maxBody, tooLarge: other, absent: errEmptyBody},
	}
}

// drainLimit bounds how much of a body left unread (a refused oversized body, a GET with a body as
// python-zaqarclient sends) is read and discarded, a few KiB at a time, so that the connection stays usable and
// the client, still sending, sees the answer instead of a connection reset. A larger body closes the
// connection after the answer without being read.
const drainLimit = 1 << 20

var errBodyRead = &Error{Status: fasthttp.StatusBadRequest, Title: "Invalid request body",
	Description: "Request body could not be read."}

// messagesTooLarge is the post-size error of Zaqar's validator (config limit; the queue's own limit is the
// Service's).
func messagesTooLarge(limit int) *Error {
	return &Error{Status: fasthttp.StatusBadRequest, Title: "Invalid API request",
		Description: "Message collection size is too large. Max size " + strconv.Itoa(limit)}
}

func metadataTooLarge(limit int) *Error {
	return &Error{Status: fasthttp.StatusBadRequest, Title: "Invalid API request",
		Description: "Queue metadata is too large. Max size: " + strconv.Itoa(limit)}
}

func patchTooLarge(limit int) *Error {
	return &Error{Status: fasthttp.StatusBadRequest, Title: "Invalid request body",
		Description: "Queue metadata is too large. Max size: " + strconv.Itoa(limit)}
}

func bodyTooLarge(limit int) *Error {
	return &Error{Status: fasthttp.StatusBadRequest, Title: "Invalid request body",
		Description: "Request body is too large. Max size: " + strconv.Itoa(limit)}
}

// readBody returns the request body as a fresh slice the caller owns (nil when there is none) and its size.
//
// The size is decided by Content-Length before anything is read: over rule.limit the request is refused and
// the body is discarded (or, when huge, the connection closed), so an oversized body never reaches memory. A
// body without Content-Length (chunked) is refused as Falcon refuses it, even where the body is optional, so
// that no sent content is silently dropped.
func (r *request) readBody(rule bodyRule) ([]byte, int, error) {
	ctx := r.ctx
	stream := ctx.RequestBodyStream()
	cl := ctx.Request.Header.ContentLength()
	if stream == nil {
		// Not streaming (the handler runs under a server without StreamRequestBody, or in a benchmark): the
		// body was read already and its length is the truth.
		cl = len(ctx.Request.Body())
	}
	switch {
	case cl == -1: // chunked
		r.discard(stream, -1)
		return nil, 0, errEmptyBody
	case cl <= 0:
		if rule.absent != nil {
			return nil, 0, rule.absent
		}
		return nil, 0, nil
	case cl > rule.limit:
		r.discard(stream, cl)
		return nil, cl, rule.tooLarge
	}
	body := make([]byte, cl)
	if stream == nil {
		copy(body, ctx.Request.Body())
		r.bodyDone = true
		return body, cl, nil
	}
	if _, err := io.ReadFull(stream, body); err != nil {
		r.closeConn = true
		return nil, cl, errBodyRead
	}
	r.bodyDone = true
	return body, cl, nil
}

// discard reads and drops a refused body of length cl (-1: chunked) when it is small enough, else marks the
// connection for closing. Nothing is kept: memory use is one small copy buffer.
func (r *request) discard(stream io.Reader, cl int) {
	if stream == nil { // not streaming: fasthttp has read the body already
		r.bodyDone = true
		return
	}
	if cl > drainLimit {
		r.closeConn = true
		return
	}
	n, err := io.CopyN(io.Discard, stream, drainLimit+1)
	if (err == nil || err == io.EOF) && n <= drainLimit && (cl < 0 || n == int64(cl)) {
		r.bodyDone = true
		return
	}
	r.closeConn = true
}

// finishBody makes the connection safe for the next request when the handler left the body unread: a small
// rest is read and discarded, anything else closes the connection after the response.
func (r *request) finishBody() {
	ctx := r.ctx
	if r.closeConn {
		ctx.SetConnectionClose()
		return
	}
	stream := ctx.RequestBodyStream()
	if stream == nil || r.bodyDone {
		return
	}
	if cl := ctx.Request.Header.ContentLength(); cl != 0 && cl != -2 {
		r.discard(stream, cl)
	}
	if r.closeConn {
		ctx.SetConnectionClose()
	}
}
