package bridge

import (
	"errors"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// Reason codes of a DISCONNECT for a token that stopped being good. 0xA0 (maximum connect time) is MQTT 5's
// code for a connection that outlived what it was allowed; 0x87 (not authorized) for a credential withdrawn.
var (
	codeTokenExpired = packets.Code{Code: packets.ErrMaxConnectTime.Code, Reason: "token expired"}
	codeTokenRevoked = packets.Code{Code: packets.ErrNotAuthorized.Code, Reason: "token revoked"}
)

// checkCredentials checks the token of every connected client every credential_check until Shutdown, so that
// a token's expiry or revocation ends the connections that use it too, not only the next CONNECT. A sweep
// costs a map walk and a revocation lookup per connection (tens of nanoseconds each).
func (b *Bridge) checkCredentials(checker CredentialChecker) {
	t := time.NewTicker(b.cfg.CredentialCheck)
	defer t.Stop()
	for {
		select {
		case <-b.closing:
			return
		case <-t.C:
		}
		now := b.now()
		b.sessions.Range(func(k, v any) bool {
			cl, s := k.(*mqtt.Client), v.(*session)
			if s.token == nil || cl.Closed() {
				return true
			}
			if err := checker.CheckToken(*s.token, now); err != nil {
				b.drop(cl, err)
			}
			return true
		})
	}
}

// dropWriteWait bounds the write of the DISCONNECT to a client whose token is no longer good. To a client that
// reads its socket it takes microseconds; the bound is generous so that a sweep goroutine descheduled for a
// while on a loaded machine still gets it out.
const dropWriteWait = time.Second

// drop disconnects a client whose token is no longer good: an MQTT 5 client is told why with a DISCONNECT, an
// MQTT 3.1.1 client (whose protocol has no server DISCONNECT) sees its connection closed. Its will, if any,
// is published as for any connection the server ends.
func (b *Bridge) drop(cl *mqtt.Client, err error) {
	code, c := codeTokenRevoked, cDroppedRevoked
	if errors.Is(err, ErrTokenExpired) {
		code, c = codeTokenExpired, cDroppedExpired
	}
	b.count(c)
	b.log.Info("mqtt client disconnected", "client", cl.ID, "remote", cl.Net.Remote, "reason", code.Reason)
	if cl.Properties.ProtocolVersion >= 5 {
		// The MQTT server writes to the connection directly, holding the client's lock: a client that stopped
		// reading would hold this sweep, and so every other client's check, for as long as its connection
		// lasts. The DISCONNECT gets dropWriteWait to go out (the write the client holds up fails then too);
		// the connection is closed either way.
		_ = cl.Net.Conn.SetWriteDeadline(time.Now().Add(dropWriteWait))
		_ = b.srv.DisconnectClient(cl, code)
		return
	}
	cl.Stop(code)
}
