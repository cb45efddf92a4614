package bridge

import (
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/zedge-io/zedge/broker"
	"github.com/zedge-io/zedge/signing"
)

// Verifier checks the token a client presents as its MQTT password.
type Verifier interface {
	VerifyToken(token string, now time.Time) (*signing.Claims, error)
}

// TokenVerifier verifies with signing.VerifyToken and, when Revoked is set, refuses revoked tokens
// (ErrTokenRevoked).
type TokenVerifier struct {
	Keys    *signing.TokenKeys
	Leeway  time.Duration
	Revoked func(jti, subject string, issuedAt time.Time) bool
}

// Token is what a session keeps of the token it connected with, to check it again while it lasts.
type Token struct {
	ID       string    // jti
	Subject  string    // sub
	IssuedAt time.Time // zero without iat
	Expires  time.Time // zero without exp
}

// CredentialChecker is implemented by a Verifier that can tell whether a token it accepted earlier is still
// good. The bridge asks it every credential_check for each connected client, and disconnects the client whose
// token expired (ErrTokenExpired) or was revoked (ErrTokenRevoked) meanwhile.
type CredentialChecker interface {
	CheckToken(t Token, now time.Time) error
}

// CheckToken implements CredentialChecker, with the leeway that VerifyToken allows.
func (v TokenVerifier) CheckToken(t Token, now time.Time) error {
	if !t.Expires.IsZero() && now.After(t.Expires.Add(v.Leeway)) {
		return ErrTokenExpired
	}
	if v.Revoked != nil && v.Revoked(t.ID, t.Subject, t.IssuedAt) {
		return ErrTokenRevoked
	}
	return nil
}

// VerifyToken implements Verifier.
func (v TokenVerifier) VerifyToken(token string, now time.Time) (*signing.Claims, error) {
	c, err := signing.VerifyToken(v.Keys, token, now, v.Leeway)
	if err != nil {
		return nil, err
	}
	if v.Revoked != nil {
		var iat time.Time
		if c.IssuedAt != nil {
			iat = c.IssuedAt.Time
		}
		if v.Revoked(c.ID, c.Subject, iat) {
			return nil, ErrTokenRevoked
		}
	}
	return c, nil
}

// authenticate builds the session of a connecting client, or refuses it with a CONNACK reason code:
// 0x86 (bad username or password) for a missing, invalid, expired or revoked token, 0x85 (client identifier not
// valid) for a device whose client id is not its device id or the reserved id of the inline client, 0x87 (not
// authorized) for a will the client could not publish itself.
func (b *Bridge) authenticate(cl *mqtt.Client, pk packets.Packet) (*session, packets.Code) {
	if cl.ID == mqtt.InlineClientId {
		b.count(cConnectClientID)
		return nil, codeClientIDReserved
	}
	var s *session
	if b.cfg.Auth == AuthNone {
		device := string(cl.Properties.Username)
		if device == "" {
			device = cl.ID
		}
		if !validDeviceID(device) {
			device = ""
		}
		s = &session{operator: true, device: device, ns: b.defaultNS}
		s.caller = broker.Caller{Project: b.cfg.DefaultProject, ClientID: deviceClientID(b.cfg.DefaultProject, device)}
	} else {
		claims, err := b.verifier.VerifyToken(string(pk.Connect.Password), b.now())
		if err != nil {
			b.count(cConnectToken)
			b.log.Debug("mqtt connect refused", "reason", err, "client", cl.ID, "remote", cl.Net.Remote)
			return nil, packets.ErrBadUsernameOrPassword
		}
		if !broker.ValidProjectID(claims.ProjectID) {
			b.count(cConnectToken)
			return nil, packets.ErrBadUsernameOrPassword
		}
		s = &session{claims: queuesClaim(claims), operator: claims.IsAdmin() || claims.HasRole(signing.RoleMember),
			token: tokenOf(claims), ns: namespaceOf(claims.ProjectID)}
		if validDeviceID(claims.Subject) {
			s.device = claims.Subject
		}
		s.caller = broker.Caller{Project: claims.ProjectID, ClientID: deviceClientID(claims.ProjectID, claims.Subject)}
		if !s.operator {
			// A device connects under its own id, so that it can neither take over another device's session
			// (which would inherit its subscriptions past the ACL) nor be taken over by one.
			switch {
			case s.device == "":
				b.count(cConnectClientID)
				return nil, codeDeviceIDInvalid
			case pk.Connect.ClientIdentifier == "":
				cl.ID = s.device
				if cl.Properties.Props.AssignedClientID != "" {
					cl.Properties.Props.AssignedClientID = s.device
				}
			case cl.ID != s.device:
				b.count(cConnectClientID)
				return nil, codeClientIDNotDevice
			}
		}
	}
	if will := cl.Properties.Will; will.Flag == 1 {
		// Wills skip the ACL and the publish hook in the MQTT server, so they are checked here, and never go to
		// a command topic (commands enter through their queue).
		if b.mapper.IsCommandTopic(will.TopicName) || !b.mayPublish(s, will.TopicName) {
			b.count(cConnectWill)
			return nil, codeWillNotAuthorized
		}
		cl.Properties.Will.TopicName = s.ns + will.TopicName
	}
	cl.ID = s.ns + cl.ID // the server's client registry (session takeover) is per project too
	return s, packets.CodeSuccess
}

// tokenOf keeps what CheckToken needs of a token's claims.
func tokenOf(c *signing.Claims) *Token {
	t := &Token{ID: c.ID, Subject: c.Subject}
	if c.IssuedAt != nil {
		t.IssuedAt = c.IssuedAt.Time
	}
	if c.ExpiresAt != nil {
		t.Expires = c.ExpiresAt.Time
	}
	return t
}

// everyQueue is the queues claim of every token that has none, shared by their sessions.
var everyQueue = &signing.Claims{}

// queuesClaim keeps of a token's claims what the ACL checks for as long as a session lasts: the queues claim.
// The rest (the project, already in the session; the roles, checked at CONNECT; what tokenOf keeps) would
// otherwise stay in memory with every connection, ~0.3 KB each.
func queuesClaim(c *signing.Claims) *signing.Claims {
	if c.Queues == nil {
		return everyQueue
	}
	return &signing.Claims{Queues: c.Queues}
}
