package wsapi

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// Frames and answers far larger than the smallest read and write buffers pass whole, in text and in msgpack:
// the buffers only size the socket's I/O, never a frame.
func TestFramesLargerThanBuffers(t *testing.T) {
	e := newEnv(t, envOption{cfg: func(c *Config) { c.ReadBufferSize, c.WriteBufferSize = 256, 256 }})
	c := e.dial()
	big := strings.Repeat("0123456789", 3000) // 30 kB in one frame, and in one answer frame
	c.mustDo(201, "message_post", map[string]any{"queue_name": "big", "messages": []any{
		map[string]any{"body": big, "ttl": 60}, map[string]any{"body": map[string]any{"k": big}, "ttl": 60}}})
	b := c.mustDo(200, "message_list", map[string]any{"queue_name": "big", "echo": true})
	msgs, _ := b.(map[string]any)["messages"].([]any)
	if len(msgs) != 2 || msgs[0].(map[string]any)["body"] != big ||
		msgs[1].(map[string]any)["body"].(map[string]any)["k"] != big {
		t.Fatalf("bodies did not come back whole: %d messages", len(msgs))
	}
	m := c.doMsgpack(map[string]any{"action": "message_list", "headers": map[string]any{"Client-ID": testClient,
		"X-Project-ID": testProject}, "body": map[string]any{"queue_name": "big", "echo": true}})
	msgs, _ = m["body"].(map[string]any)["messages"].([]any)
	if len(msgs) != 2 || msgs[0].(map[string]any)["body"] != big {
		t.Fatalf("msgpack bodies did not come back whole: %d messages", len(msgs))
	}
	// A socket subscription pushes a notification larger than the buffers too.
	sub := e.dial()
	sub.mustDo(201, "subscription_create", map[string]any{"queue_name": "big"})
	e.post(t, "big", `"`+big+`"`)
	if _, data := sub.read(); !bytes.Contains(data, []byte(big)) || len(data) < len(big) {
		t.Fatalf("push of %d bytes", len(data))
	}
}

// A client that sends its first frames in the same packet as the upgrade request (before the 101 arrives) is
// served: those bytes, read by the HTTP server with the request, reach the socket.
func TestFramesPipelinedWithUpgrade(t *testing.T) {
	e := newEnv(t)
	addr := strings.TrimSuffix(strings.TrimPrefix(e.url, "ws://"), "/")
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
	req := func(queue string) []byte {
		return maskedTextFrame([]byte(`{"action": "queue_create", "headers": {"Client-ID": "` + testClient +
			`", "X-Project-ID": "` + testProject + `"}, "body": {"queue_name": "` + queue + `"}}`))
	}
	packet := []byte("GET / HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	packet = append(append(packet, req("p1")...), req("p2")...)
	if _, err := nc.Write(packet); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(nc)
	status, err := br.ReadString('\n')
	if err != nil || !strings.Contains(status, " 101 ") {
		t.Fatalf("upgrade: %q %v", status, err)
	}
	for line := ""; line != "\r\n"; {
		if line, err = br.ReadString('\n'); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []string{"p1", "p2"} {
		var hdr [4]byte
		if _, err := io.ReadFull(br, hdr[:2]); err != nil {
			t.Fatal(err)
		}
		n := int(hdr[1] & 0x7f)
		if n == 126 {
			if _, err := io.ReadFull(br, hdr[2:]); err != nil {
				t.Fatal(err)
			}
			n = int(binary.BigEndian.Uint16(hdr[2:]))
		}
		answer := make([]byte, n)
		if _, err := io.ReadFull(br, answer); err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(answer, []byte(`"Queue `+q+` created."`)) {
			t.Errorf("answer for %s: %s", q, answer)
		}
	}
	// It reads through fasthttp's buffered reader, so it is served inside the hijack callback.
	if n := e.srv.detached.Load(); n != 0 {
		t.Errorf("a socket with pipelined frames was detached")
	}
}

// A socket of the own listener that reads the bare connection is served apart from fasthttp's hijack goroutine
// (its request context given back); one reading through fasthttp's buffered reader is not (see
// TestFramesPipelinedWithUpgrade, where the race detector also guards it: that reader reads through the
// request context).
func TestDetachOnlyBareSockets(t *testing.T) {
	e := newEnv(t)
	c := e.dial()
	c.mustDo(201, "queue_create", map[string]any{"queue_name": "d"})
	if n := e.srv.detached.Load(); n != 1 {
		t.Fatalf("a plain socket was not detached (%d)", n)
	}
}

type fakeHijack struct {
	net.Conn
	r io.Reader
}

func TestHijackedBare(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	for _, tc := range []struct {
		name string
		nc   net.Conn
		want bool
	}{
		{"reads the embedded conn", &fakeHijack{Conn: a, r: a}, true},
		{"reads another conn", &fakeHijack{Conn: a, r: b}, false},
		{"reads a buffered reader", &fakeHijack{Conn: a, r: bufio.NewReader(a)}, false},
		{"no reader", &fakeHijack{Conn: a}, false},
		{"nil", (*fakeHijack)(nil), false},
		{"another type", a, false},
	} {
		if got := hijackedBare(tc.nc); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// An answer is built in one allocation: its buffer is sized for the envelope, the echoed request and the reply.
func TestEncodeAllocatesOnce(t *testing.T) {
	e := newEnv(t)
	r := &request{actionRaw: json.RawMessage(`"subscription_create"`), headersRaw: json.RawMessage(`{"Client-ID": "x"}`),
		bodyRaw: json.RawMessage(`{"queue_name": "q"}`)}
	rep := reply{status: 201, body: []byte(`{"subscription_id": "5f3b", "message": "Subscription q created."}`)}
	var out []byte
	if n := testing.AllocsPerRun(100, func() { out = e.srv.encode(r, rep, false) }); n != 1 {
		t.Errorf("encode: %v allocations, want 1", n)
	}
	if !json.Valid(out) || !bytes.HasSuffix(out, []byte(`"headers": {"status": 201}}`)) {
		t.Errorf("answer %s", out)
	}
}
