package wsapi

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/zedge-io/zedge/broker"
)

// BenchmarkFanOut posts one message per iteration to a queue that N sockets subscribed to, and waits until
// every socket has received its notification. It reports the fan-out latency from the post to each socket's
// receipt (p50, p99, max over all deliveries) and the heap held per open, subscribed socket (client and
// server ends together: both live in this process).
func BenchmarkFanOut(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("sockets=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			e := newEnv(b, envOption{cfg: func(c *Config) { c.MaxConnections = n + 10 }})
			runtime.GC()
			var before runtime.MemStats
			runtime.ReadMemStats(&before)

			var mu sync.Mutex
			var lat []time.Duration
			var posted time.Time
			var got sync.WaitGroup
			clients := make([]*websocket.Conn, n)
			for i := range clients {
				c := e.dial()
				c.mustDo(201, "subscription_create", map[string]any{"queue_name": "fan"})
				clients[i] = c.ws
			}
			runtime.GC()
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			perSocket := float64(after.HeapInuse-before.HeapInuse) / float64(n)

			for _, ws := range clients {
				go func(ws *websocket.Conn) {
					for {
						_ = ws.SetReadDeadline(time.Now().Add(time.Minute))
						if _, _, err := ws.ReadMessage(); err != nil {
							return
						}
						d := time.Since(posted)
						mu.Lock()
						lat = append(lat, d)
						mu.Unlock()
						got.Done()
					}
				}(ws)
			}
			body := []byte(`{"messages": [{"body": {"set": 21.5, "room": "r101"}, "ttl": 60}]}`)
			b.ResetTimer()
			for range b.N {
				got.Add(n)
				mu.Lock()
				posted = time.Now()
				mu.Unlock()
				if _, err := e.svc.PostMessages(b.Context(), broker.Caller{Project: testProject}, "fan", body, 0); err != nil {
					b.Fatal(err)
				}
				got.Wait()
			}
			b.StopTimer()
			mu.Lock()
			slices.Sort(lat)
			if len(lat) > 0 {
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
				b.ReportMetric(float64(lat[len(lat)-1].Microseconds()), "max-µs")
			}
			mu.Unlock()
			b.ReportMetric(perSocket, "heap-bytes/socket")
		})
	}
}

// BenchmarkIdleSocket opens one socket per iteration over a bare TCP connection (no client library, so the
// client side holds next to nothing in this process), makes a socket subscription and leaves it idle. It reports
// the Go heap plus goroutine stacks held per idle subscribed socket, after a few collections, as a server that has
// been running a while holds them.
func BenchmarkIdleSocket(b *testing.B) {
	b.ReportAllocs()
	e := newEnv(b, envOption{cfg: func(c *Config) { c.MaxConnections = b.N + 10 }})
	addr := strings.TrimSuffix(strings.TrimPrefix(e.url, "ws://"), "/")
	conns := make([]net.Conn, 0, b.N)
	b.Cleanup(func() {
		for _, c := range conns {
			_ = c.Close()
		}
	})
	req := []byte(`{"action": "subscription_create", "headers": {"Client-ID": "` + testClient + `", "X-Project-ID": "` +
		testProject + `"}, "body": {"queue_name": "idle", "ttl": 3600}}`)
	before := goMemory()
	b.ResetTimer()
	for range b.N {
		conns = append(conns, rawSubscribe(b, addr, req))
	}
	b.StopTimer()
	after := goMemory()
	b.ReportMetric(float64(after-before)/float64(b.N), "B/socket")
}

// goMemory is the Go heap in use plus goroutine stacks, after a few collections (each may halve the stack of a
// goroutine that uses little of it, as the collections of a long-running server do).
func goMemory() uint64 {
	for range 5 {
		runtime.GC()
	}
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc + m.StackInuse
}

// rawSubscribe upgrades a bare TCP connection, sends req as one masked text frame and checks that the answer
// frame has status 201.
func rawSubscribe(b *testing.B, addr string, req []byte) net.Conn {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	hs := "GET / HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := c.Write([]byte(hs)); err != nil {
		b.Fatal(err)
	}
	br := bufio.NewReaderSize(c, 512)
	status, err := br.ReadString('\n')
	if err != nil || !strings.Contains(status, " 101 ") {
		b.Fatalf("upgrade: %q %v", status, err)
	}
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			b.Fatal(err)
		}
		if line == "\r\n" {
			break
		}
	}
	if _, err := c.Write(maskedTextFrame(req)); err != nil {
		b.Fatal(err)
	}
	var hdr [4]byte
	if _, err := io.ReadFull(br, hdr[:2]); err != nil {
		b.Fatal(err)
	}
	n := int(hdr[1] & 0x7f)
	if n == 126 {
		if _, err := io.ReadFull(br, hdr[2:4]); err != nil {
			b.Fatal(err)
		}
		n = int(binary.BigEndian.Uint16(hdr[2:4]))
	}
	answer := make([]byte, n)
	if _, err := io.ReadFull(br, answer); err != nil {
		b.Fatal(err)
	}
	if !bytes.Contains(answer, []byte(`"status": 201`)) && !bytes.Contains(answer, []byte(`"status":201`)) {
		b.Fatalf("subscription_create: %s", answer)
	}
	if br.Buffered() != 0 {
		b.Fatalf("unexpected bytes after the answer")
	}
	_ = c.SetDeadline(time.Time{})
	return c
}

// maskedTextFrame is payload as one client (masked) text frame.
func maskedTextFrame(payload []byte) []byte {
	f := []byte{0x81}
	switch n := len(payload); {
	case n < 126:
		f = append(f, 0x80|byte(n))
	case n < 1<<16:
		f = append(f, 0x80|126, byte(n>>8), byte(n))
	default:
		f = append(f, 0x80|127)
		f = binary.BigEndian.AppendUint64(f, uint64(n))
	}
	mask := [4]byte{0x12, 0x34, 0x56, 0x78}
	f = append(f, mask[:]...)
	for i, c := range payload {
		f = append(f, c^mask[i%4])
	}
	return f
}
