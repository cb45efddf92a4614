package bridge

import (
	"bytes"
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/zedge-io/zedge/signing"
)

// A client that stopped reading its socket (a device behind a dead link whose TCP connection has not timed out
// yet, a paused process) holds the MQTT server's write to it, and the client's lock, for as long as the
// connection lasts. Shutdown still ends when its context does. (Shutdown's DISCONNECT to that client waited
// behind the stuck write, and Shutdown waited for that even after its context ended: it never returned.)
func TestShutdownWithClientNotReading(t *testing.T) {
	e := newEnv(t)
	conn := rawConnect(t, e.b.Addr(), "ops-stuck", e.token("ops-stuck", signing.RoleMember))
	stopReading(t, e, conn, 4)

	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- e.b.Shutdown(ctx) }()
	select {
	case <-done: // an error: the context ended first
	case <-time.After(waitLimit): // generous: a bound so that a regression fails rather than hangs
		t.Fatal("Shutdown did not return after its context ended")
	}
}

// stopReading subscribes a raw connection (of protocol version) to big/# and publishes to it, reading nothing,
// until the server's write to it blocks.
func stopReading(t *testing.T, e *env, conn net.Conn, version byte) {
	t.Helper()
	var sub bytes.Buffer
	pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Subscribe, Qos: 1}, PacketID: 1,
		Filters: packets.Subscriptions{{Filter: "big/#"}}, ProtocolVersion: version}
	if err := pk.SubscribeEncode(&sub); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Write(sub.Bytes()); err != nil {
		t.Fatal(err)
	}
	if typ, body := readPacket(t, conn); typ != 0x90 || body[len(body)-1] != 0 {
		t.Fatalf("SUBACK %#x %x", typ, body)
	}
	payload := bytes.Repeat([]byte("x"), 64<<10)
	for i := 0; !blockedIn("(*Client).WriteLoop(", "IO wait"); i++ {
		for range 32 {
			if err := e.b.Publish(testProject, "big/x", payload, 0, false); err != nil {
				t.Fatal(err)
			}
		}
		if i > 10000 {
			t.Fatal("the write to the client never blocked")
		}
	}
}

// readPacket reads one packet from a raw connection: its type byte and its body.
func readPacket(t *testing.T, conn net.Conn) (byte, []byte) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(waitLimit))
	defer func() { _ = conn.SetReadDeadline(time.Time{}) }()
	readByte := func() byte { // no buffer: nothing past this packet is read
		var b [1]byte
		if _, err := io.ReadFull(conn, b[:]); err != nil {
			t.Fatal(err)
		}
		return b[0]
	}
	typ := readByte()
	n, shift := 0, 0
	for {
		b := readByte()
		n |= int(b&0x7f) << shift
		if b&0x80 == 0 {
			break
		}
		shift += 7
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(conn, body); err != nil {
		t.Fatal(err)
	}
	return typ, body
}

// rawConnectV5 opens an MQTT 5 connection by hand with a fresh operator token, and returns it with the
// token's jti.
func rawConnectV5(t *testing.T, e *env, clientID string) (net.Conn, string) {
	t.Helper()
	c, err := signing.NewClaims(clientID, testProject, []string{signing.RoleMember}, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := signing.IssueToken(e.signer, c)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", e.b.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	connect := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connect}, ProtocolVersion: 5,
		Connect: packets.ConnectParams{ProtocolName: []byte("MQTT"), Clean: true, Keepalive: 60,
			ClientIdentifier: clientID, UsernameFlag: true, Username: []byte(clientID), PasswordFlag: true,
			Password: []byte(tok)}}
	var buf bytes.Buffer
	if err := connect.ConnectEncode(&buf); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Write(buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	if typ, body := readPacket(t, conn); typ != 0x20 || len(body) < 2 || body[1] != 0 {
		t.Fatalf("CONNACK %#x %x", typ, body)
	}
	return conn, c.ID
}

// The credential sweep is not held by a client that stopped reading: its DISCONNECT gets one credential_check
// to go out, then the connection is closed, and the sweep goes on to the other clients. (The sweep waited
// behind the stuck write for as long as that connection lasted, and no other client's expired or revoked
// token was acted on meanwhile.)
func TestSweepNotHeldByClientNotReading(t *testing.T) {
	e := newEnv(t, quickCheck)
	stuck, stuckJTI := rawConnectV5(t, e, "ops-stuck")
	stopReading(t, e, stuck, 5)
	tok, jti := e.mint("th-9", time.Hour)
	other := e.v5("th-9", tok)

	e.revoked.Store(stuckJTI, true)
	eventually(t, "the stuck client's token found revoked", func() bool {
		return e.b.Counters()["connection.dropped.token_revoked"] >= 1
	})
	e.revoked.Store(jti, true)
	if d := serverDisconnect(t, other); d.ReasonCode != 0x87 {
		t.Fatalf("DISCONNECT %#x, want 0x87", d.ReasonCode)
	}
}
