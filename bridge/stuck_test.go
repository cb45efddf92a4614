package bridge

import (
	"bytes"
	"context"
	"io"
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
	var sub bytes.Buffer
	pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Subscribe, Qos: 1}, PacketID: 1,
		Filters: packets.Subscriptions{{Filter: "big/#"}}, ProtocolVersion: 4}
	if err := pk.SubscribeEncode(&sub); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Write(sub.Bytes()); err != nil {
		t.Fatal(err)
	}
	suback := make([]byte, 5)
	if _, err := io.ReadFull(conn, suback); err != nil || suback[0] != 0x90 {
		t.Fatalf("SUBACK %x %v", suback, err)
	}
	// From now on the client reads nothing: publish to it until the server's write to it blocks.
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
