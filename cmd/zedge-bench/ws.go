package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/valyala/fasthttp"
)

// workloadWSIdle is the websocket idle workload: sockets on zedge's own websocket listener, each subscribed to a
// queue (a socket subscription, as the mobile app makes), sitting idle.
const workloadWSIdle = "ws-idle"

// wsSocketsFor is the number of sockets ws-idle opens (n > 0, from -devices, overrides the default).
func wsSocketsFor(n int, short bool) int {
	switch {
	case n > 0:
		return n
	case short:
		return 200
	}
	return 1000
}

// wsQueues is how many queues the idle sockets spread their subscriptions over.
const wsQueues = 10

// runWSIdle is ws-idle: the server's RSS (sampled by the orchestrator at the markers) and Go heap (from
// /metrics on target) before and after n sockets connect to the websocket listener at wsAddr, each sends
// subscription_create for a queue and reads its 201, and all sit idle.
func runWSIdle(cfg loadConfig, wsAddr string, out io.Writer) error {
	n := cfg.Devices
	if wsAddr == "" || n < 1 {
		return fmt.Errorf("%s needs -ws and a socket count", cfg.Workload)
	}
	target := strings.Split(cfg.Target, ",")[0]
	heapBefore := serverHeapInuse(target)
	start, cpuStart := beginIdleMeasure(out)
	socks, err := openIdleSockets(wsAddr, n, cfg.Project, cfg.Run)
	defer func() {
		for _, s := range socks {
			if s != nil {
				_ = s.Close()
			}
		}
	}()
	if err != nil {
		return err
	}
	elapsed, loadCPU := endIdleMeasure(out, start, cpuStart)
	heapAfter := serverHeapInuse(target)

	// Every socket must still be open: a ping answered with a pong proves it, and the server closes none of them
	// while they idle within two ping intervals.
	open := 0
	for _, s := range socks {
		if s.WriteControl(websocket.PingMessage, nil, time.Now().Add(5*time.Second)) == nil {
			open++
		}
	}
	res := LoadResult{Workload: cfg.Workload, Conns: n, Requests: uint64(n), Elapsed: elapsed.Seconds(),
		LoadCPU: loadCPU, ErrorKind: map[string]int{}}
	res.Note = "req/s is sockets connected and subscribed per second; cpu s/1k req is server CPU per 1k of them"
	if heapBefore > 0 && heapAfter > 0 {
		res.Note += fmt.Sprintf("; Go heap in use %s → %s, %.1f KiB per socket (stacks not included)",
			formatBytes(heapBefore), formatBytes(heapAfter), float64(heapAfter-heapBefore)/1024/float64(n))
	}
	if open != n {
		res.Errors = uint64(n - open)
		res.ErrorKind["dropped"] = n - open
	}
	return emit(out, res)
}

// openIdleSockets dials n sockets (a few at a time, so the accept backlog never overflows), subscribes each
// to queue ws-idle-<run>-<i%wsQueues> with Zaqar's subscription_create (no subscriber: the socket itself), and
// leaves a reader on each that answers the server's pings and drops anything else.
func openIdleSockets(addr string, n int, project, run string) ([]*websocket.Conn, error) {
	socks := make([]*websocket.Conn, n)
	dialer := &websocket.Dialer{HandshakeTimeout: 30 * time.Second, ReadBufferSize: 1024, WriteBufferSize: 1024}
	sem := make(chan struct{}, 32)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ws, err := subscribeSocket(dialer, addr, project, fmt.Sprintf("ws-idle-%s-%d", run, i%wsQueues))
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("socket %d: %w", i, err))
				return
			}
			socks[i] = ws
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return socks, fmt.Errorf("%d of %d sockets failed, first: %w", len(errs), n, errs[0])
	}
	for _, ws := range socks {
		go func() {
			for {
				if _, _, err := ws.ReadMessage(); err != nil {
					return
				}
			}
		}()
	}
	return socks, nil
}

// subscribeSocket opens one socket and makes its subscription, checking the 201 answer.
func subscribeSocket(d *websocket.Dialer, addr, project, queue string) (*websocket.Conn, error) {
	ws, resp, err := d.Dial("ws://"+addr+"/", nil)
	if err != nil {
		return nil, err
	}
	_ = resp.Body.Close()
	req, _ := json.Marshal(map[string]any{
		"action":  "subscription_create",
		"headers": map[string]string{"Client-ID": newUUID(), "X-Project-ID": project},
		"body":    map[string]any{"queue_name": queue, "ttl": 3600},
	})
	_ = ws.SetWriteDeadline(time.Now().Add(30 * time.Second))
	_ = ws.SetReadDeadline(time.Now().Add(30 * time.Second))
	if err := ws.WriteMessage(websocket.TextMessage, req); err != nil {
		_ = ws.Close()
		return nil, err
	}
	_, data, err := ws.ReadMessage()
	if err != nil {
		_ = ws.Close()
		return nil, err
	}
	var answer struct {
		Headers struct {
			Status int `json:"status"`
		} `json:"headers"`
	}
	if err := json.Unmarshal(data, &answer); err != nil || answer.Headers.Status != 201 {
		_ = ws.Close()
		return nil, errors.Join(fmt.Errorf("subscription_create answered %.200s", data), err)
	}
	_ = ws.SetReadDeadline(time.Time{})
	_ = ws.SetWriteDeadline(time.Time{})
	return ws, nil
}

// serverHeapInuse is go_memstats_heap_inuse_bytes from zedge's /metrics (0 when it cannot be read).
func serverHeapInuse(target string) int64 {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("http://" + target + "/metrics")
	if err := fasthttp.DoTimeout(req, resp, 10*time.Second); err != nil || resp.StatusCode() != 200 {
		return 0
	}
	return int64(parseExposition(resp.Body())["go_memstats_heap_inuse_bytes"])
}

// wsIdleNote describes the per-socket memory of ws-idle from the server's RSS before and after.
func wsIdleNote(sockets int, before, after int64) string {
	per := float64(after-before) / 1024 / float64(max(sockets, 1))
	return fmt.Sprintf("%d idle websockets (each subscribed to a queue by subscription_create): server RSS %s → "+
		"%s, %.1f KiB per idle socket (RSS includes Go runtime overhead: heap slack and goroutine stacks)",
		sockets, formatBytes(before), formatBytes(after), per)
}
