package bridge

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	pahov3 "github.com/eclipse/paho.mqtt.golang"
	mqtt "github.com/mochi-mqtt/server/v2"

	"github.com/zedge-io/zedge/signing"
)

// Bad or missing tokens are refused at CONNECT (0x86; 3.1.1 return code 4), as are devices connecting under
// another client id (0x85), the inline client's reserved id and wills the client could not publish (0x87).
func TestConnectRefusals(t *testing.T) {
	e := newEnv(t)
	good := e.token("ac-12", signing.RoleDevice)
	other, err := signing.NewHS256Signer("k1", []byte(strings.Repeat("z", 40)))
	if err != nil {
		t.Fatal(err)
	}
	claims, _ := signing.NewClaims("ac-12", testProject, []string{signing.RoleDevice}, time.Now(), time.Hour)
	forged, _ := signing.IssueToken(other, claims)
	expiredClaims, _ := signing.NewClaims("ac-12", testProject, []string{signing.RoleDevice}, time.Now().Add(-2*time.Hour), time.Hour)
	expired, _ := signing.IssueToken(e.signer, expiredClaims)

	for name, pw := range map[string]string{"no token": "", "garbage": "not-a-jwt", "forged": forged, "expired": expired} {
		// The MQTT server maps 0x86 to 3.1.1's return code 5 (not authorized).
		if _, err := e.tryV3("ac-12", pw); err == nil || !strings.Contains(err.Error(), "not Authorized") {
			t.Errorf("v3 %s: %v", name, err)
		}
		c, err := e.tryV5("ac-12", pw)
		if err == nil || c == nil || c.connack.ReasonCode != 0x86 {
			t.Errorf("v5 %s: %v %+v", name, err, c)
		}
	}
	for name, tc := range map[string]struct {
		clientID, token string
		code            byte
		will            string
	}{
		"device under another id": {"ac-13", good, 0x85, ""},
		"inline client id":        {"inline", e.token("ops", signing.RoleMember), 0x85, ""},
		"will on another device":  {"ac-12", good, 0x87, "devices/ac-13/telemetry"},
		"will on a command topic": {"ops", e.token("ops", signing.RoleAdmin), 0x87, "devices/ac-12/commands"},
	} {
		c, err := e.tryV5(tc.clientID, tc.token, func(cp *paho.Connect) {
			if tc.will != "" {
				cp.WillMessage = &paho.WillMessage{Topic: tc.will, QoS: 1, Payload: []byte("gone")}
			}
		})
		if err == nil || c == nil || c.connack.ReasonCode != tc.code {
			t.Errorf("%s: %v %+v", name, err, c)
		}
	}
	// The right id, with a will on its own topic, is fine; an empty client id is assigned the device id.
	ok := e.v5("ac-12", good, func(cp *paho.Connect) {
		cp.WillMessage = &paho.WillMessage{Topic: "devices/ac-12/status", Payload: []byte("offline"), Retain: true}
	})
	_ = ok
	if _, err := e.tryV3("ac-13", good); err == nil || !strings.Contains(err.Error(), "identifier rejected") {
		t.Errorf("v3 device under another id: %v", err)
	}
	if _, err := e.tryV3("ac-12", good, func(o *pahov3.ClientOptions) { o.SetWill("devices/ac-13/x", "gone", 1, false) }); err == nil ||
		!strings.Contains(err.Error(), "not Authorized") {
		t.Errorf("v3 will on another device: %v", err)
	}
	assigned := e.v5("", e.token("th-1", signing.RoleDevice))
	if assigned.connack.Properties == nil || assigned.connack.Properties.AssignedClientID != "th-1" {
		t.Errorf("assigned client id %+v", assigned.connack.Properties)
	}
	c := e.b.Counters()
	if c["connect.refused.token"] != 8 || c["connect.refused.client_id"] != 3 || c["connect.refused.will"] != 3 {
		t.Errorf("counters %v", c)
	}
}

// A revoked token is refused.
func TestRevokedTokenRefused(t *testing.T) {
	e := newEnv(t)
	tok := e.token("ac-1", signing.RoleDevice)
	keys, _ := signing.NewTokenKeys(e.signer.VerificationKey())
	v := TokenVerifier{Keys: keys, Revoked: func(jti, sub string, iat time.Time) bool { return sub == "ac-1" }}
	if _, err := v.VerifyToken(tok, time.Now()); !errors.Is(err, ErrTokenRevoked) {
		t.Errorf("VerifyToken = %v", err)
	}
}

// A device may only publish to its own telemetry and ack topics and subscribe to its own command topic;
// operators may do both anywhere.
func TestACL(t *testing.T) {
	e := newEnv(t)
	dev := e.v5("ac-12", e.token("ac-12", signing.RoleDevice))
	for topic, want := range map[string]byte{
		"devices/ac-12/telemetry": 0x00,
		"devices/ac-12/state":     0x00, // acl.device_publish: devices/{device}/#
		"devices/ac-13/telemetry": 0x87,
		"devices/ac-13/state":     0x87,
		"devices/ac-12/commands":  0x87, // commands only through the queue
		"devices/ac-13/commands":  0x87,
		"lobby/screen":            0x87,
		"sensors/b1/r1/temp":      0x00, // a shared telemetry topic (no {device} in the rule)
	} {
		if got := dev.publish(t, topic, []byte(`{"x":1}`)); got != want {
			t.Errorf("device publish %s: %#x, want %#x", topic, got, want)
		}
	}
	for filter, want := range map[string]byte{
		"devices/ac-12/commands":          0x01,
		"$share/g/devices/ac-12/commands": 0x01,
		"devices/ac-13/commands":          0x87,
		"devices/+/commands":              0x87,
		"devices/ac-12/#":                 0x87,
		"#":                               0x87,
		"sensors/#":                       0x87,
	} {
		if got := dev.subscribe(t, filter, 1); got != want {
			t.Errorf("device subscribe %s: %#x, want %#x", filter, got, want)
		}
	}
	op := e.v5("ops", e.token("ops", signing.RoleMember))
	if got := op.subscribe(t, "#", 1); got != 1 {
		t.Errorf("operator subscribe #: %#x", got)
	}
	if got := op.publish(t, "lobby/screen", []byte("hello")); got != 0 {
		t.Errorf("operator publish: %#x", got)
	}
	// $ topics are the server's: no client publishes to one, operators included.
	for topic, want := range map[string]byte{"$app/lobby": 0x90, "$SYS/broker/uptime": 0x90, "$sys/x": 0x90} {
		if got := op.publish(t, topic, []byte("x")); got != want {
			t.Errorf("operator publish %s: %#x, want %#x", topic, got, want)
		}
	}
	c := e.b.Counters()
	if c["acl.denied.publish"] != 8 || c["acl.denied.subscribe"] != 5 {
		t.Errorf("counters %v", c)
	}
}

// A device that publishes where it may not is disconnected under MQTT 3.1.1 (no negative PUBACK exists).
func TestACLv3PublishDisconnects(t *testing.T) {
	e := newEnv(t)
	lost := make(chan error, 1)
	dev := e.v3("ac-12", e.token("ac-12", signing.RoleDevice), func(o *pahov3.ClientOptions) {
		o.SetConnectionLostHandler(func(_ pahov3.Client, err error) { lost <- err })
	})
	dev.Publish("devices/ac-13/telemetry", 1, false, `{}`)
	select {
	case <-lost:
	case <-time.After(waitLimit):
		t.Fatal("still connected")
	}
	if n := len(e.messages("telemetry-devices")); n != 0 {
		t.Errorf("stored %d", n)
	}
}

// An MQTT 3.1.1 client that publishes to a $ topic at QoS 1 is disconnected too, rather than left waiting for
// the PUBACK the server would never send; at QoS 0 the publish is dropped and the client stays.
func TestReservedTopicV3(t *testing.T) {
	e := newEnv(t)
	lost := make(chan error, 1)
	op := e.v3("ops", e.token("ops", signing.RoleMember), func(o *pahov3.ClientOptions) {
		o.SetConnectionLostHandler(func(_ pahov3.Client, err error) { lost <- err })
	})
	if err := wait(t, op.Publish("$SYS/x", 0, false, `{}`)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the QoS 0 publish refused", func() bool { return e.b.Counters()["acl.denied.publish"] == 1 })
	if !op.IsConnectionOpen() {
		t.Fatal("disconnected for a QoS 0 publish")
	}
	op.Publish("$SYS/x", 1, false, `{}`)
	select {
	case <-lost:
	case <-time.After(waitLimit):
		t.Fatal("still connected after a QoS 1 publish to $SYS, and no PUBACK can come")
	}
}

// Without auth anyone connects, in the default project, and the username (else the client id) is the
// device id.
func TestAuthNone(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Auth = AuthNone; c.DefaultProject = testProject })
	th := e.v3("th-4", "")
	if err := wait(t, th.Publish("devices/th-4/telemetry", 1, false, `{"t":19}`)); err != nil {
		t.Fatal(err)
	}
	msgs := e.messages("telemetry-devices")
	if len(msgs) != 1 || decodeEnvelope(t, msgs[0].Body).Device != "th-4" {
		t.Fatalf("stored %v", msgs)
	}
	got := make(chan pahov3.Message, 1)
	if err := wait(t, th.Subscribe("devices/th-4/commands", 1, func(_ pahov3.Client, m pahov3.Message) { got <- m })); err != nil {
		t.Fatal(err)
	}
	e.post("cmd-th-4", `{"set":20}`)
	select {
	case m := <-got:
		decodeCommand(t, m.Payload())
	case <-time.After(waitLimit):
		t.Fatal("command not delivered")
	}
}

// MQTT 5 clients are told the packet size and topic alias limits and the server's keepalive when theirs is
// out of bounds; a packet over the limit ends the connection.
func TestLimitsAnnounced(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxPacketSize = 2048 })
	c := e.v5("ops", e.token("ops", signing.RoleMember), func(cp *paho.Connect) { cp.KeepAlive = 0 })
	p := c.connack.Properties
	if p == nil || p.MaximumPacketSize == nil || *p.MaximumPacketSize != 2048 || p.TopicAliasMaximum == nil ||
		*p.TopicAliasMaximum != 16 || p.ServerKeepAlive == nil || *p.ServerKeepAlive != 300 {
		t.Fatalf("connack properties %+v", p)
	}
	// A packet over the limit ends the connection.
	if _, err := c.PublishWithOptions(context.Background(), &paho.Publish{Topic: "lobby/x", QoS: 1, Payload: make([]byte, 4096)},
		paho.PublishOptions{Method: paho.PublishMethod_AsyncSend}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Done():
	case <-time.After(waitLimit):
		t.Fatal("oversized publish accepted")
	}
}

// Sessions of connections that closed without a disconnect hook (broken before their CONNACK) are swept.
func TestSweepSessions(t *testing.T) {
	e := newEnv(t)
	e.v3("ac-1", e.token("ac-1", signing.RoleDevice))
	e.b.sessions.Store(&mqtt.Client{}, &session{}) // a closed client: never opened
	e.b.sweepSessions()
	n := 0
	e.b.sessions.Range(func(k, _ any) bool { n++; return true })
	if n != 1 {
		t.Errorf("%d sessions after the sweep, want the one connected client's", n)
	}
}

// ClientsConnected follows clients connecting and disconnecting (the metrics gauge reads it).
func TestClientsConnected(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Auth = AuthNone; c.DefaultProject = testProject })
	if n := e.b.ClientsConnected(); n != 0 {
		t.Fatalf("%d clients connected before any", n)
	}
	// The server counts a client on its own goroutine: wait for the count to settle.
	settle := func(want int64) {
		t.Helper()
		deadline := time.Now().Add(waitLimit)
		for e.b.ClientsConnected() != want && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if n := e.b.ClientsConnected(); n != want {
			t.Errorf("%d clients connected, want %d", n, want)
		}
	}
	c1, c2 := e.v3("cc-1", ""), e.v3("cc-2", "")
	settle(2)
	c1.Disconnect(0)
	settle(1)
	c2.Disconnect(0)
}
