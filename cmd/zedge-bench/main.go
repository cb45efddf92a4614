package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

const targetReference = "canned-201"

// Config is the harness's configuration (flags).
type Config struct {
	Zedge          string        // path of the zedge binary
	Short          bool          // short runs (also BENCH_SHORT=1)
	JSON           string        // write the report here as JSON too
	Workloads      []string      // names from workloads
	Conns          int           // connections per workload
	Queues         int           // queues the connections are spread over
	Duration       time.Duration // recorded time per workload (0: 3 s short, 15 s full)
	Warmup         time.Duration // unrecorded time before it (0: 1 s short, 3 s full)
	Durability     string        // sync|async, passed to zedge
	Reference      bool          // also measure post1 against the canned-201 server
	ServerLogLevel string        // zedge's log level during the run
	MaxRequests    uint64        // per workload, a bound on recorded requests
	Prefill        int           // messages posted before claim/list workloads (0: a default per workload)
	BodySize       int           // approximate bytes of each message body
	Devices        int           // MQTT devices per MQTT workload (0: a default per workload)
	// MQTTRate paces mqtt-qos1/mqtt-qos0 to this many publishes per second over all devices (0: each device
	// publishes as fast as it can). A fixed rate makes server CPU per message comparable between runs, which
	// closed-loop throughput on a shared machine does not: fixed costs per second spread over fewer messages.
	MQTTRate int
	// Store is badger (the default: one zedge on its own Badger directory) or redis (zedge on private Redis
	// deployments, one per topology in Topologies).
	Store       string
	Topologies  []string   // with Store redis: single, cluster, 2nodes
	AppendFsync string     // with Store redis: the AOF's appendfsync, everysec or always
	Soak        soakConfig // the soak workload's rate, ttl, duration and sampling
	// ServerConfig is a zedge YAML configuration file passed to every zedge the harness starts (-config), e.g.
	// to set debug.pprof_addr and profile a run. The harness's own settings (addresses, data dir, durability,
	// log level) are environment variables, which override the file.
	ServerConfig string
}

// DefaultConfig returns the full-run defaults.
func DefaultConfig() Config {
	return Config{
		Zedge:          "bin/zedge",
		Workloads:      strings.Split(defaultWorkloadSet, ","),
		Conns:          32,
		Queues:         8,
		Durability:     "sync",
		Reference:      true,
		ServerLogLevel: "warn",
		MaxRequests:    50_000_000,
		BodySize:       100,
		Store:          storeBadger,
		Topologies:     strings.Split(redisTopologies, ","),
		AppendFsync:    "everysec",
		Soak:           defaultSoakConfig(),
	}
}

// Store kinds of -store.
const (
	storeBadger = "badger"
	storeRedis  = "redis"
	// redisWorkloadSet is the default set with -store redis: the HTTP workloads that move messages.
	redisWorkloadSet = workloadPost1 + "," + workloadPost10 + "," + workloadClaimAck
)

// resolve fills the values that depend on -short.
func (c *Config) resolve() {
	if c.Duration == 0 {
		c.Duration = 15 * time.Second
		if c.Short {
			c.Duration = 3 * time.Second
		}
	}
	if c.Warmup == 0 {
		c.Warmup = 3 * time.Second
		if c.Short {
			c.Warmup = time.Second
		}
	}
	c.Soak.resolve(c.Short)
}

// Validate checks the configuration.
func (c Config) Validate() error {
	var errs []error
	if len(c.Workloads) == 0 {
		errs = append(errs, errors.New("no workloads"))
	}
	for _, w := range c.Workloads {
		_, isHTTP := workloads[w]
		if _, isMQTT := mqttWorkloads[w]; !isHTTP && !isMQTT && w != workloadSoak && w != workloadWSIdle {
			errs = append(errs, fmt.Errorf("unknown workload %q (known: %s,%s)", w, defaultWorkloadSet, workloadSoak))
		}
		if w == workloadSoak {
			errs = append(errs, c.Soak.validate())
		}
	}
	if c.Conns < 1 || c.Conns > 4096 {
		errs = append(errs, fmt.Errorf("-conns %d: need 1..4096", c.Conns))
	}
	if c.Queues < 1 || c.Queues > c.Conns {
		errs = append(errs, fmt.Errorf("-queues %d: need 1..conns (%d)", c.Queues, c.Conns))
	}
	if c.Duration <= 0 || c.Duration > time.Hour || c.Warmup < 0 || c.Warmup > 10*time.Minute {
		errs = append(errs, errors.New("-duration must be in (0, 1h] and -warmup in [0, 10m]"))
	}
	if c.Durability != "sync" && c.Durability != "async" {
		errs = append(errs, fmt.Errorf("-durability %q: need sync or async", c.Durability))
	}
	if c.Devices < 0 || c.Devices > 5000 {
		errs = append(errs, fmt.Errorf("-devices %d: need 0..5000", c.Devices))
	}
	if c.MaxRequests == 0 {
		errs = append(errs, errors.New("-max-requests must be positive"))
	}
	if c.Prefill < 0 || c.Prefill > 10_000_000 {
		errs = append(errs, errors.New("-prefill must be in [0, 10M]"))
	}
	if c.BodySize < 1 || c.BodySize > 20_000 {
		errs = append(errs, errors.New("-body-size must be in [1, 20000] (ten of them must fit a 256 KiB POST)"))
	}
	switch c.Store {
	case storeBadger:
	case storeRedis:
		if len(c.Topologies) == 0 {
			errs = append(errs, errors.New("-redis-topologies: none given"))
		}
		for _, t := range c.Topologies {
			if t != topologySingle && t != topologyCluster && t != topology2Nodes {
				errs = append(errs, fmt.Errorf("-redis-topologies: unknown %q (known: %s)", t, redisTopologies))
			}
		}
		if c.AppendFsync != "everysec" && c.AppendFsync != "always" {
			errs = append(errs, fmt.Errorf("-redis-appendfsync %q: need everysec or always", c.AppendFsync))
		}
	default:
		errs = append(errs, fmt.Errorf("-store %q: need badger or redis", c.Store))
	}
	if c.ServerConfig != "" {
		if _, err := os.Stat(c.ServerConfig); err != nil {
			errs = append(errs, fmt.Errorf("-server-config: %w", err))
		}
	}
	if _, err := os.Stat(c.Zedge); err != nil {
		errs = append(errs, fmt.Errorf("-zedge: %w (build it first: make build)", err))
	}
	return errors.Join(errs...)
}

// prefillFor is the number of messages to post before a workload.
func (c Config) prefillFor(workload string) int {
	switch workload {
	case workloadClaimAck:
		if c.Prefill > 0 {
			return c.Prefill
		}
		if c.Short {
			return 60_000
		}
		return 250_000
	case workloadList10:
		if c.Prefill > 0 {
			return min(c.Prefill, 20*c.Conns)
		}
		return 20 * c.Conns
	}
	return 0
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "zedge-bench:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	cfg := DefaultConfig()
	fs := flag.NewFlagSet("zedge-bench", flag.ContinueOnError)
	fs.StringVar(&cfg.Zedge, "zedge", cfg.Zedge, "path of the zedge binary")
	fs.BoolVar(&cfg.Short, "short", os.Getenv("BENCH_SHORT") == "1", "short runs (also BENCH_SHORT=1)")
	fs.StringVar(&cfg.JSON, "json", "", "also write the report as JSON to this file")
	workloadList := fs.String("workloads", defaultWorkloadSet, "comma-separated workloads")
	fs.IntVar(&cfg.Conns, "conns", cfg.Conns, "connections per workload")
	fs.IntVar(&cfg.Queues, "queues", cfg.Queues, "queues the connections are spread over (1: all on one queue)")
	fs.DurationVar(&cfg.Duration, "duration", 0, "recorded time per workload (default 15s, 3s with -short)")
	fs.DurationVar(&cfg.Warmup, "warmup", 0, "unrecorded warm-up per workload (default 3s, 1s with -short)")
	fs.StringVar(&cfg.Durability, "durability", cfg.Durability, "zedge store durability: sync or async")
	fs.BoolVar(&cfg.Reference, "reference", cfg.Reference, "measure post1 against a canned-201 fasthttp server too")
	fs.StringVar(&cfg.ServerLogLevel, "server-log-level", cfg.ServerLogLevel, "zedge log level during the run")
	fs.Uint64Var(&cfg.MaxRequests, "max-requests", cfg.MaxRequests, "bound on recorded requests per workload")
	fs.IntVar(&cfg.Prefill, "prefill", 0, "messages posted before claim/list workloads (0: default)")
	fs.IntVar(&cfg.BodySize, "body-size", cfg.BodySize, "approximate bytes per message body")
	fs.IntVar(&cfg.MQTTRate, "mqtt-rate", 0, "pace mqtt-qos1/mqtt-qos0 to this many publishes/s in all (0: closed loop, as fast as they go)")
	fs.IntVar(&cfg.Devices, "devices", 0, "MQTT devices per MQTT workload (0: 1000, mqtt-cmd 100, mqtt-idle 1000 or 200 with -short)")
	fs.StringVar(&cfg.Store, "store", cfg.Store, "badger, or redis: zedge on private redis-server deployments "+
		"(workloads default to "+redisWorkloadSet+")")
	topologyList := fs.String("redis-topologies", redisTopologies, "with -store redis: comma-separated topologies "+
		"(single: one redis-server; cluster: 3 masters; 2nodes: two zedge on the cluster)")
	fs.StringVar(&cfg.ServerConfig, "server-config", "", "a zedge YAML `file` passed as -config to each zedge started "+
		"(e.g. debug.pprof_addr for profiling; the harness's addresses, data dir and durability override it)")
	fs.StringVar(&cfg.AppendFsync, "redis-appendfsync", cfg.AppendFsync, "with -store redis: AOF appendfsync, everysec or always")

	// Child modes: the harness re-executes itself for the load and the reference server.
	loadMode := fs.Bool("load", false, "internal: run one workload as the load process")
	refMode := fs.Bool("reference-server", false, "internal: run the canned-201 server")
	var lc loadConfig
	cfg.Soak.register(fs)
	fs.StringVar(&lc.Target, "target", "", "internal: host:port to load")
	fs.StringVar(&lc.Run, "run", "r", "internal: queue name tag")
	fs.StringVar(&lc.MQTT, "mqtt", "", "internal: host:port of zedge's MQTT listener")
	wsAddr := fs.String("ws", "", "internal: host:port of zedge's websocket listener")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg.Workloads = strings.Split(*workloadList, ",")
	workloadsSet := false
	fs.Visit(func(f *flag.Flag) { workloadsSet = workloadsSet || f.Name == "workloads" })
	if cfg.Store == storeRedis && !workloadsSet {
		cfg.Workloads = strings.Split(redisWorkloadSet, ",")
	}
	if cfg.Store == storeRedis && !*loadMode {
		// The MQTT workloads measure the bridge, the same on any store: -store redis leaves them out, so that
		// make bench with BENCH_ARGS='-workloads mqtt-qos1' still runs (and skips the Redis pass). The soak
		// measures the Badger store's disk and memory, so it is left out too, and ws-idle measures the websocket
		// transport, the same on any store.
		var httpOnly []string
		for _, w := range cfg.Workloads {
			if _, isMQTT := mqttWorkloads[w]; !isMQTT && w != workloadSoak && w != workloadWSIdle {
				httpOnly = append(httpOnly, w)
			}
		}
		if len(httpOnly) == 0 {
			fmt.Println("zedge-bench: -store redis runs HTTP workloads only, and -workloads names none; nothing to do")
			return nil
		}
		cfg.Workloads = httpOnly
	}
	cfg.Topologies = strings.Split(*topologyList, ",")
	cfg.resolve()
	raiseFileLimit() // before any child starts: they inherit it

	switch {
	case *refMode:
		return runReferenceServer()
	case *loadMode:
		if len(cfg.Workloads) != 1 || lc.Target == "" {
			return errors.New("-load needs -target and exactly one workload")
		}
		lc.Workload, lc.Conns, lc.Queues = cfg.Workloads[0], cfg.Conns, cfg.Queues
		lc.Warmup, lc.Duration, lc.MaxReqs = cfg.Warmup, cfg.Duration, cfg.MaxRequests
		lc.Prefill, lc.BodySize, lc.Project = cfg.Prefill, cfg.BodySize, "bench"
		lc.Devices = devicesFor(lc.Workload, cfg.Devices, cfg.Short)
		mqttRate = cfg.MQTTRate
		lc.Soak = cfg.Soak
		if lc.Workload == workloadWSIdle {
			lc.Devices = wsSocketsFor(cfg.Devices, cfg.Short)
			return runWSIdle(lc, *wsAddr, os.Stdout)
		}
		return runLoad(lc, os.Stdout)
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	return orchestrate(cfg)
}

// orchestrate runs every workload against a fresh zedge (and post1 against the reference), prints the table and
// writes the JSON.
func orchestrate(cfg Config) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "zedge-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	rep := newReport(cfg)

	if cfg.Reference {
		ref, err := startChild(targetReference, exec.Command(self, "-reference-server"), work)
		if err != nil {
			return err
		}
		res, err := measure(cfg, self, []*child{ref}, nil, workloadPost1, "", 0)
		stopErr := ref.stop()
		if err != nil {
			return err
		}
		if stopErr != nil {
			return stopErr
		}
		res.Target = targetReference
		rep.Results = append(rep.Results, res)
	}

	if cfg.Store == storeRedis {
		if err := runRedisWorkloads(cfg, self, work, rep); err != nil {
			return err
		}
	}
	for i, wl := range cfg.Workloads {
		if cfg.Store != storeBadger {
			break
		}
		dataDir := filepath.Join(work, fmt.Sprintf("data-%d", i))
		cmd := exec.Command(cfg.Zedge, zedgeServeArgs(cfg)...)
		cmd.Env = append(os.Environ(),
			"ZEDGE_HTTP_ADDR=127.0.0.1:0",
			"ZEDGE_MQTT_ADDR=127.0.0.1:0",
			"ZEDGE_WS_ADDR=127.0.0.1:0",
			"ZEDGE_DATA_DIR="+dataDir,
			"ZEDGE_STORE=badger",
			"ZEDGE_DURABILITY="+cfg.Durability,
			"ZEDGE_LOG_LEVEL="+cfg.ServerLogLevel,
		)
		z, err := startChild(fmt.Sprintf("zedge-%d", i), cmd, work)
		if err != nil {
			return err
		}
		res, err := measure(cfg, self, []*child{z}, nil, wl, dataDir, cfg.prefillFor(wl))
		stopErr := z.stop()
		if err != nil {
			return err
		}
		if _, isMQTT := mqttWorkloads[wl]; isMQTT && stopErr != nil {
			// A flood of QoS 0 readings can leave zedge still storing at SIGTERM; the figures were taken
			// before, so report the unclean stop instead of losing the run.
			rep.Notes = append(rep.Notes, fmt.Sprintf("* %s: zedge did not stop cleanly afterwards: %s", wl,
				summarizeStopError(stopErr.Error())))
			stopErr = nil
		}
		if stopErr != nil {
			return stopErr
		}
		res.Target = "zedge"
		res.Durability = cfg.Durability
		if res.Exhausted {
			rep.Notes = append(rep.Notes, fmt.Sprintf("* %s ran out of its %d pre-filled messages before the end; "+
				"its rates cover %.1fs (raise -prefill)", wl, res.Prefilled, res.Elapsed))
		}
		if res.Note != "" {
			rep.Notes = append(rep.Notes, "* "+res.Workload+": "+res.Note)
		}
		switch wl {
		case workloadMQTTQoS1, workloadMQTTQoS0:
			rep.Notes = append(rep.Notes, "* "+cpuPerMessageNote(res))
		case workloadMQTTIdle:
			rep.Notes = append(rep.Notes, "* "+wl+": "+idleNote(res.Conns, res.RSSBefore, res.RSSAfter))
		case workloadWSIdle:
			rep.Notes = append(rep.Notes, "* "+wl+": "+wsIdleNote(res.Conns, res.RSSBefore, res.RSSAfter))
		}
		rep.Results = append(rep.Results, res)
		_ = os.RemoveAll(dataDir)
	}

	rep.applyCeiling()
	durability := cfg.Durability
	if cfg.Store == storeRedis {
		durability = "redis appendfsync " + cfg.AppendFsync
	}
	fmt.Printf("zedge-bench: %d connections, %d queues, %s recorded after %s warm-up, durability %s, %d CPUs, %s\n",
		cfg.Conns, cfg.Queues, cfg.Duration, cfg.Warmup, durability, rep.CPUs, rep.GoVersion)
	if err := rep.WriteTable(os.Stdout); err != nil {
		return err
	}
	if cfg.JSON != "" {
		if err := rep.WriteJSON(cfg.JSON); err != nil {
			return err
		}
		fmt.Println("wrote", cfg.JSON)
	}
	return nil
}

// zedgeServeArgs are the arguments of a zedge the harness starts.
func zedgeServeArgs(cfg Config) []string {
	if cfg.ServerConfig != "" {
		return []string{"serve", "-config", cfg.ServerConfig}
	}
	return []string{"serve"}
}

// measure runs one load process against srvs (the load is spread over them) and samples their CPU time over
// exactly the recorded window, and that of storePIDs (redis-server processes) apart.
func measure(cfg Config, self string, srvs []*child, storePIDs []int, workload, dataDir string, prefill int) (Result, error) {
	srv := srvs[0]
	targets := make([]string, len(srvs))
	names := make([]string, len(srvs))
	for i, s := range srvs {
		targets[i], names[i] = s.addr, s.name
	}
	conns := cfg.Conns
	if _, ok := mqttWorkloads[workload]; ok {
		conns = devicesFor(workload, cfg.Devices, cfg.Short)
	}
	fmt.Fprintf(os.Stderr, "zedge-bench: %s against %s (%d connections, %s)...\n", workload, strings.Join(names, "+"), conns, cfg.Duration)
	args := []string{
		"-load", "-target", strings.Join(targets, ","), "-workloads", workload,
		"-conns", strconv.Itoa(cfg.Conns), "-queues", strconv.Itoa(cfg.Queues),
		"-duration", cfg.Duration.String(), "-warmup", cfg.Warmup.String(),
		"-max-requests", strconv.FormatUint(cfg.MaxRequests, 10), "-prefill", strconv.Itoa(prefill),
		"-body-size", strconv.Itoa(cfg.BodySize), "-run", strconv.FormatInt(time.Now().UnixNano()%1e6, 36),
		"-mqtt", srv.mqtt, "-devices", strconv.Itoa(cfg.Devices), "-ws", srv.ws, "-mqtt-rate", strconv.Itoa(cfg.MQTTRate),
	}
	if cfg.Short {
		args = append(args, "-short")
	}
	if workload == workloadSoak {
		args = append(args, cfg.Soak.loadArgs(srv.pid, dataDir)...)
	}
	cmd := exec.Command(self, args...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return Result{}, err
	}
	if err := cmd.Start(); err != nil {
		return Result{}, err
	}
	var res Result
	var cpuStart, cpuEnd, storeStart, storeEnd float64
	var rssErr error
	var gotResult bool
	var readErr error
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == markMeasureStart:
			cpuStart, readErr = sumCPUSeconds(srvs, nil)
			if readErr == nil {
				storeStart, readErr = sumCPUSeconds(nil, storePIDs)
			}
		case line == markMeasureEnd:
			cpuEnd, readErr = sumCPUSeconds(srvs, nil)
			if readErr == nil {
				storeEnd, readErr = sumCPUSeconds(nil, storePIDs)
			}
		case line == markRSSBefore:
			res.RSSBefore, _, rssErr = memoryBytes(srv.pid)
		case line == markRSSAfter:
			res.RSSAfter, _, rssErr = memoryBytes(srv.pid)
		case strings.HasPrefix(line, markResult):
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, markResult)), &res.LoadResult); err != nil {
				readErr = fmt.Errorf("load result: %w", err)
			}
			gotResult = true
		default:
			fmt.Fprintln(os.Stderr, line)
		}
	}
	if err := cmd.Wait(); err != nil {
		return Result{}, fmt.Errorf("load process for %s: %w", workload, err)
	}
	if err := errors.Join(readErr, rssErr); err != nil {
		return Result{}, err
	}
	if !gotResult {
		return Result{}, fmt.Errorf("load process for %s printed no result", workload)
	}
	res.ServerCPU = cpuEnd - cpuStart
	res.StoreCPU = storeEnd - storeStart
	for _, s := range srvs {
		rss, hwm, err := memoryBytes(s.pid)
		if err != nil {
			return Result{}, err
		}
		res.ServerRSS += rss
		res.ServerHWM += hwm
	}
	if dataDir != "" {
		if res.DataDir, err = diskUsage(dataDir); err != nil {
			return Result{}, err
		}
	}
	res.fill()
	return res, nil
}

// sumCPUSeconds is the CPU time used so far by the servers and the other processes, together.
func sumCPUSeconds(srvs []*child, pids []int) (float64, error) {
	for _, s := range srvs {
		pids = append(pids, s.pid)
	}
	var total float64
	for _, pid := range pids {
		s, err := cpuSeconds(pid)
		if err != nil {
			return 0, err
		}
		total += s
	}
	return total, nil
}

// summarizeStopError is the first line of a stop error and the last non-empty line of the log it carries.
func summarizeStopError(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) == 1 {
		return lines[0]
	}
	return strings.TrimSuffix(lines[0], "; log:") + ": " + strings.TrimSpace(lines[len(lines)-1])
}
