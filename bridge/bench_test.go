package bridge

import (
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	pahov3 "github.com/eclipse/paho.mqtt.golang"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/zedge-io/zedge/broker"
	"github.com/zedge-io/zedge/signing"
)

func BenchmarkTelemetryMapping(b *testing.B) {
	m := defaultMapper(b)
	for _, topic := range []string{"sensors/b1/r101/temp", "devices/ac-12/telemetry", "lobby/screen/brightness"} {
		b.Run(topic, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = m.Telemetry(topic)
			}
		})
	}
}

func BenchmarkPatternCovers(b *testing.B) {
	p, _ := ParsePattern("devices/{device}/commands")
	b.ReportAllocs()
	for b.Loop() {
		p.Covers("devices/ac-12/commands", 0, "ac-12")
	}
}

func BenchmarkEnvelope(b *testing.B) {
	meta := Meta{Topic: "sensors/b1/r101/temp", Device: "s-17", ReceivedAt: testTime}
	for _, tc := range []struct {
		name    string
		payload []byte
	}{
		{"json-100B", []byte(`{"seq":123456,"kind":"temp","value":21.53,"unit":"C","battery":0.87,"rssi":-67,"fw":"1.4.2"}`)},
		{"json-1KiB", append(append([]byte(`{"samples":"`), bytes.Repeat([]byte("x"), 1000)...), `"}`...)},
		{"binary-100B", bytes.Repeat([]byte{0xfe}, 100)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(tc.payload)))
			buf := make([]byte, 0, 4096)
			for b.Loop() {
				buf = AppendEnvelope(buf[:0], tc.payload, meta, false)
			}
		})
	}
}

// BenchmarkIngest publishes ~100-byte JSON readings from 32 MQTT 3.1.1 clients in this process (each waits
// for its PUBACK at QoS 1) into a bridge over the in-memory store, and reports msgs/s and the CPU time per
// message. The clients run in this process, on the same CPUs: msgs/s is a lower bound for the broker alone
// and cpu-µs/msg an upper bound.
func BenchmarkIngest(b *testing.B) {
	for _, qos := range []byte{0, 1} {
		b.Run(fmt.Sprintf("qos%d", qos), func(b *testing.B) {
			e := newBenchEnv(b)
			const clients = 32
			payload := []byte(`{"seq":123456,"kind":"temp","value":21.53,"unit":"C","battery":0.87,"rssi":-67,"fw":"1.4.2"}`)
			conns := make([]pahov3.Client, clients)
			for i := range conns {
				conns[i] = e.v3(fmt.Sprintf("s-%d", i), e.token(fmt.Sprintf("s-%d", i), signing.RoleDevice))
			}
			var next atomic.Int64
			b.SetBytes(int64(len(payload)))
			b.ReportAllocs()
			b.ResetTimer()
			start, cpu0 := time.Now(), cpuTime()
			var wg sync.WaitGroup
			for i, c := range conns {
				wg.Add(1)
				go func() {
					defer wg.Done()
					topic := fmt.Sprintf("sensors/b%d/r%d/temp", i%8, i)
					var last pahov3.Token
					for next.Add(1) <= int64(b.N) {
						last = c.Publish(topic, qos, false, payload)
						if qos == 1 {
							last.Wait()
						}
					}
					if last != nil {
						last.Wait()
					}
				}()
			}
			wg.Wait()
			if qos == 0 {
				// QoS 0 has no acknowledgement: wait until the broker has stored everything sent.
				deadline := time.Now().Add(waitLimit)
				for e.b.Counters()["telemetry.stored"] < uint64(b.N) {
					if time.Now().After(deadline) {
						b.Fatalf("stored %v of %d", e.b.Counters(), b.N)
					}
					time.Sleep(time.Millisecond)
				}
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/msg")
		})
	}
}

// BenchmarkCommandRoundTrip posts one command at a time, as REST would, to a connected device and measures
// until the device's PUBACK has deleted it (seen as the status record's post). It reports p50 and p99.
func BenchmarkCommandRoundTrip(b *testing.B) {
	e := newBenchEnv(b)
	ac := e.v3("ac-1", e.token("ac-1", signing.RoleDevice))
	if tok := ac.Subscribe("devices/ac-1/commands", 1, func(pahov3.Client, pahov3.Message) {}); !tok.WaitTimeout(waitLimit) {
		b.Fatal("subscribe timed out")
	}
	done := make(chan struct{}, 1)
	e.posts.onQueue = func(q string) {
		if q == "cmd-results" {
			done <- struct{}{}
		}
	}
	body := []byte(`{"messages":[{"ttl":300,"body":{"setpoint":21.5}}]}`)
	caller := broker.Caller{Project: testProject, ClientID: broker.ClientID{2}}
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	for b.Loop() {
		t0 := time.Now()
		if _, err := e.svc.PostMessages(e.ctx, caller, "cmd-ac-1", body, 0); err != nil {
			b.Fatal(err)
		}
		<-done
		lat = append(lat, time.Since(t0))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkIdleDevice connects devices that authenticate with a token, subscribe to their command topic and
// then stay idle, and reports the Go heap and goroutine stacks they cost the broker per device (B/device is
// their sum), and the goroutines per device. In "delivered" each device has also received and acknowledged
// one QoS 1 message on its command topic (published by the MQTT server itself, so that no store work is
// counted), which leaves the connection's writing goroutine with the stack its first write needed.
//
// The devices are bare sockets driven by system calls (fdConn), so that the figures hold the broker's side
// alone: with net.Conn clients in this process their own sockets counted ~0.3 KB per device. b.N connections
// are open at once (run it with -benchtime 2000x or so) and closed when the run ends. Read the first run of a
// process (-count 1): later runs reuse the goroutine descriptors the earlier ones freed (~0.5 KB per
// goroutine), and their goroutines start with the stack size the runtime derived from the earlier run's
// (GODEBUG adaptivestackstart), which is what a long-running broker does.
func BenchmarkIdleDevice(b *testing.B) {
	for _, delivered := range []bool{false, true} {
		name := "subscribed"
		if delivered {
			name = "delivered"
		}
		b.Run(name, func(b *testing.B) { benchIdleDevices(b, delivered) })
	}
}

func benchIdleDevices(b *testing.B, delivered bool) {
	e := newBenchEnv(b)
	addr, err := netip.ParseAddrPort(e.b.Addr())
	if err != nil {
		b.Fatal(err)
	}
	conns := make([]fdConn, 0, b.N)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	tokens := make([]string, b.N)
	for i := range tokens {
		tokens[i] = e.token(fmt.Sprintf("d-%d", i), signing.RoleDevice)
	}
	payload := []byte(`{"id":"6f1c2a0e9b3d4c7a8e5f","body":{"setpoint":21.5},"ttl":300,"age":0}`)
	heap0, stack0 := goMemory()
	g0 := runtime.NumGoroutine()
	b.ResetTimer()
	for i := range b.N {
		c, err := dialFD(addr)
		if err != nil {
			b.Fatal(err)
		}
		conns = append(conns, c)
		id := fmt.Sprintf("d-%d", i)
		topic := "devices/" + id + "/commands"
		rawConnectSubscribe(b, c, id, tokens[i], topic)
		if delivered {
			if err := e.b.srv.Publish(namespaceOf(testProject)+topic, payload, false, 1); err != nil {
				b.Fatal(err)
			}
			rawReceiveAck(b, c, topic)
			waitInflightEmpty(b, e, id)
		}
	}
	b.StopTimer()
	heap1, stack1 := goMemory()
	n := float64(b.N)
	heap, stack := float64(heap1)-float64(heap0), float64(stack1)-float64(stack0)
	b.ReportMetric((heap+stack)/n, "B/device")
	b.ReportMetric(heap/n, "heap-B/device")
	b.ReportMetric(stack/n, "stack-B/device")
	b.ReportMetric(float64(runtime.NumGoroutine()-g0)/n, "goroutines/device")
}

// rawReceiveAck reads one MQTT 3.1.1 QoS 1 PUBLISH on topic and acknowledges it.
func rawReceiveAck(b *testing.B, c io.ReadWriter, topic string) {
	var head [1]byte
	if _, err := io.ReadFull(c, head[:]); err != nil || head[0]>>4 != packets.Publish || head[0]>>1&3 != 1 {
		b.Fatalf("publish expected: %v % x", err, head)
	}
	remaining, shift := 0, 0
	for {
		var l [1]byte
		if _, err := io.ReadFull(c, l[:]); err != nil || shift > 21 {
			b.Fatalf("publish length: %v", err)
		}
		remaining |= int(l[0]&0x7f) << shift
		shift += 7
		if l[0]&0x80 == 0 {
			break
		}
	}
	body := make([]byte, remaining)
	if _, err := io.ReadFull(c, body); err != nil {
		b.Fatal(err)
	}
	n := int(body[0])<<8 | int(body[1])
	if len(body) < 2+n+2 || string(body[2:2+n]) != topic {
		b.Fatalf("publish on %q, want %q", body[2:min(2+n, len(body))], topic)
	}
	id := body[2+n : 2+n+2]
	if _, err := c.Write([]byte{packets.Puback << 4, 2, id[0], id[1]}); err != nil {
		b.Fatal(err)
	}
}

// waitInflightEmpty waits until the broker has taken the client's acknowledgement.
func waitInflightEmpty(b *testing.B, e *env, clientID string) {
	deadline := time.Now().Add(waitLimit)
	for {
		cl, ok := e.b.srv.Clients.Get(namespaceOf(testProject) + clientID)
		if ok && cl.State.Inflight.Len() == 0 {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("%s: acknowledgement not taken", clientID)
		}
		time.Sleep(50 * time.Microsecond)
	}
}

// fdConn is a blocking TCP socket used through system calls: unlike a net.Conn it holds no Go memory, so
// that a benchmark's clients do not count as the broker's.
type fdConn int

func dialFD(addr netip.AddrPort) (fdConn, error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		return -1, err
	}
	syscall.CloseOnExec(fd)
	if err := syscall.Connect(fd, &syscall.SockaddrInet4{Port: int(addr.Port()), Addr: addr.Addr().As4()}); err != nil {
		_ = syscall.Close(fd)
		return -1, err
	}
	return fdConn(fd), nil
}

func (c fdConn) Read(p []byte) (int, error) {
	n, err := syscall.Read(int(c), p)
	switch {
	case err != nil:
		return 0, err
	case n == 0 && len(p) > 0:
		return 0, io.EOF
	}
	return n, nil
}

func (c fdConn) Write(p []byte) (int, error) {
	written := 0
	for written < len(p) {
		n, err := syscall.Write(int(c), p[written:])
		if err != nil {
			return written, err
		}
		written += n
	}
	return written, nil
}

func (c fdConn) Close() error { return syscall.Close(int(c)) }

// cpuTime is the CPU time (user and system) this process has used: broker and test clients together.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// goMemory is the Go heap in use and the goroutine stacks, after a few collections (each may halve the stack
// of a goroutine that uses less than a quarter of it, as the collections of a long-running server do).
func goMemory() (heap, stacks uint64) {
	for range 5 {
		runtime.GC()
	}
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc, m.StackInuse
}

// rawConnectSubscribe sends an MQTT 3.1.1 CONNECT and SUBSCRIBE and reads the CONNACK and SUBACK.
func rawConnectSubscribe(b *testing.B, c io.ReadWriter, id, token, filter string) {
	var buf bytes.Buffer
	connect := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connect}, ProtocolVersion: 4,
		Connect: packets.ConnectParams{ProtocolName: []byte("MQTT"), ClientIdentifier: id, Clean: true, Keepalive: 60,
			UsernameFlag: true, Username: []byte(id), PasswordFlag: true, Password: []byte(token)}}
	if err := connect.ConnectEncode(&buf); err != nil {
		b.Fatal(err)
	}
	sub := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Subscribe, Qos: 1}, ProtocolVersion: 4,
		PacketID: 1, Filters: packets.Subscriptions{{Filter: filter, Qos: 1}}}
	if err := sub.SubscribeEncode(&buf); err != nil {
		b.Fatal(err)
	}
	if _, err := c.Write(buf.Bytes()); err != nil {
		b.Fatal(err)
	}
	var ack [4 + 5]byte // CONNACK (4 bytes), SUBACK (5 bytes)
	if _, err := io.ReadFull(c, ack[:]); err != nil || ack[3] != 0 || ack[8] != 1 {
		b.Fatalf("connect/subscribe: %v % x", err, ack)
	}
}
