package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
)

// Workload names.
const (
	workloadPost1      = "post1"
	workloadPost10     = "post10"
	workloadClaimAck   = "claim10+delete"
	workloadList10     = "list10"
	httpWorkloadSet    = workloadPost1 + "," + workloadPost10 + "," + workloadClaimAck + "," + workloadList10
	defaultWorkloadSet = httpWorkloadSet + "," + mqttWorkloadSet + "," + workloadWSIdle
)

// workloads maps each name to the step one connection repeats. A step may send several requests (each recorded
// on its own) and reports how many messages it moved; done=true stops that connection (nothing left to do).
var workloads = map[string]func(w *worker) (moved int, done bool){
	workloadPost1:    func(w *worker) (int, bool) { return w.post(1), false },
	workloadPost10:   func(w *worker) (int, bool) { return w.post(10), false },
	workloadClaimAck: (*worker).claimAndAck,
	workloadList10:   (*worker).list10,
}

// loadConfig is what the orchestrator passes to a load process.
type loadConfig struct {
	Target   string        // host:port, or several separated by commas (HTTP workloads)
	Workload string        // a key of workloads
	Conns    int           // concurrent connections, one closed-loop worker each
	Queues   int           // connections are spread over this many queues
	Warmup   time.Duration // run, but do not record
	Duration time.Duration // recorded run
	MaxReqs  uint64        // stop early after this many recorded requests
	Prefill  int           // messages to post before the run (claim and list workloads)
	BodySize int           // approximate bytes of each message body
	Project  string
	Run      string // distinguishes queue names between runs against the same server
	MQTT     string // host:port of zedge's MQTT listener (MQTT workloads)
	Devices  int    // MQTT device connections (MQTT workloads)
	Soak     soakConfig
}

// worker is one closed-loop connection.
type worker struct {
	cfg       *loadConfig
	hc        *fasthttp.HostClient
	clientID  string
	queue     string
	queueURI  string // http://host:port/v2/queues/<queue>
	body1     []byte // {"messages": [1 message]}
	body10    []byte // {"messages": [10 messages]}
	recording *atomic.Bool
	hist      *Histogram
	requests  uint64
	messages  uint64
	errors    uint64
	errorKind map[string]int
	exhausted bool
	req       *fasthttp.Request
	resp      *fasthttp.Response
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return hex.EncodeToString(b[:])
}

// messageBody builds a {"messages": [...]} body with n sensor-like readings of about size bytes each.
func messageBody(n, size int, seed int) []byte {
	var buf bytes.Buffer
	buf.WriteString(`{"messages":[`)
	for i := range n {
		if i > 0 {
			buf.WriteByte(',')
		}
		head := fmt.Sprintf(`{"sensor":"s-%04d","kind":"temp","value":%d.%d,"unit":"C","note":"`,
			seed%10000, 18+i%8, seed%10)
		buf.WriteString(`{"ttl":60,"body":`)
		buf.WriteString(head)
		buf.Write(bytes.Repeat([]byte{'x'}, max(size-len(head)-2, 0)))
		buf.WriteString(`"}}`)
	}
	buf.WriteString(`]}`)
	return buf.Bytes()
}

// do sends one request to uri and records its latency and outcome when recording; it returns the status (0 on a
// transport error).
func (w *worker) do(method, uri string, body []byte) int {
	w.req.Reset()
	w.resp.Reset()
	w.req.Header.SetMethod(method)
	w.req.SetRequestURI(uri)
	w.req.Header.Set("Client-ID", w.clientID)
	w.req.Header.Set("X-Project-ID", w.cfg.Project)
	if body != nil {
		w.req.Header.SetContentType("application/json")
		w.req.SetBodyRaw(body)
	}
	start := time.Now()
	err := w.hc.Do(w.req, w.resp)
	elapsed := time.Since(start)
	status := w.resp.StatusCode()
	if err != nil {
		status = 0
	}
	if w.recording.Load() {
		w.hist.Record(elapsed)
		w.requests++
		switch {
		case err != nil:
			w.errors++
			w.errorKind["transport"]++
		case status < 200 || status > 299:
			w.errors++
			w.errorKind[strconv.Itoa(status)]++
		}
	}
	return status
}

func (w *worker) count(moved int) {
	if w.recording.Load() {
		w.messages += uint64(moved)
	}
}

// post sends one POST with n messages.
func (w *worker) post(n int) int {
	body := w.body1
	if n == 10 {
		body = w.body10
	}
	if w.do("POST", w.queueURI+"/messages", body) == 201 {
		w.count(n)
		return n
	}
	return 0
}

var claimBody = []byte(`{"ttl":60,"grace":60}`)

// claimAndAck claims up to 10 messages and deletes each under the claim, as a worker acknowledges jobs.
func (w *worker) claimAndAck() (int, bool) {
	status := w.do("POST", w.queueURI+"/claims?limit=10", claimBody)
	if status == 204 {
		w.exhausted = true
		return 0, true
	}
	if status != 201 {
		return 0, false
	}
	claimID := string(w.resp.Header.Peek("Location"))
	claimID = claimID[strings.LastIndexByte(claimID, '/')+1:]
	var out struct {
		Messages []struct {
			ID string `json:"id"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(w.resp.Body(), &out); err != nil {
		if w.recording.Load() {
			w.errors++
			w.errorKind["bad-claim-body"]++
		}
		return 0, false
	}
	moved := 0
	for _, m := range out.Messages {
		if w.do("DELETE", w.queueURI+"/messages/"+m.ID+"?claim_id="+claimID, nil) == 204 {
			moved++
		}
	}
	w.count(moved)
	return moved, false
}

// list10 lists up to 10 messages (echo on: the worker pre-filled its own queue).
func (w *worker) list10() (int, bool) {
	if w.do("GET", w.queueURI+"/messages?echo=true&limit=10", nil) != 200 {
		return 0, false
	}
	// Count the items by their "age" key instead of decoding: on a 2-core machine the generator's own CPU is
	// taken from the server, and the bench bodies have no "age" key of their own.
	n := bytes.Count(w.resp.Body(), ageKey)
	w.count(n)
	return n, false
}

var ageKey = []byte(`"age":`)

// measurePhase marks the recorded window on stdout so the orchestrator can sample the server's CPU exactly then.
const (
	markMeasureStart = "measure-start"
	markMeasureEnd   = "measure-end"
	markResult       = "result "
)

// runLoad runs one workload and writes the markers and the JSON result to out.
func runLoad(cfg loadConfig, out io.Writer) error {
	if run, ok := mqttWorkloads[cfg.Workload]; ok {
		if cfg.MQTT == "" || cfg.Devices < 1 {
			return fmt.Errorf("%s needs -mqtt and -devices", cfg.Workload)
		}
		return run(cfg, out)
	}
	if cfg.Workload == workloadSoak {
		return runSoak(cfg, out)
	}
	step, ok := workloads[cfg.Workload]
	if !ok {
		return fmt.Errorf("unknown workload %q", cfg.Workload)
	}
	// Several targets (zedge nodes sharing one store) take the connections in turn, so that the workers of one
	// queue are spread over the nodes.
	targets := strings.Split(cfg.Target, ",")
	clients := make([]*fasthttp.HostClient, len(targets))
	for i, t := range targets {
		clients[i] = &fasthttp.HostClient{
			Addr:                      t,
			Name:                      "zedge-bench",
			MaxConns:                  cfg.Conns,
			ReadTimeout:               30 * time.Second,
			WriteTimeout:              30 * time.Second,
			MaxIdemponentCallAttempts: 1,
			MaxConnWaitTimeout:        30 * time.Second,
		}
	}
	var recording atomic.Bool
	workers := make([]*worker, cfg.Conns)
	// Worker i works on queue i%Queues through node (i/Queues)%nodes: every queue is worked from every node.
	node := func(i int) int { return i / cfg.Queues % len(targets) }
	for i := range workers {
		workers[i] = &worker{
			cfg: &cfg, hc: clients[node(i)], clientID: newUUID(), queue: fmt.Sprintf("bench-%s-%d", cfg.Run, i%cfg.Queues),
			body1: messageBody(1, cfg.BodySize, i), body10: messageBody(10, cfg.BodySize, i),
			recording: &recording, hist: NewHistogram(), errorKind: map[string]int{},
			req: fasthttp.AcquireRequest(), resp: fasthttp.AcquireResponse(),
		}
		workers[i].queueURI = "http://" + targets[node(i)] + "/v2/queues/" + workers[i].queue
	}
	prefilled, err := prefill(workers, cfg)
	if err != nil {
		return err
	}

	var stop atomic.Bool
	var total atomic.Uint64
	var wg sync.WaitGroup
	var running atomic.Int64
	for _, w := range workers {
		wg.Add(1)
		running.Add(1)
		go func() {
			defer wg.Done()
			defer running.Add(-1)
			for !stop.Load() {
				before := w.requests
				if _, done := step(w); done {
					return
				}
				if w.requests != before && total.Add(w.requests-before) >= cfg.MaxReqs {
					stop.Store(true)
				}
			}
		}()
	}
	time.Sleep(cfg.Warmup)
	recording.Store(true)
	start := time.Now()
	cpuStart := selfCPUSeconds()
	fmt.Fprintln(out, markMeasureStart)
	deadline := start.Add(cfg.Duration)
	for time.Now().Before(deadline) && !stop.Load() && running.Load() > 0 {
		time.Sleep(10 * time.Millisecond)
	}
	recording.Store(false)
	elapsed := time.Since(start)
	loadCPU := selfCPUSeconds() - cpuStart
	fmt.Fprintln(out, markMeasureEnd)
	stop.Store(true)
	wg.Wait()

	res := LoadResult{
		Workload: cfg.Workload, Conns: cfg.Conns, Queues: cfg.Queues, Elapsed: elapsed.Seconds(),
		Prefilled: prefilled, ErrorKind: map[string]int{}, LoadCPU: loadCPU,
	}
	res.addWorkers(workers)
	raw, err := json.Marshal(res)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "%s%s\n", markResult, raw)
	return err
}

// addWorkers adds up the workers' requests, messages, errors and latencies into res.
func (res *LoadResult) addWorkers(workers []*worker) {
	hist := NewHistogram()
	for _, w := range workers {
		hist.Merge(w.hist)
		res.Requests += w.requests
		res.Messages += w.messages
		res.Errors += w.errors
		res.Exhausted = res.Exhausted || w.exhausted
		for k, v := range w.errorKind {
			res.ErrorKind[k] += v
		}
	}
	res.Latency = hist.Summary()
}

// prefill posts cfg.Prefill messages (in batches of 10) spread over the workers' queues before the run.
func prefill(workers []*worker, cfg loadConfig) (int, error) {
	if cfg.Prefill <= 0 || (cfg.Workload != workloadClaimAck && cfg.Workload != workloadList10) {
		return 0, nil
	}
	perWorker := (cfg.Prefill + len(workers) - 1) / len(workers)
	batches := (perWorker + 9) / 10
	var posted atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range batches {
				status := w.do("POST", w.queueURI+"/messages", w.body10)
				if status != 201 {
					once.Do(func() {
						firstErr = fmt.Errorf("prefill: POST returned %d: %s", status, w.resp.Body())
					})
					return
				}
				posted.Add(10)
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return int(posted.Load()), firstErr
	}
	if posted.Load() == 0 {
		return 0, errors.New("prefill posted nothing")
	}
	return int(posted.Load()), nil
}

// selfCPUSeconds is this process's user+system CPU time.
func selfCPUSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
