package bridge

import (
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	pahov3 "github.com/eclipse/paho.mqtt.golang"

	"github.com/zedge-io/zedge/signing"
)

// mint issues a device token for sub valid for ttl and returns it with its jti.
func (e *env) mint(sub string, ttl time.Duration) (token, jti string) {
	e.t.Helper()
	c, err := signing.NewClaims(sub, testProject, []string{signing.RoleDevice}, time.Now(), ttl)
	if err != nil {
		e.t.Fatal(err)
	}
	tok, err := signing.IssueToken(e.signer, c)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok, c.ID
}

func quickCheck(c *Config) { c.CredentialCheck = 20 * time.Millisecond }

// serverDisconnect waits for the DISCONNECT the server sends c.
func serverDisconnect(t *testing.T, c *v5) *paho.Disconnect {
	t.Helper()
	select {
	case d := <-c.disconnects:
		return d
	case <-time.After(waitLimit):
		t.Fatal("no DISCONNECT from the server")
		return nil
	}
}

// A connection outlives its token no longer: once the token has expired (past the verifier's leeway) an MQTT 5
// device is sent DISCONNECT 0xA0 "token expired" and an MQTT 3.1.1 device has its connection closed, while a
// device whose token is still good keeps publishing.
func TestExpiredTokenEndsTheConnection(t *testing.T) {
	e := newEnv(t, quickCheck)
	short, _ := e.mint("ac-1", 10*time.Minute)
	shortV3, _ := e.mint("ac-3", 10*time.Minute)
	long, _ := e.mint("ac-2", time.Hour)
	expiring := e.v5("ac-1", short)
	lost := make(chan error, 1)
	legacy := e.v3("ac-3", shortV3, func(o *pahov3.ClientOptions) {
		o.SetConnectionLostHandler(func(_ pahov3.Client, err error) { lost <- err })
	})
	staying := e.v5("ac-2", long)
	if code := staying.publish(t, "devices/ac-2/telemetry", []byte(`{"t":1}`)); code != 0 {
		t.Fatalf("publish before expiry: reason %#x", code)
	}

	e.skew.Store(int64(11 * time.Minute)) // past the short tokens' expiry and the one-second leeway

	d := serverDisconnect(t, expiring)
	if d.ReasonCode != 0xA0 || d.Properties == nil || d.Properties.ReasonString != "token expired" {
		t.Fatalf("DISCONNECT %#x %+v, want 0xa0 \"token expired\"", d.ReasonCode, d.Properties)
	}
	select {
	case <-lost:
	case <-time.After(waitLimit):
		t.Fatal("the MQTT 3.1.1 connection with an expired token was not closed")
	}
	if legacy.IsConnected() {
		t.Fatal("3.1.1 client still connected")
	}
	if code := staying.publish(t, "devices/ac-2/telemetry", []byte(`{"t":2}`)); code != 0 {
		t.Fatalf("publish with a good token after the others expired: reason %#x", code)
	}
	select {
	case d := <-staying.disconnects:
		t.Fatalf("the device with a good token was disconnected: %#x", d.ReasonCode)
	default:
	}
	if n := e.b.Counters()["connection.dropped.token_expired"]; n != 2 {
		t.Fatalf("connection.dropped.token_expired = %d, want 2", n)
	}
}

// Revoking a token ends the connection that uses it (DISCONNECT 0x87 "token revoked"), and only that one.
func TestRevokedTokenEndsTheConnection(t *testing.T) {
	e := newEnv(t, quickCheck)
	tok1, jti1 := e.mint("th-1", time.Hour)
	tok2, _ := e.mint("th-2", time.Hour)
	revoked := e.v5("th-1", tok1)
	kept := e.v5("th-2", tok2)

	e.revoked.Store(jti1, true)

	d := serverDisconnect(t, revoked)
	if d.ReasonCode != 0x87 || d.Properties == nil || d.Properties.ReasonString != "token revoked" {
		t.Fatalf("DISCONNECT %#x %+v, want 0x87 \"token revoked\"", d.ReasonCode, d.Properties)
	}
	if code := kept.publish(t, "devices/th-2/telemetry", []byte(`{"t":1}`)); code != 0 {
		t.Fatalf("publish with an unrevoked token: reason %#x", code)
	}
	if _, err := e.tryV5("th-1", tok1); err == nil {
		t.Fatal("the revoked token connected again")
	}
	if n := e.b.Counters()["connection.dropped.token_revoked"]; n != 1 {
		t.Fatalf("connection.dropped.token_revoked = %d, want 1", n)
	}
}
