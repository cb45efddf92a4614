// Package signing holds zedge's credentials logic, free of HTTP, configuration files and clocks (callers pass
// now): Zaqar-compatible signed URLs and JSON Web Tokens.
//
// # Signed URLs
//
// A signed URL grants some HTTP methods on some paths of one project until an expiry. Its signature is
// Zaqar's (zaqar/common/urls.py): lower-case hex of HMAC-SHA256, keyed with the UTF-8 secret, over
//
//	<paths sorted, joined by ","> \n <methods sorted, joined by ","> \n <project, or None> \n <YYYY-MM-DDTHH:MM:SS>
//
// where each \n is the two characters backslash and n (bytes 0x5C 0x6E), not a newline: Zaqar builds the text
// with a raw string literal. Sorting is plain byte order, the expiry is UTC without fraction or zone, and an
// absent project is the four letters None. For key test-secret, paths [/v2/queues/fizbit/messages], methods
// [POST GET], project 7e7b1ee1b1e445e6bc79ab3e76c4e6c3 and expiry 2099-12-31T23:59:59 the signature is
// 570f25a4008b45ec380945e5e0de63efbd5c7e39a6ccbad45698bce8bea956d8 (see CanonicalString, Sign).
//
// Share builds and signs a grant from the body of POST /v2/queues/{q}/share with Zaqar's checks and error
// texts; ParseExpires and FormatExpires carry Zaqar's expiry rules (an integer-looking value is refused,
// ISO 8601 with fraction and zone is normalised to whole UTC seconds, a bare date means midnight).
//
// A request presents the grant back as the URL-Signature, URL-Expires, URL-Methods and URL-Paths headers
// (CredentialsFromHeaders) or, so that a sensor can be given one plain URL, as the signature, expires,
// methods and paths query parameters (CredentialsFromQuery, or QueryReader for a transport that walks its own
// parsed query without allocating). VerifyRequest checks it before any store access:
// the method is granted, the path is covered, the expiry lies ahead, the signature matches (hmac.Equal);
// CheckRequest makes the same checks without allocating, for a server's request path. Every failure has its
// own sentinel error for logs and metrics; Zaqar's API answers all of them with a bare 404.
// Verified.Fingerprint names a URL for the server's revocation list without keeping the signature.
//
// Over websocket (spec §9.3) only message actions can use a signed URL (WebsocketActionMethod) and the
// credentials arrive as a headers object with URL-Methods and URL-Paths as arrays (CredentialsFromWebsocket);
// the websocket layer passes the queue's messages path to VerifyRequest, so a grant stays within its queue
// there too (Zaqar checks no path over websocket).
//
// # The path rule, and where it differs from Zaqar
//
// Zaqar accepts a request when any granted path, used as a regular expression, is found anywhere in the
// request path (an unanchored search). That makes a grant for /v2/queues/q/messages cover
// /v2/queues/q/messages/{id}, which clients rely on, but also lets a grant for queue "q" match the start of
// queue "q2", and a dot in a queue name match any character. zedge instead covers a request path when it
// equals a granted path or continues it after a "/": the messages → messages/{id} behaviour stays, and a
// grant never reaches another queue or project (spec §9.2 allows the difference). Request paths with empty,
// "." or ".." segments are never covered, and methods and paths are split on "," without trimming, as in
// Zaqar. Zaqar also skips the check entirely when URL-Signature is present but empty; zedge refuses.
//
// # Rotating the URL secret
//
// A KeyRing holds up to MaxURLKeys secrets with ids. The primary signs; a Zaqar-form request carries no key
// id, so verification tries the primary first and then the others, each comparison in constant time. To
// rotate without breaking URLs already handed out:
//
//  1. Add the new secret under a new id and make it the primary; keep the old one in the ring. New URLs are
//     signed with the new key, old URLs still verify (Verified.KeyID tells which key did it).
//  2. Wait until every URL signed with the old key has expired (share URLs last a day by default; confirmation
//     URLs last the subscription TTL), or until you decide to cut them off.
//  3. Remove the old key. Its URLs now fail with ErrSignatureMismatch.
//
// A leaked secret is handled the same way with step 2 skipped. Revoking one URL while its key stays is the
// server's job: it keeps a persisted list of fingerprints.
//
// # Tokens
//
// IssueToken and VerifyToken handle JWTs (github.com/golang-jwt/jwt/v5) with HS256 shared secrets, RS256 and
// EdDSA (Ed25519) keys. Each key is pinned to its algorithm and selected by the kid header (a token without
// kid uses the single HS256 key when exactly one is configured), so alg none, an unknown alg and an HS256
// token presented under an RSA key id are all refused. exp is required; exp, nbf and iat are checked with a
// configurable leeway against the caller's now. Claims carry sub, project_id, roles (admin, member, device),
// and an optional queues list of "*" patterns that limits a device token (Claims.AllowsQueue); jti and sub
// are what a revocation list names. Claims.Authorize binds a token to its project (the admin role may act in
// any project) and to the queues of its queues claim.
package signing
