package httpapi

import (
	"bytes"
	"crypto/sha256"
	"math/rand/v2"
	"strconv"

	"github.com/valyala/fasthttp"

	"github.com/zedge-io/zedge/broker"
)

const (
	hdrRequestID = "X-Openstack-Request-Id"
	formEncoded  = "application/x-www-form-urlencoded"
	patchType    = "application/openstack-messaging-v2.0-json-patch"
)

// hooks runs Zaqar's before-hooks in Falcon's order. Nothing here touches the store.
func (s *Server) hooks(r *request) error {
	ctx := r.ctx
	hdr := &ctx.Request.Header
	if s.auth != nil {
		if err := s.auth.Authenticate(ctx); err != nil {
			return err
		}
	}
	if err := s.guard.authenticate(r); err != nil {
		return err
	}
	// Zaqar bans form encoding whenever a Content-Length is present, comparing the whole header value. A
	// request verified by the query form of a signed URL (zedge's plain URL for devices) is exempt, so that a
	// sensor's `curl -d @reading.json URL`, which curl labels form-encoded, posts: its body is still parsed
	// as JSON.
	if hdr.ContentLength() >= 0 && !r.signedQuery && bytes.EqualFold(hdr.ContentType(), []byte(formEncoded)) {
		return errFormEncoded
	}
	if !acceptsJSON(hdr.Peek("Accept")) {
		return errNotAcceptable
	}
	if r.rt == nil || !r.rt.v2 {
		return nil
	}
	if err := s.clientID(r); err != nil {
		return err
	}
	project := hdr.Peek("X-Project-Id")
	switch {
	case len(project) > 0:
		r.caller.Project = string(project)
	case headerPresent(hdr, "X-Project-Id"):
		return errEmptyProject
	case r.authProject != "": // from the token, or from a signed URL's query form
		r.caller.Project = r.authProject
	default:
		return errMissingProject
	}
	if r.rt.queue {
		r.queue = userString(ctx, "queue_name")
		if !broker.ValidQueueName(r.queue) || !broker.ValidProjectID(r.caller.Project) {
			return errQueueIdent
		}
	}
	return nil
}

// clientID reads the Client-ID header into r.caller.
func (s *Server) clientID(r *request) error {
	hdr := &r.ctx.Request.Header
	v := hdr.Peek("Client-Id")
	if len(v) == 0 && !headerPresent(hdr, "Client-Id") {
		return errMissingClient
	}
	id, err := broker.ParseClientID(string(v))
	if s.cfg.ClientIDMode == ClientIDStrict {
		if err != nil {
			return errWrongUUID
		}
		r.caller.ClientID = id
		return nil
	}
	// Zaqar measures the header as a WSGI native string, one ISO-8859-1 character per byte: count bytes.
	if n := len(v); n < s.cfg.MinClientIDLength || n > s.cfg.MaxClientIDLength {
		return &Error{Status: fasthttp.StatusBadRequest, Title: "Length of client id must be at least " +
			strconv.Itoa(s.cfg.MinClientIDLength) + " and no greater than " + strconv.Itoa(s.cfg.MaxClientIDLength) + "."}
	}
	if err != nil {
		// Off mode accepts any string; echo filtering compares 16-byte ids, so a non-UUID id is hashed into one
		// (stable, so the same client always gets the same id).
		sum := sha256.Sum256(v)
		copy(id[:], sum[:16])
	}
	r.caller.ClientID = id
	return nil
}

// headerPresent tells a header sent empty from one not sent at all.
func headerPresent(hdr *fasthttp.RequestHeader, name string) bool {
	return len(hdr.PeekAll(name)) > 0
}

// userString returns a route parameter (the router stores copies, safe to keep).
func userString(ctx *fasthttp.RequestCtx, key string) string {
	v, _ := ctx.UserValue(key).(string)
	return v
}

// hasAdminRole reports whether the comma-separated X-Roles list has "admin" (without keystone the client's
// X-Roles decides, as in Zaqar).
func hasAdminRole(roles []byte) bool {
	for len(roles) > 0 {
		var role []byte
		if i := bytes.IndexByte(roles, ','); i >= 0 {
			role, roles = roles[:i], roles[i+1:]
		} else {
			role, roles = roles, nil
		}
		if bytes.EqualFold(bytes.TrimSpace(role), []byte("admin")) {
			return true
		}
	}
	return false
}

// maxRequestIDLength bounds an echoed X-Openstack-Request-ID.
const maxRequestIDLength = 128

// appendRequestID appends the request id: the client's X-Openstack-Request-ID when it is a sane token,
// else a fresh "req-<uuid4>" as oslo's request-id middleware makes.
func appendRequestID(dst, incoming []byte) []byte {
	if len(incoming) > 0 && len(incoming) <= maxRequestIDLength && printableToken(incoming) {
		return append(dst, incoming...)
	}
	var u [16]byte
	a, b := rand.Uint64(), rand.Uint64()
	for i := range 8 {
		u[i] = byte(a >> (8 * i))
		u[8+i] = byte(b >> (8 * i))
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	dst = append(dst, "req-"...)
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, hexDigits[c>>4], hexDigits[c&0xf])
	}
	return dst
}

func printableToken(b []byte) bool {
	for _, c := range b {
		if c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}
