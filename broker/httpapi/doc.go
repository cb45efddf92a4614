// Package httpapi is zedge's Zaqar v2 REST transport on fasthttp. It speaks the wire protocol of OpenStack
// Zaqar 15 (status codes, JSON shapes, error titles and descriptions, headers) and calls *broker.Service for
// every rule of the domain; nothing here decides what a valid message, claim or queue is.
//
// A request goes through the same steps, in Falcon's order, as in Zaqar (see /work/shared/spec §1):
//
//	route lookup          unknown path -> 404 {"title": "404 Not Found"} before anything else
//	authenticator         the signed-URL hook point (no-op until one is configured)
//	form-encoding ban     Content-Length + Content-Type application/x-www-form-urlencoded -> 400
//	Accept                must allow application/json -> else 406 with an empty body
//	Client-ID             required on /v2/ (strict: a UUID; off: a length rule)
//	X-Project-ID          required (not empty) on /v2/
//	queue identification  {queue_name} routes: name and project length
//	method                405 with Allow (or OPTIONS 200) only now, after the hooks
//	policy                admin routes need X-Roles: admin
//	handler               size checks before reading a body, then the Service, then one response writer
//
// Handlers return a reply or an error; one function writes every response, and one table (errors.go) maps
// the broker's error kinds to a status and a Zaqar title. Responses are written by hand into pooled buffers
// (no reflection on the hot path) and message bodies are copied out raw, byte for byte.
//
// Request bodies are streamed (fasthttp StreamRequestBody): a body whose Content-Length exceeds the route's
// limit is refused before it is read, and the connection is closed instead of draining it. Bodies are copied
// out of fasthttp's buffers before the Service sees them, so the Service, the store and asynchronous observers
// may keep them.
package httpapi
