package wsapi

import (
	"fmt"
	"runtime"
	"slices"
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
