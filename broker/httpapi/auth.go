package httpapi

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
	"unsafe"

	"github.com/valyala/fasthttp"

	"github.com/zedge-io/zedge/signing"
	"github.com/zedge-io/zedge/signing/revoke"
)

// Auth modes.
const (
	// AuthNone is Zaqar's noauth: X-Project-ID and X-Roles are taken as sent. Signed URLs are still verified.
	AuthNone = "none"
	// AuthJWT requires a bearer token on every request except GET / and signed-URL requests.
	AuthJWT = "jwt"
)

// AuthConfig configures who may use the API. The application embeds it as `auth:`; the keys themselves are
// signing.Config (the application's `signing:` section).
type AuthConfig struct {
	// Mode is AuthNone or AuthJWT.
	Mode string `yaml:"mode"`
	// Revocations configures the revocation list of signed URLs and tokens. An empty File means no list (the
	// application always sets one, in the data directory).
	Revocations revoke.Config `yaml:"revocations"`
}

// DefaultAuthConfig is noauth, as Zaqar's default, with the revocation list's defaults.
func DefaultAuthConfig() AuthConfig {
	return AuthConfig{Mode: AuthNone, Revocations: revoke.DefaultConfig()}
}

// Validate checks the mode and, when a file is set, the revocation list's configuration.
func (c AuthConfig) Validate() error {
	var errs []error
	if c.Mode != AuthNone && c.Mode != AuthJWT {
		errs = append(errs, fmt.Errorf("auth.mode must be %q or %q, not %q", AuthNone, AuthJWT, c.Mode))
	}
	if c.Revocations.File != "" {
		if err := c.Revocations.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("auth.revocations: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Revocations is what the guard needs of a revocation list (*revoke.List): O(1) lookups on the request path,
// and changes for the admin route.
type Revocations interface {
	SignatureRevoked(signature string) bool
	TokenRevoked(jti, subject string, issuedAt time.Time) bool
	Revoke(e revoke.Entry, now time.Time) (revoke.Entry, error)
	Entries() []revoke.Entry
}

// Guard authenticates requests: signed URLs in every mode and bearer tokens in jwt mode. It runs first in the
// pipeline, before any store work, and is safe for concurrent use.
type Guard struct {
	mode    string
	ring    *signing.KeyRing
	keys    *signing.TokenKeys
	leeway  time.Duration
	revoked Revocations
	log     *slog.Logger
	counts  authCounters
	tokens  tokenCache
}

// NewGuard builds the guard from the auth and signing configurations. jwt mode needs at least one token
// verification key. rev may be nil (nothing can be revoked, and the revocations route is absent).
func NewGuard(cfg AuthConfig, sc signing.Config, rev Revocations, log *slog.Logger) (*Guard, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	ring, err := sc.KeyRing()
	if err != nil {
		return nil, err
	}
	keys, err := sc.TokenKeys()
	if err != nil {
		return nil, err
	}
	if cfg.Mode == AuthJWT && keys == nil {
		return nil, errors.New("auth.mode jwt needs a token key: set ZEDGE_JWT_SECRET or signing.token " +
			"secrets, public_keys or private_keys")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if rev != nil && isNilRevocations(rev) {
		rev = nil
	}
	return &Guard{mode: cfg.Mode, ring: ring, keys: keys, leeway: sc.Token.Leeway, revoked: rev,
		log: log.With("component", "auth"), tokens: tokenCache{max: tokenCacheSize}}, nil
}

// isNilRevocations catches a nil *revoke.List passed as the interface.
func isNilRevocations(rev Revocations) bool {
	l, ok := rev.(*revoke.List)
	return ok && l == nil
}

// Mode is the guard's auth mode.
func (g *Guard) Mode() string { return g.mode }

// Counters returns how many requests each check has passed and refused, by reason: "signed_url.ok",
// "signed_url.expired", "token.ok", "token.wrong_project", ... Every reason is listed, zero or not.
func (g *Guard) Counters() map[string]uint64 { return g.counts.snapshot() }

// authReason is one outcome of an authentication check, for the counters and the debug log.
type authReason uint8

const (
	signedOK authReason = iota
	signedNoKey
	signedMissing
	signedMalformed
	signedMethod
	signedPath
	signedExpiresInvalid
	signedExpired
	signedSignatureMalformed
	signedMismatch
	signedRevoked
	signedAmbiguous
	tokenOK
	tokenMissing
	tokenMalformed
	tokenAlgorithm
	tokenKeyUnknown
	tokenSignature
	tokenExpired
	tokenNotYetValid
	tokenClaims
	tokenRevoked
	tokenWrongProject
	tokenQueue
	tokenNotAdmin
	numAuthReasons
)

var authReasonNames = [numAuthReasons]string{
	signedOK:                 "signed_url.ok",
	signedNoKey:              "signed_url.no_key",
	signedMissing:            "signed_url.missing_signature",
	signedMalformed:          "signed_url.malformed",
	signedMethod:             "signed_url.method_not_granted",
	signedPath:               "signed_url.path_not_granted",
	signedExpiresInvalid:     "signed_url.expires_invalid",
	signedExpired:            "signed_url.expired",
	signedSignatureMalformed: "signed_url.signature_malformed",
	signedMismatch:           "signed_url.signature_mismatch",
	signedRevoked:            "signed_url.revoked",
	signedAmbiguous:          "signed_url.ambiguous",
	tokenOK:                  "token.ok",
	tokenMissing:             "token.missing",
	tokenMalformed:           "token.malformed",
	tokenAlgorithm:           "token.algorithm",
	tokenKeyUnknown:          "token.key_unknown",
	tokenSignature:           "token.signature",
	tokenExpired:             "token.expired",
	tokenNotYetValid:         "token.not_yet_valid",
	tokenClaims:              "token.claims",
	tokenRevoked:             "token.revoked",
	tokenWrongProject:        "token.wrong_project",
	tokenQueue:               "token.queue_not_allowed",
	tokenNotAdmin:            "token.not_admin",
}

// signedReasons maps VerifyRequest's failures to reasons; the first match wins.
var signedReasons = []struct {
	err    error
	reason authReason
}{
	{signing.ErrNoURLKey, signedNoKey},
	{signing.ErrSignatureMissing, signedMissing},
	{signing.ErrCredentialsMalformed, signedMalformed},
	{signing.ErrMethodNotAllowed, signedMethod},
	{signing.ErrPathNotAllowed, signedPath},
	{signing.ErrExpiresInvalid, signedExpiresInvalid},
	{signing.ErrSignatureExpired, signedExpired},
	{signing.ErrSignatureMalformed, signedSignatureMalformed},
	{signing.ErrSignatureMismatch, signedMismatch},
}

// Token refusals: Keystone's 401 shape, with a message that says what to fix and nothing of the token.
var (
	errTokenMissing = &Error{Status: fasthttp.StatusUnauthorized, Title: "Unauthorized", Keystone: true,
		Description: "The request you have made requires authentication."}
	errTokenInvalid = &Error{Status: fasthttp.StatusUnauthorized, Title: "Unauthorized", Keystone: true,
		Description: "The token is not valid."}
	errTokenExpired = &Error{Status: fasthttp.StatusUnauthorized, Title: "Unauthorized", Keystone: true,
		Description: "The token has expired."}
	errTokenEarly = &Error{Status: fasthttp.StatusUnauthorized, Title: "Unauthorized", Keystone: true,
		Description: "The token is not valid yet."}
	errTokenRevoked = &Error{Status: fasthttp.StatusUnauthorized, Title: "Unauthorized", Keystone: true,
		Description: "The token has been revoked."}
	errTokenProject = &Error{Status: fasthttp.StatusForbidden, Title: "Not authorized",
		Description: "The token does not grant access to this project."}
	errTokenQueue = &Error{Status: fasthttp.StatusForbidden, Title: "Not authorized",
		Description: "The token does not grant access to this queue."}
)

// tokenReasons maps VerifyToken's failures to reasons and responses; the first match wins.
var tokenReasons = []struct {
	err    error
	reason authReason
	resp   *Error
}{
	{signing.ErrTokenMissing, tokenMissing, errTokenMissing},
	{signing.ErrTokenMalformed, tokenMalformed, errTokenInvalid},
	{signing.ErrTokenAlgorithm, tokenAlgorithm, errTokenInvalid},
	{signing.ErrTokenKeyUnknown, tokenKeyUnknown, errTokenInvalid},
	{signing.ErrTokenSignature, tokenSignature, errTokenInvalid},
	{signing.ErrTokenExpired, tokenExpired, errTokenExpired},
	{signing.ErrTokenNotYetValid, tokenNotYetValid, errTokenEarly},
	{signing.ErrTokenClaims, tokenClaims, errTokenInvalid},
}

// authenticate is the pipeline's authentication step. A request carrying signed-URL credentials (the URL-*
// headers or the signature, expires, methods, paths query parameters) must verify, in every mode, and then
// needs no token (Zaqar's bypass rule); any failure is a bare 404. Otherwise, in jwt mode, every route
// under /v2/ needs a valid token (GET / stays open). What it learns (the project to use when X-Project-ID is absent, the token's
// claims) goes into r for the later steps.
func (g *Guard) authenticate(r *request) error {
	ctx := r.ctx
	hdr := &ctx.Request.Header
	headerForm := len(hdr.Peek(signing.HeaderSignature)) > 0 || len(hdr.Peek(signing.HeaderExpires)) > 0 ||
		len(hdr.Peek(signing.HeaderMethods)) > 0 || len(hdr.Peek(signing.HeaderPaths)) > 0
	args := ctx.QueryArgs()
	queryForm := args.Len() > 0 && (args.Has(signing.QuerySignature) || args.Has(signing.QueryExpires) ||
		args.Has(signing.QueryMethods) || args.Has(signing.QueryPaths))
	if headerForm || queryForm {
		return g.signedURL(r, headerForm, queryForm)
	}
	if g.mode == AuthNone || !r.rt.v2 { // GET / is open, as in Zaqar
		return nil
	}
	return g.token(r)
}

// b2s views a fasthttp buffer as a string without copying. Only for values that are not kept past the
// request: the signed-URL check reads them and keeps nothing (signing.CheckRequest).
func b2s(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// QueryProject is the query parameter that carries the project in the query form of a signed URL, so that a
// device needs no X-Project-ID header (zedge only). When both are sent they must agree.
const QueryProject = "project"

func (g *Guard) signedURL(r *request, headerForm, queryForm bool) error {
	ctx := r.ctx
	hdr := &ctx.Request.Header
	if headerForm && queryForm {
		return g.refuseURL(r, signedAmbiguous, errors.New("credentials both in headers and in the query"))
	}
	var creds signing.Credentials
	project := hdr.Peek("X-Project-Id")
	if headerForm {
		creds = signing.CredentialsFromHeaders(func(name string) string { return b2s(hdr.Peek(name)) })
	} else {
		args := ctx.QueryArgs()
		var qr signing.QueryReader
		for k, v := range args.All() {
			qr.Add(b2s(k), b2s(v))
		}
		var err error
		creds, err = qr.Credentials()
		if err != nil {
			return g.refuseURL(r, signedMalformed, err)
		}
		if qp := queryScalar(args, QueryProject); qp != nil {
			switch {
			case headerPresent(hdr, "X-Project-Id"):
				if !bytes.Equal(qp, project) {
					return g.refuseURL(r, signedAmbiguous, errors.New("project query parameter and X-Project-ID differ"))
				}
			default:
				project = qp
				r.authProject = string(qp)
			}
		}
	}
	// The path checked is the one the router dispatched on: the raw request path. fasthttp's Path() is
	// decoded and dot-normalised, so .../other/messages/x%2F..%2F..%2F..%2Fq%2Fmessages would read as queue
	// q's messages while the request runs against queue other.
	_, err := signing.CheckRequest(g.ring, signing.SignedRequest{
		Method:      b2s(ctx.Method()),
		Path:        b2s(ctx.Request.URI().PathOriginal()),
		Project:     b2s(project),
		Credentials: creds,
	}, r.now)
	if err != nil {
		reason := signedMalformed
		for _, sr := range signedReasons {
			if errors.Is(err, sr.err) {
				reason = sr.reason
				break
			}
		}
		return g.refuseURL(r, reason, err)
	}
	if g.revoked != nil && g.revoked.SignatureRevoked(creds.Signature) {
		return g.refuseURL(r, signedRevoked, nil, slog.String("fingerprint", signing.Fingerprint(creds.Signature)))
	}
	r.signedQuery = queryForm
	g.counts.inc(signedOK)
	return nil
}

// refuseURL counts and logs a signed-URL refusal and returns Zaqar's bare 404. The log names the reason and
// the request, never the signature (signing's error texts hold none).
func (g *Guard) refuseURL(r *request, reason authReason, err error, attrs ...slog.Attr) error {
	g.counts.inc(reason)
	g.logRefusal(r, reason, err, attrs...)
	r.authProject = ""
	return ErrRouteNotFound
}

func (g *Guard) token(r *request) error {
	hdr := &r.ctx.Request.Header
	tok, ok := bearerToken(hdr)
	if !ok {
		return g.refuseToken(r, tokenMalformed, errTokenInvalid, errors.New("X-Auth-Token and Authorization disagree"))
	}
	claims := g.tokens.get(tok, r.now, g.leeway)
	if claims == nil {
		var err error
		claims, err = signing.VerifyToken(g.keys, string(tok), r.now, g.leeway)
		if err != nil {
			for _, tr := range tokenReasons {
				if errors.Is(err, tr.err) {
					return g.refuseToken(r, tr.reason, tr.resp, err)
				}
			}
			return g.refuseToken(r, tokenMalformed, errTokenInvalid, err)
		}
		g.tokens.put(string(tok), claims)
	}
	if g.revoked != nil {
		var iat time.Time
		if claims.IssuedAt != nil {
			iat = claims.IssuedAt.Time
		}
		if g.revoked.TokenRevoked(claims.ID, claims.Subject, iat) {
			return g.refuseToken(r, tokenRevoked, errTokenRevoked, nil, slog.String("sub", claims.Subject),
				slog.String("jti", claims.ID))
		}
	}
	if project := hdr.Peek("X-Project-Id"); len(project) > 0 {
		if string(project) != claims.ProjectID && !claims.IsAdmin() {
			return g.refuseToken(r, tokenWrongProject, errTokenProject, nil, slog.String("sub", claims.Subject))
		}
	} else if !headerPresent(hdr, "X-Project-Id") {
		r.authProject = claims.ProjectID
	}
	r.claims = claims
	g.counts.inc(tokenOK)
	return nil
}

func (g *Guard) refuseToken(r *request, reason authReason, resp *Error, err error, attrs ...slog.Attr) error {
	g.counts.inc(reason)
	g.logRefusal(r, reason, err, attrs...)
	return resp
}

func (g *Guard) logRefusal(r *request, reason authReason, err error, attrs ...slog.Attr) {
	ctx := r.ctx
	if !g.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs = append(attrs,
		slog.String("reason", authReasonNames[reason]),
		slog.String("method", string(ctx.Method())),
		slog.String("path", string(ctx.Path())),
		slog.String("request_id", string(r.reqID)),
		slog.String("remote", ctx.RemoteAddr().String()))
	if err != nil {
		attrs = append(attrs, slog.String("err", err.Error()))
	}
	g.log.LogAttrs(ctx, slog.LevelDebug, "request refused", attrs...)
}

// policy is the authorization step after the hooks (Zaqar's oslo.policy): admin routes need the admin role,
// and a token limited to some queues reaches only those queues (and the routes that touch no queue data:
// versions, home document, ping).
func (g *Guard) policy(r *request) error {
	if r.rt.admin && !r.isAdmin() {
		if r.claims != nil {
			g.counts.inc(tokenNotAdmin)
			g.logRefusal(r, tokenNotAdmin, nil, slog.String("sub", r.claims.Subject))
		}
		return errNotAuthorized
	}
	if c := r.claims; c != nil && c.Queues != nil && !r.rt.open {
		if !r.rt.queue || !c.AllowsQueue(r.queue) {
			return g.refuseToken(r, tokenQueue, errTokenQueue, nil, slog.String("sub", c.Subject))
		}
	}
	return nil
}

// isAdmin reports whether the caller has the admin role: the token's roles in jwt mode, the client's X-Roles
// header in noauth mode (as Zaqar without keystone). A signed-URL request in jwt mode has no roles.
func (r *request) isAdmin() bool {
	switch {
	case r.claims != nil:
		return r.claims.IsAdmin()
	case r.s.guard.mode == AuthNone:
		return hasAdminRole(r.ctx.Request.Header.Peek("X-Roles"))
	}
	return false
}

// bearerToken returns the token of X-Auth-Token (OpenStack's header) or of Authorization: Bearer. Both may be
// sent, but then they must be the same token; ok is false when they differ. An Authorization header of
// another scheme counts as no token. The result aliases the request's buffers.
func bearerToken(hdr *fasthttp.RequestHeader) (tok []byte, ok bool) {
	x := hdr.Peek("X-Auth-Token")
	var b []byte
	if a := hdr.Peek("Authorization"); len(a) > 7 && bytes.EqualFold(a[:7], []byte("bearer ")) {
		b = bytes.TrimSpace(a[7:])
	}
	switch {
	case len(x) > 0 && len(b) > 0 && !bytes.Equal(x, b):
		return nil, false
	case len(x) > 0:
		return x, true
	}
	return b, true
}

// tokenCacheSize bounds the verified tokens kept (a few hundred bytes each).
const tokenCacheSize = 4096

// tokenCache remembers tokens that verified, so that a device posting every few seconds with the same token
// pays for one signature check and JSON decoding, not one per request (an HS256 check costs about ten times
// a signed-URL check, an RS256 or EdDSA one far more). Only what VerifyToken accepted is kept, keyed by the
// exact token text. A hit is re-checked against exp (with the leeway); revocation and the project and role
// checks run on every request, hit or not. Keys change only with a restart, which empties the cache. When
// full it is emptied rather than kept in LRU order: refilling costs one verification per active token.
type tokenCache struct {
	mu  sync.RWMutex
	m   map[string]*signing.Claims
	max int
}

func (c *tokenCache) get(tok []byte, now time.Time, leeway time.Duration) *signing.Claims {
	c.mu.RLock()
	claims := c.m[string(tok)] // the conversion in a map index does not allocate
	c.mu.RUnlock()
	if claims == nil || !now.Before(claims.ExpiresAt.Add(leeway)) {
		return nil // expired since: VerifyToken says so, with its own error
	}
	return claims
}

func (c *tokenCache) put(tok string, claims *signing.Claims) {
	if c.max <= 0 || claims.ExpiresAt == nil {
		return
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= c.max {
		c.m = make(map[string]*signing.Claims, min(c.max, 256))
	}
	c.m[tok] = claims
	c.mu.Unlock()
}
