package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/zedge-io/zedge/store/badgerstore"
)

// workloadSoak posts at a fixed rate for minutes and samples the server's memory and disk while the messages
// it posted expire: the #7 row "10 min at 10k msgs/s, ttl 60: disk ≤ 2× live set, RSS flat". It is not in the
// default set (10 minutes full, 90 s short): run it with -workloads soak.
const workloadSoak = "soak"

// soakConfig is the soak workload's pacing and sampling.
type soakConfig struct {
	Duration time.Duration // whole run (0: 10m, 90s with -short)
	Rate     int           // messages per second asked for, over all connections
	Batch    int           // messages per POST
	TTL      int           // message ttl in seconds
	Sample   time.Duration // sampling period (0: 10s, 5s with -short)
	// PID and Dir are the server's process and data directory, passed by the orchestrator to the load process.
	PID int
	Dir string
}

func defaultSoakConfig() soakConfig { return soakConfig{Rate: 10_000, Batch: 10, TTL: 60} }

func (s *soakConfig) register(fs *flag.FlagSet) {
	fs.DurationVar(&s.Duration, "soak-duration", s.Duration, "soak: whole run (default 10m, 90s with -short)")
	fs.IntVar(&s.Rate, "soak-rate", s.Rate, "soak: messages per second over all connections")
	fs.IntVar(&s.Batch, "soak-batch", s.Batch, "soak: messages per POST (1..10)")
	fs.IntVar(&s.TTL, "soak-ttl", s.TTL, "soak: message ttl in seconds")
	fs.DurationVar(&s.Sample, "soak-sample", s.Sample, "soak: sampling period (default 10s, 5s with -short)")
	fs.IntVar(&s.PID, "soak-pid", 0, "internal: the server's pid")
	fs.StringVar(&s.Dir, "soak-dir", "", "internal: the server's data directory")
}

// resolve fills the values that depend on -short.
func (s *soakConfig) resolve(short bool) {
	if s.Duration == 0 {
		s.Duration = 10 * time.Minute
		if short {
			s.Duration = 90 * time.Second
		}
	}
	if s.Sample == 0 {
		s.Sample = 10 * time.Second
		if short {
			s.Sample = 5 * time.Second
		}
	}
}

func (s soakConfig) validate() error {
	var errs []error
	if s.Rate < 1 || s.Rate > 1_000_000 {
		errs = append(errs, fmt.Errorf("-soak-rate %d: need 1..1M", s.Rate))
	}
	if s.Batch < 1 || s.Batch > 10 {
		errs = append(errs, fmt.Errorf("-soak-batch %d: need 1..10", s.Batch))
	}
	if s.TTL < 60 || s.TTL > 3600 {
		errs = append(errs, fmt.Errorf("-soak-ttl %d: need 60..3600 (Zaqar's minimum ttl is 60)", s.TTL))
	}
	if s.Duration < 10*time.Second || s.Duration > 24*time.Hour || s.Sample < time.Second || s.Sample > s.Duration/2 {
		errs = append(errs, errors.New("-soak-duration must be in [10s, 24h] and -soak-sample in [1s, duration/2]"))
	}
	return errors.Join(errs...)
}

// loadArgs are the flags that carry the soak configuration to the load process.
func (s soakConfig) loadArgs(pid int, dir string) []string {
	return []string{"-soak-duration", s.Duration.String(), "-soak-rate", strconv.Itoa(s.Rate),
		"-soak-batch", strconv.Itoa(s.Batch), "-soak-ttl", strconv.Itoa(s.TTL), "-soak-sample", s.Sample.String(),
		"-soak-pid", strconv.Itoa(pid), "-soak-dir", dir}
}

// SoakSample is one sample of the server during a soak.
type SoakSample struct {
	At        float64 `json:"t_s"`
	RSS       int64   `json:"rss_bytes"`
	RSSAnon   int64   `json:"rss_anon_bytes"`                // RssAnon: the process's own memory
	RSSFile   int64   `json:"rss_file_bytes"`                // RssFile: pages of mapped files (Badger's tables), reclaimable
	HeapInuse int64   `json:"go_heap_inuse_bytes,omitempty"` // from /metrics (go_memstats_heap_inuse_bytes)
	GoSys     int64   `json:"go_sys_bytes,omitempty"`        // the Go runtime's whole footprint
	Disk      int64   `json:"disk_bytes"`                    // data dir, allocated blocks (as du counts)
	Posted    uint64  `json:"posted"`
	Alive     int64   `json:"alive"`               // messages in the queues' stats
	LiveBytes int64   `json:"live_bytes"`          // alive × the bytes of a message record (key, metadata, body)
	LiveBody  int64   `json:"live_body_bytes"`     // alive × body bytes
	Expired   int64   `json:"expired"`             // zedge_messages_expired_total, or posted − alive without it
	Fsyncs    int64   `json:"commit_groups"`       // zedge_store_commit_groups_total
	Reaped    bool    `json:"expired_from_metric"` // Expired came from the server's own counter
}

// SoakResult is the soak's verdict, in the JSON report and (as figures) in the table's notes.
type SoakResult struct {
	AskedRate    float64      `json:"asked_messages_per_s"`
	Rate         float64      `json:"achieved_messages_per_s"`
	Missed       uint64       `json:"missed_requests"` // slots skipped because the server fell behind by > 2 s
	BodyBytes    int          `json:"body_bytes"`
	RecordBytes  int          `json:"record_bytes"` // one message as the badger store writes it
	DiskMax      int64        `json:"disk_max_bytes"`
	LiveSet      int64        `json:"live_set_bytes"` // median live record bytes once a ttl has passed
	LiveBodies   int64        `json:"live_body_bytes"`
	DiskRatio    float64      `json:"disk_max_to_live_set"`
	BodyRatio    float64      `json:"disk_max_to_live_bodies"`
	DiskOK       bool         `json:"disk_within_2x_live_set"`
	RSSRefAt     float64      `json:"rss_ref_t_s"`
	RSSRef       int64        `json:"rss_ref_bytes"`
	RSSEnd       int64        `json:"rss_end_bytes"`
	RSSSlope     float64      `json:"rss_slope_bytes_per_min"` // least squares over the samples from RSSRefAt
	RSSFlat      bool         `json:"rss_flat"`
	AnonRef      int64        `json:"rss_anon_ref_bytes"`
	AnonEnd      int64        `json:"rss_anon_end_bytes"`
	AnonSlope    float64      `json:"rss_anon_slope_bytes_per_min"`
	HeapRef      int64        `json:"heap_inuse_ref_bytes,omitempty"`
	HeapEnd      int64        `json:"heap_inuse_end_bytes,omitempty"`
	HeapSlope    float64      `json:"heap_inuse_slope_bytes_per_min"`
	ExpiredTotal int64        `json:"expired"`
	Samples      []SoakSample `json:"samples"`
}

// rssFlatTolerance is how much RSS may grow from the reference point to the end and still count as flat: the
// Go heap breathes with GC cycles, and memtables fill and flush, so a single sample moves by several MiB.
const rssFlatTolerance = 0.10

// runSoak posts at the configured rate over cfg.Conns connections (open loop: each connection has its own
// schedule, so a slow response delays only that connection's next post) and samples the server meanwhile.
func runSoak(cfg loadConfig, out io.Writer) error {
	sc := cfg.Soak
	if err := sc.validate(); err != nil {
		return err
	}
	target := strings.Split(cfg.Target, ",")[0]
	hc := &fasthttp.HostClient{Addr: target, Name: "zedge-bench", MaxConns: cfg.Conns + 2,
		ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, MaxIdemponentCallAttempts: 1,
		MaxConnWaitTimeout: 30 * time.Second}
	var recording atomic.Bool
	recording.Store(true)
	body := soakBody(sc.Batch, cfg.BodySize, sc.TTL)
	bodyBytes, err := storedBodyBytes(body)
	if err != nil {
		return err
	}
	queues := make([]string, cfg.Queues)
	for i := range queues {
		queues[i] = fmt.Sprintf("soak-%s-%d", cfg.Run, i)
	}
	workers := make([]*worker, cfg.Conns)
	for i := range workers {
		workers[i] = &worker{cfg: &cfg, hc: hc, clientID: newUUID(), queue: queues[i%cfg.Queues],
			recording: &recording, hist: NewHistogram(), errorKind: map[string]int{},
			req: fasthttp.AcquireRequest(), resp: fasthttp.AcquireResponse()}
		workers[i].queueURI = "http://" + target + "/v2/queues/" + workers[i].queue
	}

	// Each connection posts every `every`, offset so that the posts of all connections interleave evenly.
	reqRate := float64(sc.Rate) / float64(sc.Batch)
	every := time.Duration(float64(cfg.Conns) / reqRate * float64(time.Second))
	var posted, missed atomic.Uint64
	start := time.Now()
	end := start.Add(sc.Duration)
	cpuStart := selfCPUSeconds()
	fmt.Fprintln(out, markMeasureStart)
	var wg sync.WaitGroup
	for i, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			next := start.Add(every * time.Duration(i) / time.Duration(len(workers)))
			for next.Before(end) {
				if d := time.Until(next); d > 0 {
					time.Sleep(d)
				} else if -d > 2*time.Second {
					// Far behind: skip the slots rather than burst to catch up, and say so.
					skip := uint64(-d / every)
					missed.Add(skip)
					next = next.Add(every * time.Duration(skip))
				}
				if w.do("POST", w.queueURI+"/messages", body) == 201 {
					w.messages += uint64(sc.Batch)
					posted.Add(uint64(sc.Batch))
				}
				next = next.Add(every)
			}
		}()
	}

	recBytes := 0
	for _, q := range queues {
		recBytes += badgerstore.MessageRecordSize(cfg.Project, q, bodyBytes)
	}
	recBytes /= len(queues)
	sampler := &soakSampler{cfg: cfg, hc: hc, queues: queues, bodyBytes: bodyBytes, recBytes: recBytes}
	var samples []SoakSample
	var sampleErr error
	tick := time.NewTicker(sc.Sample)
	for now := range tick.C {
		s, err := sampler.sample(now.Sub(start), posted.Load())
		if err != nil {
			sampleErr = err
			break
		}
		samples = append(samples, s)
		fmt.Fprintf(out, "soak %4.0fs: posted %d, alive %d, expired %d, RSS %s (anon %s, file %s), heap %s, "+
			"Go sys %s, disk %s\n", s.At, s.Posted, s.Alive, s.Expired, formatBytes(s.RSS), formatBytes(s.RSSAnon),
			formatBytes(s.RSSFile), formatBytes(s.HeapInuse), formatBytes(s.GoSys), formatBytes(s.Disk))
		if !now.Add(sc.Sample).Before(end) {
			break
		}
	}
	tick.Stop()
	wg.Wait()
	elapsed := time.Since(start)
	loadCPU := selfCPUSeconds() - cpuStart
	fmt.Fprintln(out, markMeasureEnd)
	if sampleErr != nil {
		return sampleErr
	}
	// A last sample after the posts ended, so the end of the run is the end of the record.
	if s, err := sampler.sample(time.Since(start), posted.Load()); err == nil {
		samples = append(samples, s)
	}

	res := LoadResult{Workload: cfg.Workload, Conns: cfg.Conns, Queues: cfg.Queues, Elapsed: elapsed.Seconds(),
		ErrorKind: map[string]int{}, LoadCPU: loadCPU}
	res.addWorkers(workers)
	sr := summarizeSoak(samples, sc, bodyBytes, recBytes, float64(res.Messages)/elapsed.Seconds(), missed.Load())
	res.Soak = &sr
	res.Note = sr.note(sc)
	raw, err := json.Marshal(res)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "%s%s\n", markResult, raw)
	return err
}

// soakBody is a POST body of n readings with the given ttl.
func soakBody(n, size, ttl int) []byte {
	return bytes.ReplaceAll(messageBody(n, size, 1), []byte(`{"ttl":60,`), []byte(`{"ttl":`+strconv.Itoa(ttl)+`,`))
}

// storedBodyBytes is the size of one message's body as zedge stores it (its JSON text).
func storedBodyBytes(post []byte) (int, error) {
	var p struct {
		Messages []struct {
			Body json.RawMessage `json:"body"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(post, &p); err != nil || len(p.Messages) == 0 {
		return 0, fmt.Errorf("soak body: %v", err)
	}
	return len(p.Messages[0].Body), nil
}

// soakSampler reads the server's figures: RSS from /proc, disk from the data directory, the Go heap and the
// expired count from /metrics, and the messages alive from the queues' stats.
type soakSampler struct {
	cfg       loadConfig
	hc        *fasthttp.HostClient
	queues    []string
	bodyBytes int
	recBytes  int // mean record bytes over the queues
}

func (s *soakSampler) sample(at time.Duration, posted uint64) (SoakSample, error) {
	out := SoakSample{At: at.Seconds(), Posted: posted}
	var err error
	if out.RSS, _, err = memoryBytes(s.cfg.Soak.PID); err != nil {
		return out, err
	}
	if out.RSSAnon, out.RSSFile, err = rssSplit(s.cfg.Soak.PID); err != nil {
		return out, err
	}
	if s.cfg.Soak.Dir != "" {
		if out.Disk, err = diskUsage(s.cfg.Soak.Dir); err != nil {
			return out, err
		}
	}
	target := strings.Split(s.cfg.Target, ",")[0]
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("http://" + target + "/metrics")
	if err := s.hc.Do(req, resp); err == nil && resp.StatusCode() == 200 {
		m := parseExposition(resp.Body())
		out.HeapInuse = int64(m["go_memstats_heap_inuse_bytes"])
		out.GoSys = int64(m["go_memstats_sys_bytes"])
		out.Fsyncs = int64(m["zedge_store_commit_groups_total"])
		if v, ok := m["zedge_messages_expired_total"]; ok {
			out.Expired, out.Reaped = int64(v), true
		}
	}
	for _, q := range s.queues {
		req.Reset()
		resp.Reset()
		req.SetRequestURI("http://" + target + "/v2/queues/" + q + "/stats")
		req.Header.Set("Client-ID", "00000000-0000-4000-8000-000000000000")
		req.Header.Set("X-Project-ID", s.cfg.Project)
		if err := s.hc.Do(req, resp); err != nil {
			return out, fmt.Errorf("soak: stats of %s: %w", q, err)
		}
		if resp.StatusCode() == 404 {
			continue // not posted to yet
		}
		var st struct {
			Messages struct {
				Total int64 `json:"total"`
			} `json:"messages"`
		}
		if err := json.Unmarshal(resp.Body(), &st); err != nil {
			return out, fmt.Errorf("soak: stats of %s (%d): %w", q, resp.StatusCode(), err)
		}
		out.Alive += st.Messages.Total
	}
	out.LiveBody = out.Alive * int64(s.bodyBytes)
	out.LiveBytes = out.Alive * int64(s.recBytes)
	if !out.Reaped {
		// Posts in flight are alive but not yet counted as posted.
		out.Expired = max(int64(posted)-out.Alive, 0)
	}
	return out, nil
}

// rssSplit reads RssAnon and RssFile from /proc/<pid>/status.
func rssSplit(pid int) (anon, file int64, err error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(raw), "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok || (name != "RssAnon" && name != "RssFile") {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("%s: %w", name, err)
		}
		if name == "RssAnon" {
			anon = kb << 10
		} else {
			file = kb << 10
		}
	}
	return anon, file, nil
}

// parseExposition sums the samples of each metric name in Prometheus' text format (labels are ignored).
func parseExposition(text []byte) map[string]float64 {
	out := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		sp := strings.LastIndexByte(line, ' ')
		if sp < 0 {
			continue
		}
		name := line[:sp]
		if i := strings.IndexAny(name, "{ "); i >= 0 {
			name = name[:i]
		}
		v, err := strconv.ParseFloat(line[sp+1:], 64)
		if err != nil {
			continue
		}
		out[name] += v
	}
	return out
}

// summarizeSoak derives the verdicts from the samples. The live set is the median of the live bytes once a ttl
// has passed (before that it is still filling); RSS is compared from a reference point — 2 minutes in, or one
// ttl in a run too short for that — to the end.
func summarizeSoak(samples []SoakSample, sc soakConfig, bodyBytes, recBytes int, rate float64, missed uint64) SoakResult {
	r := SoakResult{AskedRate: float64(sc.Rate), Rate: rate, Missed: missed, BodyBytes: bodyBytes, RecordBytes: recBytes,
		Samples: samples}
	if len(samples) == 0 {
		return r
	}
	ttl := float64(sc.TTL)
	var steady []int64
	for _, s := range samples {
		r.DiskMax = max(r.DiskMax, s.Disk)
		if s.At >= ttl {
			steady = append(steady, s.LiveBytes)
		}
		r.ExpiredTotal = max(r.ExpiredTotal, s.Expired)
	}
	if len(steady) == 0 {
		steady = []int64{samples[len(samples)-1].LiveBytes}
	}
	sort.Slice(steady, func(i, j int) bool { return steady[i] < steady[j] })
	r.LiveSet = steady[len(steady)/2]
	if r.LiveSet > 0 {
		r.DiskRatio = float64(r.DiskMax) / float64(r.LiveSet)
		r.DiskOK = r.DiskRatio <= 2
		r.LiveBodies = r.LiveSet / int64(max(recBytes, 1)) * int64(bodyBytes)
		r.BodyRatio = float64(r.DiskMax) / float64(max(r.LiveBodies, 1))
	}
	// The reference is taken once the live set is full (one ttl in) and well into the steady state (2 minutes,
	// as the issue reads), but leaves at least four samples after it in a short run.
	refAt := math.Max(120, ttl)
	if last := sc.Duration.Seconds() - 4*sc.Sample.Seconds(); refAt > last {
		refAt = math.Max(math.Min(ttl, last), sc.Sample.Seconds())
	}
	ref := 0
	for i, s := range samples {
		if s.At <= refAt+sc.Sample.Seconds()/2 {
			ref = i
		}
	}
	last := samples[len(samples)-1]
	r.RSSRefAt, r.RSSRef, r.RSSEnd = samples[ref].At, samples[ref].RSS, last.RSS
	r.HeapRef, r.HeapEnd = samples[ref].HeapInuse, last.HeapInuse
	r.AnonRef, r.AnonEnd = samples[ref].RSSAnon, last.RSSAnon
	r.AnonSlope = slopePerMinute(samples[ref:], func(s SoakSample) int64 { return s.RSSAnon })
	r.RSSSlope = slopePerMinute(samples[ref:], func(s SoakSample) int64 { return s.RSS })
	r.HeapSlope = slopePerMinute(samples[ref:], func(s SoakSample) int64 { return s.HeapInuse })
	r.RSSFlat = r.RSSRef > 0 && float64(r.RSSEnd) <= float64(r.RSSRef)*(1+rssFlatTolerance)
	return r
}

// slopePerMinute is the least-squares slope of v over the samples, in units per minute.
func slopePerMinute(samples []SoakSample, v func(SoakSample) int64) float64 {
	if len(samples) < 2 {
		return 0
	}
	var sx, sy, sxx, sxy float64
	for _, s := range samples {
		x, y := s.At/60, float64(v(s))
		sx, sy, sxx, sxy = sx+x, sy+y, sxx+x*x, sxy+x*y
	}
	n := float64(len(samples))
	den := n*sxx - sx*sx
	if den == 0 {
		return 0
	}
	return (n*sxy - sx*sy) / den
}

// note is the soak's figures in one line for the table's notes.
func (r SoakResult) note(sc soakConfig) string {
	yes := func(b bool) string {
		if b {
			return "yes"
		}
		return "NO"
	}
	missed := ""
	if r.Missed > 0 {
		missed = fmt.Sprintf(", %d posts skipped (server > 2 s behind)", r.Missed)
	}
	heap := fmt.Sprintf("; of it anonymous %s → %s (%+.1f MiB/min)", formatBytes(r.AnonRef), formatBytes(r.AnonEnd),
		r.AnonSlope/(1<<20))
	if r.HeapRef > 0 {
		heap += fmt.Sprintf("; Go heap in use %s → %s (%+.1f MiB/min)", formatBytes(r.HeapRef), formatBytes(r.HeapEnd),
			r.HeapSlope/(1<<20))
	}
	return fmt.Sprintf("%s of %s msgs/s asked, ttl %d, %d-byte bodies, %s%s; disk max %s = %.2f× live set %s "+
		"(≤ 2×: %s; live set = alive × %d-byte records, key and metadata included; %.2f× the bodies alone); RSS %s at %.0fs → %s at the end (%+.1f MiB/min; flat within %.0f%%: %s)%s; %d expired",
		formatRate(r.Rate), formatRate(r.AskedRate), sc.TTL, r.BodyBytes, sc.Duration, missed,
		formatBytes(r.DiskMax), r.DiskRatio, formatBytes(r.LiveSet), yes(r.DiskOK), r.RecordBytes, r.BodyRatio,
		formatBytes(r.RSSRef), r.RSSRefAt, formatBytes(r.RSSEnd), r.RSSSlope/(1<<20), rssFlatTolerance*100,
		yes(r.RSSFlat), heap, r.ExpiredTotal)
}
