package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	pahov3 "github.com/eclipse/paho.mqtt.golang"
	"github.com/valyala/fasthttp"
)

// MQTT workload names. They run against the bridge's default rules with auth none: every client is an operator
// in project mqttProject and its device id is its client id.
const (
	workloadMQTTQoS1 = "mqtt-qos1"
	workloadMQTTQoS0 = "mqtt-qos0"
	workloadMQTTCmd  = "mqtt-cmd"
	workloadMQTTIdle = "mqtt-idle"
	// The QoS 0 flood runs last of the latency workloads: for some twenty seconds after it (its zedge stopped,
	// its data removed, even after a sync(2)) this virtual machine stays slow, and mqtt-cmd right after it
	// measured a p99 of 60-137 ms against 2 ms twenty seconds later or on its own.
	mqttWorkloadSet = workloadMQTTQoS1 + "," + workloadMQTTCmd + "," + workloadMQTTIdle + "," + workloadMQTTQoS0
	mqttProject     = "default"
	// telemetryBuildings is how many telemetry queues the devices spread over (sensors/b{n%10}/... →
	// telemetry-b{n%10}).
	telemetryBuildings = 10
	// commandRate is the open-loop rate of mqtt-cmd, in commands per second over all devices.
	commandRate = 1000
)

// mqttRate is -mqtt-rate in the load process: publishes per second over all devices of mqtt-qos1/mqtt-qos0
// (0: closed loop).
var mqttRate int

// mqttWorkloads maps each MQTT workload to its load function.
var mqttWorkloads = map[string]func(cfg loadConfig, out io.Writer) error{
	workloadMQTTQoS1: func(cfg loadConfig, out io.Writer) error { return runTelemetry(cfg, out, 1) },
	workloadMQTTQoS0: func(cfg loadConfig, out io.Writer) error { return runTelemetry(cfg, out, 0) },
	workloadMQTTCmd:  runCommands,
	workloadMQTTIdle: runIdle,
}

// Markers around which the orchestrator samples the server's RSS (mqtt-idle).
const (
	markRSSBefore = "rss-before"
	markRSSAfter  = "rss-after"
)

// devicesFor is the number of MQTT devices a workload connects (devices > 0 overrides the default).
func devicesFor(workload string, devices int, short bool) int {
	if devices > 0 {
		return devices
	}
	switch workload {
	case workloadMQTTCmd:
		return 100
	case workloadMQTTIdle:
		if short {
			return 200
		}
		return 1000
	case workloadMQTTQoS1, workloadMQTTQoS0:
		return 1000
	}
	return 0
}

// deviceID names device n.
func deviceID(n int) string { return fmt.Sprintf("dev-%04d", n) }

// telemetryTopic is device n's topic; the default rule stores it in telemetry-b{n%10}.
func telemetryTopic(n int) string {
	return fmt.Sprintf("sensors/b%d/r%d/temp", n%telemetryBuildings, n)
}

// telemetryPayload is a sensor reading of about 100 bytes of JSON.
func telemetryPayload(n int) []byte {
	head := fmt.Sprintf(`{"sensor":"%s","kind":"temp","value":%d.%d,"unit":"C","note":"`, deviceID(n), 18+n%8, n%10)
	pad := max(100-len(head)-2, 0)
	b := make([]byte, 0, len(head)+pad+2)
	b = append(b, head...)
	for range pad {
		b = append(b, 'x')
	}
	return append(b, '"', '}')
}

// raiseFileLimit lifts the soft open-files limit to the hard one: a thousand MQTT connections (and, in the
// server, which inherits the limit, their other ends) need more than the usual 1024 descriptors.
func raiseFileLimit() {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
}

// connectDevices connects n MQTT 3.1.1 clients dev-0000.. (a few at a time, so the accept backlog never
// overflows); onConnect runs for each connected client (to subscribe) and must not block for long.
func connectDevices(addr string, n int, onConnect func(i int, c pahov3.Client) error) ([]pahov3.Client, error) {
	clients := make([]pahov3.Client, n)
	sem := make(chan struct{}, 32)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for i := range n {
		opts := pahov3.NewClientOptions().AddBroker("tcp://" + addr).SetClientID(deviceID(i)).
			SetProtocolVersion(4).SetCleanSession(true).SetAutoReconnect(false).SetConnectRetry(false).
			SetKeepAlive(2 * time.Minute).SetConnectTimeout(30 * time.Second).SetOrderMatters(false).
			SetWriteTimeout(30 * time.Second)
		clients[i] = pahov3.NewClient(opts)
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			err := waitToken(clients[i].Connect())
			if err == nil && onConnect != nil {
				err = onConnect(i, clients[i])
			}
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = fmt.Errorf("device %s: %w", deviceID(i), err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		disconnectAll(clients)
		return nil, firstErr
	}
	return clients, nil
}

func waitToken(t pahov3.Token) error {
	if !t.WaitTimeout(30 * time.Second) {
		return errors.New("no answer within 30s")
	}
	return t.Error()
}

func disconnectAll(clients []pahov3.Client) {
	var wg sync.WaitGroup
	for _, c := range clients {
		if c != nil && c.IsConnected() {
			wg.Add(1)
			go func() { defer wg.Done(); c.Disconnect(100) }()
		}
	}
	wg.Wait()
}

// restClient talks to zedge's REST API as an operator of mqttProject.
type restClient struct {
	hc       *fasthttp.HostClient
	clientID string
}

func newRESTClient(target string, conns int) *restClient {
	return &restClient{
		hc: &fasthttp.HostClient{Addr: target, MaxConns: conns, ReadTimeout: 30 * time.Second,
			// A QoS 0 flood can keep zedge from accepting for longer than fasthttp's default 3 s dial timeout.
			Dial:         func(addr string) (net.Conn, error) { return fasthttp.DialTimeout(addr, 30*time.Second) },
			WriteTimeout: 30 * time.Second, MaxIdemponentCallAttempts: 1, MaxConnWaitTimeout: 30 * time.Second},
		clientID: newUUID(),
	}
}

// do sends one request and returns the status and body.
func (r *restClient) do(method, path string, body []byte) (int, []byte, error) {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.Header.SetMethod(method)
	req.SetRequestURI("http://" + r.hc.Addr + path)
	req.Header.Set("Client-ID", r.clientID)
	req.Header.Set("X-Project-ID", mqttProject)
	if body != nil {
		req.Header.SetContentType("application/json")
		req.SetBodyRaw(body)
	}
	if err := r.hc.Do(req, resp); err != nil {
		return 0, nil, err
	}
	return resp.StatusCode(), append([]byte(nil), resp.Body()...), nil
}

// queueTotal returns messages.total from a queue's stats (0 for a queue that does not exist).
func (r *restClient) queueTotal(queue string) (int, error) {
	status, body, err := r.do("GET", "/v2/queues/"+queue+"/stats", nil)
	if err != nil {
		return 0, err
	}
	if status == 404 {
		return 0, nil
	}
	if status != 200 {
		return 0, fmt.Errorf("stats of %s: status %d: %s", queue, status, body)
	}
	return parseStatsTotal(body)
}

// parseStatsTotal extracts messages.total from a Zaqar queue stats body.
func parseStatsTotal(body []byte) (int, error) {
	var stats struct {
		Messages *struct {
			Total *int `json:"total"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(body, &stats); err != nil {
		return 0, fmt.Errorf("stats body: %w", err)
	}
	if stats.Messages == nil || stats.Messages.Total == nil {
		return 0, fmt.Errorf("stats body has no messages.total: %s", body)
	}
	return *stats.Messages.Total, nil
}

// sumTotals sums messages.total over queues.
func (r *restClient) sumTotals(queues []string) (int, error) {
	sum := 0
	for _, q := range queues {
		n, err := r.queueTotal(q)
		if err != nil {
			return 0, err
		}
		sum += n
	}
	return sum, nil
}

// settledTotal sums the totals of queues, polling until two readings half a second apart agree (the server may
// still be storing what was sent last) or want(sum) holds; settled is false when thirty seconds passed first.
func (r *restClient) settledTotal(queues []string, want func(int) bool) (sum int, settled bool, err error) {
	last := -1
	deadline := time.Now().Add(30 * time.Second)
	for {
		if sum, err = r.sumTotals(queues); err != nil {
			return 0, false, err
		}
		if (sum == last && want == nil) || (want != nil && want(sum)) {
			return sum, true, nil
		}
		if time.Now().After(deadline) {
			return sum, false, nil
		}
		last = sum
		time.Sleep(500 * time.Millisecond)
	}
}

// emit prints the result line.
func emit(out io.Writer, res LoadResult) error {
	raw, err := json.Marshal(res)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "%s%s\n", markResult, raw)
	return err
}

// runTelemetry is mqtt-qos1 / mqtt-qos0: every device publishes its reading in a closed loop, waiting for each
// token (QoS 1: the PUBACK, sent after the store write; QoS 0: the write to the socket).
func runTelemetry(cfg loadConfig, out io.Writer, qos byte) error {
	n := cfg.Devices
	clients, err := connectDevices(cfg.MQTT, n, nil)
	if err != nil {
		return err
	}
	var recording, stop atomic.Bool
	var sentTotal atomic.Uint64
	hists := make([]*Histogram, n)
	acked := make([]uint64, n)
	failed := make([]uint64, n)
	var wg sync.WaitGroup
	// With -mqtt-rate each device publishes every interval, staggered; one that falls behind catches up
	// without sleeping (the rate is then what the server sustains).
	var interval time.Duration
	if mqttRate > 0 {
		interval = time.Duration(float64(n) / float64(mqttRate) * float64(time.Second))
	}
	begin := time.Now()
	for i, c := range clients {
		hists[i] = NewHistogram()
		topic, payload := telemetryTopic(i), telemetryPayload(i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			next := begin.Add(interval * time.Duration(i) / time.Duration(n))
			for !stop.Load() {
				if interval > 0 {
					if d := time.Until(next); d > 0 {
						time.Sleep(d)
					}
					next = next.Add(interval)
				}
				start := time.Now()
				err := waitToken(c.Publish(topic, qos, false, payload))
				elapsed := time.Since(start)
				if err == nil {
					sentTotal.Add(1)
				}
				if !recording.Load() {
					if err != nil && !c.IsConnected() {
						return
					}
					continue
				}
				if err != nil {
					failed[i]++
					if !c.IsConnected() {
						return
					}
					continue
				}
				acked[i]++
				hists[i].Record(elapsed)
			}
		}()
	}
	rc := newRESTClient(cfg.Target, 4)
	queues := make([]string, telemetryBuildings)
	for b := range queues {
		queues[b] = fmt.Sprintf("telemetry-b%d", b)
	}
	time.Sleep(cfg.Warmup)
	recording.Store(true)
	start := time.Now()
	cpuStart := selfCPUSeconds()
	fmt.Fprintln(out, markMeasureStart)
	// At QoS 0 what the devices write is not what the server takes in (socket buffers absorb a lot), so the
	// stored count over the window is the ingest rate.
	storedAtStart, errStart := rc.sumTotals(queues)
	time.Sleep(cfg.Duration)
	storedAtEnd, errEnd := rc.sumTotals(queues)
	recording.Store(false)
	elapsed := time.Since(start)
	loadCPU := selfCPUSeconds() - cpuStart
	fmt.Fprintln(out, markMeasureEnd)
	stop.Store(true)
	wg.Wait()
	if err := errors.Join(errStart, errEnd); err != nil {
		disconnectAll(clients)
		return err
	}
	var stored int
	settled := true
	if qos == 0 {
		// Let the server read what is still in the sockets (the devices stay connected: a disconnect would
		// discard it), then count what was stored.
		if stored, settled, err = rc.settledTotal(queues, nil); err != nil {
			disconnectAll(clients)
			return err
		}
	}
	disconnectAll(clients)

	res := LoadResult{Workload: cfg.Workload, Conns: n, Queues: telemetryBuildings, Elapsed: elapsed.Seconds(),
		LoadCPU: loadCPU, ErrorKind: map[string]int{}}
	hist := NewHistogram()
	for i := range n {
		hist.Merge(hists[i])
		res.Requests += acked[i]
		res.Errors += failed[i]
	}
	if res.Errors > 0 {
		res.ErrorKind["publish"] = int(res.Errors)
	}
	res.Messages = res.Requests
	if qos == 0 {
		res.Messages = uint64(max(storedAtEnd-storedAtStart, 0))
	}
	if qos == 1 {
		res.Latency = hist.Summary()
		res.Note = fmt.Sprintf("%d devices publishing ~%dB JSON at QoS 1 (one in flight each); latency is "+
			"publish→PUBACK, which comes after the store write", n, len(telemetryPayload(0)))
	} else {
		sent := sentTotal.Load()
		res.Stored = uint64(stored)
		res.Sent = sent
		res.Note = fmt.Sprintf("%d devices at QoS 0: req/s is publishes handed to the socket, msg/s is messages "+
			"stored in the window (no acknowledgement, so no latency); in all %d sent (warm-up included), %d stored "+
			"(%.1f%%)", n, sent, stored, 100*float64(stored)/float64(max(sent, 1)))
		if !settled {
			res.Note += ", and the server was still storing when the harness stopped waiting (30 s " +
				"after the last publish)"
		}
	}
	return emit(out, res)
}

// commandStamp is the body of an mqtt-cmd command.
type commandStamp struct {
	Seq    int64 `json:"seq"`
	SentNS int64 `json:"sent_ns"` // the scheduled send time: latency includes any lag of the poster
}

// runCommands is mqtt-cmd: devices subscribed at QoS 1 to their command topics; commands posted over REST at a
// fixed total rate (open loop); latency from the scheduled post to the device's receipt.
func runCommands(cfg loadConfig, out io.Writer) error {
	n := cfg.Devices
	var mu sync.Mutex
	hist := NewHistogram()
	seen := map[int64]bool{}
	var duplicates, received atomic.Uint64
	var recStartNS atomic.Int64
	recStartNS.Store(1<<63 - 1)
	handler := func(_ pahov3.Client, m pahov3.Message) {
		now := time.Now().UnixNano()
		var cmd struct {
			Body commandStamp `json:"body"`
		}
		if err := json.Unmarshal(m.Payload(), &cmd); err != nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if seen[cmd.Body.Seq] {
			duplicates.Add(1)
			return
		}
		seen[cmd.Body.Seq] = true
		received.Add(1)
		if cmd.Body.SentNS >= recStartNS.Load() {
			hist.Record(time.Duration(now - cmd.Body.SentNS))
		}
	}
	clients, err := connectDevices(cfg.MQTT, n, func(i int, c pahov3.Client) error {
		return waitToken(c.Subscribe("devices/"+deviceID(i)+"/commands", 1, handler))
	})
	if err != nil {
		return err
	}
	defer disconnectAll(clients)

	rc := newRESTClient(cfg.Target, 64)
	type job struct {
		seq    int64
		device int
		at     time.Time
	}
	jobs := make(chan job, 4096)
	var posted, postFailed, recordedPosts atomic.Uint64
	var late atomic.Uint64
	var wg sync.WaitGroup
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				body := fmt.Sprintf(`{"messages":[{"ttl":300,"body":{"seq":%d,"sent_ns":%d}}]}`, j.seq, j.at.UnixNano())
				status, _, err := rc.do("POST", "/v2/queues/cmd-"+deviceID(j.device)+"/messages", []byte(body))
				if err != nil || status != 201 {
					postFailed.Add(1)
					continue
				}
				posted.Add(1)
				if j.at.UnixNano() >= recStartNS.Load() {
					recordedPosts.Add(1)
				}
			}
		}()
	}

	total := int64((cfg.Warmup + cfg.Duration).Seconds() * commandRate)
	interval := time.Second / commandRate
	begin := time.Now()
	recStart := begin.Add(cfg.Warmup)
	recStartNS.Store(recStart.UnixNano())
	measuring := false
	var cpuStart float64
	for seq := range total {
		at := begin.Add(time.Duration(seq) * interval)
		if d := time.Until(at); d > 0 {
			time.Sleep(d)
		}
		if !measuring && !at.Before(recStart) {
			measuring = true
			cpuStart = selfCPUSeconds()
			fmt.Fprintln(out, markMeasureStart)
		}
		select {
		case jobs <- job{seq: seq, device: int(seq) % n, at: at}:
		default:
			late.Add(1) // the posters are 4096 behind: the schedule is not kept, say so rather than block
		}
	}
	close(jobs)
	wg.Wait()
	// Give the last commands time to arrive, then see whether every command queue drained (PUBACK deletes).
	deadline := time.Now().Add(10 * time.Second)
	for received.Load() < posted.Load() && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	elapsed := time.Since(recStart)
	loadCPU := selfCPUSeconds() - cpuStart
	fmt.Fprintln(out, markMeasureEnd)
	queues := make([]string, n)
	for i := range queues {
		queues[i] = "cmd-" + deviceID(i)
	}
	left, _, err := rc.settledTotal(queues, func(sum int) bool { return sum == 0 })
	if err != nil {
		return err
	}

	mu.Lock()
	res := LoadResult{Workload: cfg.Workload, Conns: n, Queues: n, Elapsed: elapsed.Seconds(), LoadCPU: loadCPU,
		Requests: recordedPosts.Load(), Messages: recordedPosts.Load(), Latency: hist.Summary(),
		ErrorKind: map[string]int{}, Sent: posted.Load(), Stored: uint64(left)}
	mu.Unlock()
	acked := int64(posted.Load()) - int64(left)
	if f := postFailed.Load(); f > 0 {
		res.ErrorKind["post"] = int(f)
	}
	if l := late.Load(); l > 0 {
		res.ErrorKind["late"] = int(l)
	}
	if missing := int64(posted.Load()) - int64(received.Load()); missing > 0 {
		res.ErrorKind["not-received"] = int(missing)
	}
	for _, v := range res.ErrorKind {
		res.Errors += uint64(v)
	}
	res.Note = fmt.Sprintf("%d devices, %d commands/s posted over REST (open loop): %d posted, %d received "+
		"(%d duplicates), %d acknowledged and deleted, %d left in the command queues; latency is scheduled "+
		"post→device receipt", n, commandRate, posted.Load(), received.Load(), duplicates.Load(), acked, left)
	return emit(out, res)
}

// runIdle is mqtt-idle: the server's RSS before and after n devices connect and subscribe to their command
// topics and sit idle.
func runIdle(cfg loadConfig, out io.Writer) error {
	n := cfg.Devices
	start, cpuStart := beginIdleMeasure(out)
	clients, err := connectDevices(cfg.MQTT, n, func(i int, c pahov3.Client) error {
		return waitToken(c.Subscribe("devices/"+deviceID(i)+"/commands", 1, func(pahov3.Client, pahov3.Message) {}))
	})
	if err != nil {
		return err
	}
	elapsed, loadCPU := endIdleMeasure(out, start, cpuStart)
	connected := 0
	for _, c := range clients {
		if c.IsConnected() {
			connected++
		}
	}
	disconnectAll(clients)
	res := LoadResult{Workload: cfg.Workload, Conns: n, Requests: uint64(n), Elapsed: elapsed.Seconds(),
		LoadCPU: loadCPU, ErrorKind: map[string]int{}}
	res.Note = "req/s is devices connected and subscribed per second; cpu s/1k req is server CPU per 1k of them"
	if connected != n {
		res.Errors = uint64(n - connected)
		res.ErrorKind["dropped"] = n - connected
	}
	return emit(out, res)
}

// beginIdleMeasure starts the connect phase of an idle workload (mqtt-idle, ws-idle): the orchestrator samples the
// server's RSS at the first marker, then the measured phase begins.
func beginIdleMeasure(out io.Writer) (start time.Time, cpuStart float64) {
	fmt.Fprintln(out, markRSSBefore)
	time.Sleep(500 * time.Millisecond) // the orchestrator samples as it reads the marker
	start, cpuStart = time.Now(), selfCPUSeconds()
	fmt.Fprintln(out, markMeasureStart)
	return start, cpuStart
}

// endIdleMeasure ends it: the time and load CPU of the connect phase, then the orchestrator's second RSS sample
// once the server's GC has settled.
func endIdleMeasure(out io.Writer, start time.Time, cpuStart float64) (elapsed time.Duration, loadCPU float64) {
	elapsed, loadCPU = time.Since(start), selfCPUSeconds()-cpuStart
	fmt.Fprintln(out, markMeasureEnd)
	time.Sleep(2 * time.Second) // let the server's GC settle
	fmt.Fprintln(out, markRSSAfter)
	time.Sleep(500 * time.Millisecond)
	return elapsed, loadCPU
}

// idleNote describes the per-device memory of mqtt-idle from the server's RSS before and after.
func idleNote(devices int, before, after int64) string {
	per := float64(after-before) / 1024 / float64(max(devices, 1))
	return fmt.Sprintf("%d idle devices (connected, subscribed to their command topic): server RSS %s → %s, "+
		"%.1f KiB per idle device (RSS includes Go runtime overhead: heap slack and goroutine stacks)",
		devices, formatBytes(before), formatBytes(after), per)
}

// cpuPerMessageNote gives the server CPU per message in µs, the unit the targets use.
func cpuPerMessageNote(r Result) string {
	if r.Messages == 0 {
		return r.Workload + ": nothing stored in the window"
	}
	return fmt.Sprintf("%s: server CPU %.1f µs per stored message (store write included)", r.Workload,
		r.ServerCPU/float64(r.Messages)*1e6)
}
