package bridge

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/zedge-io/zedge/signing"
	"github.com/zedge-io/zedge/store"
)

// A shutdown does not read what devices left in their sockets. Each device here has a backlog of QoS 0
// readings waiting in its connection while the only ingest slot is held; once Shutdown begins, at most what
// one read buffer holds may still be read per connection. Reading the backlog instead (as the bridge did,
// 1500 to 9700 of the 16000 here) made a shutdown after a flood of 1000 devices outlast every deadline.
func TestShutdownLeavesSocketBacklogUnread(t *testing.T) {
	const devices, backlog = 8, 2000
	g := &gatedStore{entered: make(chan struct{}, devices*backlog+1), gate: make(chan struct{})}
	e := newEnvOver(t, func(s store.Store) store.Store { g.Store = s; return g }, func(c *Config) {
		c.IngestConcurrency = 1
	})

	// The first reading takes the only slot and is held in the store.
	holder := e.v3("s-0", e.token("s-0", signing.RoleDevice))
	holder.Publish("sensors/b1/r0/t", 0, false, `0`)
	<-g.entered

	var publish bytes.Buffer
	pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish}, TopicName: "sensors/b1/r1/t",
		Payload: []byte(`{"v":1}`), ProtocolVersion: 4}
	if err := pk.PublishEncode(&publish); err != nil {
		t.Fatal(err)
	}
	conns := make([]net.Conn, devices)
	for i := range conns {
		id := "s-" + string(rune('a'+i))
		conns[i] = rawConnect(t, e.b.Addr(), id, e.token(id, signing.RoleDevice))
		// Readings beyond the first wait in the socket: its connection is blocked waiting for a slot.
		if _, err := conns[i].Write(bytes.Repeat(publish.Bytes(), backlog)); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "every device waiting for a slot", func() bool {
		return e.b.Counters()["telemetry.busy"] == 0 && len(e.b.srv.Clients.GetAll()) == devices+2 // + holder, inline
	})

	// Generous: a bound so that a regression fails rather than hangs.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- e.b.Shutdown(ctx) }()
	<-e.b.closing
	close(g.gate)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	c := e.b.Counters()
	readAfterClose := c["telemetry.busy"] + c["telemetry.stored"]
	perBuffer := uint64(DefaultReadBuffer/publish.Len() + 2)
	if limit := devices * perBuffer; readAfterClose > limit {
		t.Errorf("%d readings read after shutdown began (of %d in the sockets), want at most %d (one read buffer each)",
			readAfterClose, devices*backlog, limit)
	}
}

// rawConnect opens an MQTT 3.1.1 connection by hand, so that the test decides exactly what is in the socket.
func rawConnect(t *testing.T, addr, clientID, password string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	connect := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connect}, ProtocolVersion: 4,
		Connect: packets.ConnectParams{ProtocolName: []byte("MQTT"), Clean: true, Keepalive: 60,
			ClientIdentifier: clientID, UsernameFlag: true, Username: []byte(clientID), PasswordFlag: true,
			Password: []byte(password)}}
	var buf bytes.Buffer
	if err := connect.ConnectEncode(&buf); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Write(buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	connack := make([]byte, 4)
	if _, err := bufio.NewReader(conn).Read(connack); err != nil || connack[0] != 0x20 || connack[3] != 0 {
		t.Fatalf("CONNACK %x, %v", connack, err)
	}
	_ = conn.SetReadDeadline(time.Time{})
	return conn
}
