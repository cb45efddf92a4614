// Package httpapi is zedge's Zaqar v2 REST transport on fasthttp. It speaks the wire protocol of OpenStack
// Zaqar 15 (status codes, JSON shapes, error titles and descriptions, headers) and calls *broker.Service for
// every rule of the domain; nothing here decides what a valid message, claim or queue is.
//
// A request goes through the same steps, in Falcon's order, as in Zaqar (see /work/shared/spec §1):
//
//	route lookup          unknown path -> 404 {"title": "404 Not Found"} before anything else
//	authentication        the Guard: signed-URL credentials must verify (else a bare 404); in jwt mode every
//	                      other request under /v2/ needs a bearer token (else 401, or 403 for another project)
//	form-encoding ban     Content-Length + Content-Type application/x-www-form-urlencoded -> 400
//	Accept                must allow application/json -> else 406 with an empty body
//	Client-ID             required on /v2/ (strict: a UUID; off: a length rule)
//	X-Project-ID          required (not empty) on /v2/; without the header, the token's project or the signed
//	                      URL's project query parameter
//	queue identification  {queue_name} routes: name and project length
//	method                405 with Allow (or OPTIONS 200) only now, after the hooks; an OPTIONS that fails any
//	                      step, unknown path included, is a bare 200 (Zaqar's oslo CORS layer does that)
//	policy                admin routes need the admin role (X-Roles in noauth mode, the token's roles in jwt
//	                      mode); a token with a queues claim reaches only those queues
//	handler               size checks before reading a body, then the Service, then one response writer
//
// Handlers return a reply or an error; one function writes every response, and one table (errors.go) maps
// the broker's error kinds to a status and a Zaqar title. Responses are written by hand into pooled buffers
// (no reflection on the hot path) and message bodies are copied out raw, byte for byte.
//
// # Authentication
//
// AuthConfig.Mode is "none" (Zaqar's noauth: X-Project-ID and X-Roles are trusted) or "jwt". The Guard
// (NewGuard, WithGuard) holds the URL-signing keys and token keys of signing.Config and a revocation list.
//
// Signed URLs work in both modes, as in Zaqar. POST /v2/queues/{q}/share issues one (spec §6.9). A request
// presents it in the URL-Signature, URL-Expires, URL-Methods and URL-Paths headers (Zaqar's form) or as the
// signature, expires, methods and paths query parameters, so that a sensor can be handed one plain URL; that
// query form may also carry project=<id>, used as the project when X-Project-ID is absent (when both are sent
// they must agree). Client-ID is still required, and a request verified by the query form is exempt from the
// form-encoding ban, so that `curl -d @reading.json URL` (which curl labels form-encoded) posts; its body is
// still parsed as JSON. Credentials in both forms at once are refused. A request with
// credentials needs no token (Zaqar's bypass rule) but must verify: method granted, path covered (a grant for
// .../messages covers .../messages/{id}, never another queue or project; the path checked is the raw one the
// router dispatches on, so a %2F or dot segment cannot make it read as another queue's), not expired,
// signature valid, not revoked. Every failure is Zaqar's bare 404, before any store work; a signed request in
// jwt mode has no roles.
//
// In jwt mode a token comes in X-Auth-Token (OpenStack's header) or Authorization: Bearer (both may be sent
// if they agree). Missing, malformed, expired, not yet valid, badly signed, wrongly algorithmed or revoked
// tokens get 401 in Keystone's shape, {"error": {"code": 401, "title": "Unauthorized", "message": ...}}, with
// WWW-Authenticate: Bearer realm="zedge". The token's project_id is the request's project when X-Project-ID
// is absent; a different X-Project-ID is a 403 unless the token has the admin role. GET / needs no token;
// everything under /v2/ does (the /healthz and /readyz probes are outside the API and stay open; an unknown
// path is a 404 before any authentication, as every unknown route is). Verified
// tokens are cached by their text (bounded), so a device reusing its token pays for one signature check;
// expiry, revocation, project and role are checked on every request.
//
// Revocation (zedge's extension, not a Zaqar route): GET and POST /v2/revocations, admin only, list and add
// entries of the revocation list (signing/revoke): {"signature": ...} or {"fingerprint": ...} for a signed
// URL, {"jti": ...} for one token, {"subject": ...} for every token of a subject issued until now, each with an
// optional "expires" and "reason". The route exists when the Guard has a revocation list.
//
// Guard.Counters counts every outcome by reason (signed_url.expired, token.wrong_project, ...), for a metrics
// exporter; refusals are logged at debug level with the reason and never with the signature or token, and
// the access log replaces a signature query parameter with [redacted].
//
// Request bodies are streamed (fasthttp StreamRequestBody): a body whose Content-Length exceeds the route's
// limit is refused before it is read, and the connection is closed instead of draining it. Bodies are copied
// out of fasthttp's buffers before the Service sees them, so the Service, the store and asynchronous observers
// may keep them.
//
// # CORS
//
// Config.CORS is Zaqar's oslo.middleware CORS layer, off unless AllowedOrigins names an origin (or "*"); off,
// the handler is the router itself and nothing is added to the request path. On, a preflight (OPTIONS with
// Origin and Access-Control-Request-Method) from an allowed origin, for an allowed method and allowed request
// headers (case-insensitive), is answered 200 before authentication and routing, since a browser sends it
// without credentials. Any other preflight goes on to Falcon's OPTIONS answer without CORS headers, so the
// browser refuses. Every other response to an allowed origin, errors included, gets Access-Control-Allow-Origin
// and Access-Control-Expose-Headers, so a page can read a 401's or a 400's body; every response gets
// Vary: Origin. With credentials allowed the origin is echoed, never "*", as the Fetch standard requires. The
// header values are joined at construction, and the layer allocates nothing per request.
//
// WithWebsocket mounts the websocket transport's upgrade handler at GET /v2/ws, outside the pipeline: Zaqar's
// websocket protocol carries Client-ID, X-Project-ID and credentials in every frame and checks them there.
package httpapi
