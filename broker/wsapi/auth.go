package wsapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/zedge-io/zedge/signing"
)

// Auth modes, as the REST transport's.
const (
	// AuthNone trusts X-Project-ID (Zaqar's noauth). Signed-URL headers, when a frame carries them, must
	// still verify.
	AuthNone = "none"
	// AuthJWT requires a socket to authenticate with a zedge token before anything but authenticate, unless a
	// frame carries a valid signed URL for a message action.
	AuthJWT = "jwt"
)

// Revocations is what the transport needs of a revocation list (*revoke.List).
type Revocations interface {
	SignatureRevoked(signature string) bool
	TokenRevoked(jti, subject string, issuedAt time.Time) bool
}

// Auth is the websocket transport's authentication: the mode and the keys of the application's auth and
// signing sections.
type Auth struct {
	Mode string
	// URLKeys verify signed-URL headers (nil: no signed request verifies).
	URLKeys *signing.KeyRing
	// TokenKeys verify authenticate's X-Auth-Token (required in jwt mode).
	TokenKeys *signing.TokenKeys
	// Leeway is the clock skew allowed on token times; a socket is closed with 4003 at exp + Leeway.
	Leeway time.Duration
	// Revoked, when set, is consulted for signed URLs and tokens (per frame, so a revocation reaches an open
	// socket at its next request).
	Revoked Revocations
}

func (a Auth) validate() error {
	switch a.Mode {
	case AuthNone:
	case AuthJWT:
		if a.TokenKeys == nil {
			return errors.New("wsapi: jwt auth needs token keys")
		}
	default:
		return fmt.Errorf("wsapi: auth mode must be %q or %q, not %q", AuthNone, AuthJWT, a.Mode)
	}
	return nil
}

// authenticate handles the authenticate action. In jwt mode the X-Auth-Token must verify, not be revoked and
// be valid for X-Project-ID; the socket then acts with that token until it expires (close 4003). Without
// auth Zaqar sends no answer at all; zedge answers 200 and says so (spec §14 #16).
func (s *Server) authenticate(c *conn, r *request) reply {
	if s.auth.Mode != AuthJWT {
		return ok(http.StatusOK, []byte(`{"message": "Authentication is not enabled on this server: no token is needed."}`))
	}
	claims, err := signing.VerifyToken(s.auth.TokenKeys, r.header("X-Auth-Token"), s.now(), s.auth.Leeway)
	if err != nil {
		s.log.Debug("websocket authentication refused", "socket", c.id, "reason", err)
		return errAuthFailed
	}
	if s.tokenRevoked(claims) {
		s.log.Debug("websocket authentication refused", "socket", c.id, "reason", "token revoked")
		return errAuthFailed
	}
	if err := claims.Authorize(r.project, ""); err != nil {
		s.log.Debug("websocket authentication refused", "socket", c.id, "reason", err)
		return errAuthFailed
	}
	c.setAuth(claims)
	return ok(http.StatusOK, []byte(`{"message": "Authentified."}`))
}

// mayPush reports whether the socket's authentication grants what its subscription pushes: in jwt mode a
// token that is not revoked and allows the subscription's project and queue. A subscription outlives neither
// a revocation nor the replacement of its token by one for other queues (authenticate again).
func (s *Server) mayPush(ss *socketSub) bool {
	claims := ss.c.currentClaims()
	if claims == nil {
		return s.auth.Mode != AuthJWT
	}
	return !s.tokenRevoked(claims) && claims.Authorize(ss.project, ss.queue) == nil
}

func (s *Server) tokenRevoked(c *signing.Claims) bool {
	if s.auth.Revoked == nil {
		return false
	}
	var issued time.Time
	if c.IssuedAt != nil {
		issued = c.IssuedAt.Time
	}
	return s.auth.Revoked.TokenRevoked(c.ID, c.Subject, issued)
}

// authorize decides whether a validated frame may run, before any store work. A socket authenticated by
// token acts in its token's project and queues (403 "Not authenticated." otherwise). Other sockets may
// present signed-URL headers on message actions (spec §9.3), which must verify in every mode; without them,
// jwt mode refuses with 403 "Not authentified.".
func (s *Server) authorize(c *conn, r *request) (reply, bool) {
	if claims := c.currentClaims(); claims != nil {
		if s.tokenRevoked(claims) {
			// The socket's subscriptions were made with the token: they end with it (MessagesPosted has
			// stopped pushing them since the revocation).
			s.push.dropConn(c, s) // first: until the claims are dropped, mayPush refuses them as revoked
			c.setAuth(nil)
			return errNotAuthentified, false
		}
		if claims.Authorize(r.project, r.queue) != nil {
			return errNotAuthenticated, false
		}
		return reply{}, true
	}
	if hasCredentials(r) {
		if err := s.verifySigned(r); err != nil {
			s.log.Debug("websocket signed request refused", "socket", c.id, "action", r.action, "reason", err)
			return errNotAuthentified, false
		}
		return reply{}, true
	}
	if s.auth.Mode == AuthJWT {
		return errNotAuthentified, false
	}
	return reply{}, true
}

func hasCredentials(r *request) bool {
	for _, h := range [...]string{signing.HeaderSignature, signing.HeaderExpires, signing.HeaderMethods, signing.HeaderPaths} {
		if _, ok := r.headers[h]; ok {
			return true
		}
	}
	return false
}

var errNoMethod = errors.New("wsapi: action cannot be signed")

// verifySigned checks a frame's signed-URL headers: the action must map to a granted method, and the path
// checked is the queue's messages path (Zaqar checks no path over websocket; zedge keeps a grant within its
// queue and project).
func (s *Server) verifySigned(r *request) error {
	method, ok := signing.WebsocketActionMethod(r.action)
	if !ok {
		return errNoMethod
	}
	var headers map[string]any
	if err := json.Unmarshal(r.headersRaw, &headers); err != nil {
		return err
	}
	creds, err := signing.CredentialsFromWebsocket(headers)
	if err != nil {
		return err
	}
	path := "/v2/queues/" + r.queue + "/messages"
	if r.action == "message_get" || r.action == "message_delete" {
		path += "/" + r.str("message_id")
	}
	if _, err := signing.CheckRequest(s.auth.URLKeys, signing.SignedRequest{Method: method, Path: path,
		Project: r.project, Credentials: creds}, s.now()); err != nil {
		return err
	}
	if s.auth.Revoked != nil && s.auth.Revoked.SignatureRevoked(creds.Signature) {
		return errors.New("wsapi: signed url revoked")
	}
	return nil
}
