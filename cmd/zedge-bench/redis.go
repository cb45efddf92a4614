package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis topologies of -store redis.
const (
	topologySingle  = "single"  // one redis-server, one zedge
	topologyCluster = "cluster" // a 3-master Redis Cluster, one zedge
	topology2Nodes  = "2nodes"  // the same cluster, two zedge processes sharing the load
	redisTopologies = topologySingle + "," + topologyCluster + "," + topology2Nodes
	clusterMasters  = 3
)

// redisDeployment is a private Redis the harness started: one server or a cluster of masters without replicas,
// each a redis-server child on a free loopback port with its files (the AOF) under dir.
type redisDeployment struct {
	dir     string
	cluster bool
	addrs   []string
	procs   []*exec.Cmd
	done    []chan struct{}
}

// startRedis starts a single redis-server or a Redis Cluster of clusterMasters masters with AOF persistence
// (appendfsync as given: everysec or always), and waits until it serves (every node reports cluster_state:ok).
// Ports are picked free; a port taken between the pick and the start fails the attempt, which is retried.
func startRedis(dir string, cluster bool, appendfsync string) (*redisDeployment, error) {
	for _, bin := range []string{"redis-server", "redis-cli"} {
		if _, err := exec.LookPath(bin); err != nil {
			return nil, fmt.Errorf("-store redis needs %s (Debian: bash scripts/deps.sh installs redis-server and redis-tools): %w", bin, err)
		}
	}
	var lastErr error
	for attempt := range 3 {
		d, err := tryStartRedis(filepath.Join(dir, fmt.Sprintf("try-%d", attempt)), cluster, appendfsync)
		if err == nil {
			return d, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

func tryStartRedis(dir string, cluster bool, appendfsync string) (*redisDeployment, error) {
	n := 1
	if cluster {
		n = clusterMasters
	}
	ports, err := freeRedisPorts(n, cluster)
	if err != nil {
		return nil, err
	}
	d := &redisDeployment{dir: dir, cluster: cluster}
	for i, port := range ports {
		nodeDir := filepath.Join(dir, fmt.Sprintf("node-%d", i))
		if err := os.MkdirAll(nodeDir, 0o755); err != nil {
			d.stop()
			return nil, err
		}
		args := []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", nodeDir,
			"--save", "", "--appendonly", "yes", "--appendfsync", appendfsync, "--daemonize", "no",
			"--logfile", "redis.log"}
		if cluster {
			args = append(args, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
				"--cluster-node-timeout", "5000")
		}
		cmd := exec.Command("redis-server", args...)
		cmd.Dir = nodeDir
		if err := cmd.Start(); err != nil {
			d.stop()
			return nil, fmt.Errorf("start redis-server: %w", err)
		}
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		d.procs = append(d.procs, cmd)
		d.done = append(d.done, done)
		d.addrs = append(d.addrs, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i, addr := range d.addrs {
		if err := waitRedis(ctx, addr, d.done[i]); err != nil {
			d.stop()
			return nil, fmt.Errorf("redis-server on %s: %w; log:\n%s", addr, err, d.logTail(i))
		}
	}
	if !cluster {
		return d, nil
	}
	create := append([]string{"--cluster", "create"}, d.addrs...)
	create = append(create, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.CommandContext(ctx, "redis-cli", create...).CombinedOutput(); err != nil {
		d.stop()
		return nil, fmt.Errorf("redis-cli --cluster create: %w: %s", err, lastLines(string(out), 5))
	}
	for _, addr := range d.addrs {
		if err := waitClusterOK(ctx, addr); err != nil {
			d.stop()
			return nil, err
		}
	}
	return d, nil
}

// freeRedisPorts picks n free loopback ports; for a cluster each port+10000 (the cluster bus) must be free too.
func freeRedisPorts(n int, cluster bool) ([]int, error) {
	var ports []int
	var held []net.Listener
	defer func() {
		for _, l := range held {
			l.Close()
		}
	}()
	for tries := 0; len(ports) < n; tries++ {
		if tries > 200 {
			return nil, errors.New("no free ports for redis-server")
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		if cluster {
			if port+10000 > 65535 {
				l.Close()
				continue
			}
			bus, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port+10000)))
			if err != nil {
				l.Close()
				continue
			}
			held = append(held, bus)
		}
		held = append(held, l)
		ports = append(ports, port)
	}
	return ports, nil
}

// waitRedis waits until addr answers PING (or the process exits).
func waitRedis(ctx context.Context, addr string, exited <-chan struct{}) error {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second})
	defer c.Close()
	for {
		if err := c.Ping(ctx).Err(); err == nil {
			return nil
		}
		select {
		case <-exited:
			return errors.New("exited before it answered PING")
		case <-ctx.Done():
			return fmt.Errorf("no PONG: %w", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// waitClusterOK waits until the node at addr reports cluster_state:ok.
func waitClusterOK(ctx context.Context, addr string) error {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	for {
		info, err := c.ClusterInfo(ctx).Result()
		if err == nil && strings.Contains(info, "cluster_state:ok") {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster node %s never reported cluster_state:ok (%v)", addr, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// env is what a zedge on this deployment needs.
func (d *redisDeployment) env() []string {
	return []string{"ZEDGE_STORE=redis", "ZEDGE_REDIS_ADDRS=" + strings.Join(d.addrs, ","),
		"ZEDGE_REDIS_CLUSTER=" + strconv.FormatBool(d.cluster)}
}

// pids are the redis-server processes (for their CPU time).
func (d *redisDeployment) pids() []int {
	out := make([]int, len(d.procs))
	for i, p := range d.procs {
		out[i] = p.Process.Pid
	}
	return out
}

// stop terminates every redis-server (SIGTERM, then SIGKILL after 10 s) and waits for them.
func (d *redisDeployment) stop() {
	for _, p := range d.procs {
		_ = p.Process.Signal(syscall.SIGTERM)
	}
	for i, p := range d.procs {
		select {
		case <-d.done[i]:
		case <-time.After(10 * time.Second):
			_ = p.Process.Kill()
			<-d.done[i]
		}
	}
}

func (d *redisDeployment) logTail(i int) string {
	raw, _ := os.ReadFile(filepath.Join(d.dir, fmt.Sprintf("node-%d", i), "redis.log"))
	return lastLines(string(raw), 10)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// runRedisWorkloads runs every workload on every topology: a fresh Redis deployment and fresh zedge processes
// per row, so that no row inherits another's backlog. The data dir column is the size of the AOF files.
func runRedisWorkloads(cfg Config, self, work string, rep *Report) error {
	row := 0
	for _, topo := range cfg.Topologies {
		for _, wl := range cfg.Workloads {
			row++
			res, err := runRedisRow(cfg, self, filepath.Join(work, fmt.Sprintf("redis-%d", row)), topo, wl, row)
			if err != nil {
				return fmt.Errorf("%s on redis %s: %w", wl, topo, err)
			}
			if res.Exhausted {
				rep.Notes = append(rep.Notes, fmt.Sprintf("* %s (%s) ran out of its %d pre-filled messages before "+
					"the end; its rates cover %.1fs (raise -prefill)", wl, res.Target, res.Prefilled, res.Elapsed))
			}
			if res.Requests > 0 {
				rep.Notes = append(rep.Notes, fmt.Sprintf("* %s (%s): redis-server CPU %.4f s/1k req (not in the "+
					"cpu column, which is zedge's)", wl, res.Target, res.StoreCPU/float64(res.Requests)*1000))
			}
			rep.Results = append(rep.Results, res)
		}
	}
	return nil
}

// runRedisRow starts Redis and zedge for one topology, measures one workload and stops them all.
func runRedisRow(cfg Config, self, dir, topo, wl string, row int) (Result, error) {
	d, err := startRedis(dir, topo != topologySingle, cfg.AppendFsync)
	if err != nil {
		return Result{}, err
	}
	defer d.stop()
	nodes := 1
	target := "zedge/redis-" + topo
	if topo == topology2Nodes {
		nodes, target = 2, "2 zedge/redis-cluster"
	}
	var srvs []*child
	stopAll := func() error {
		var errs []error
		for _, z := range srvs {
			errs = append(errs, z.stop())
		}
		srvs = nil
		return errors.Join(errs...)
	}
	defer func() { _ = stopAll() }()
	for n := range nodes {
		cmd := exec.Command(cfg.Zedge, "serve")
		cmd.Env = append(os.Environ(),
			"ZEDGE_HTTP_ADDR=127.0.0.1:0",
			"ZEDGE_MQTT_ADDR=127.0.0.1:0",
			"ZEDGE_WS_ADDR=127.0.0.1:0",
			// Revocations and nothing else live in the data directory with the Redis store.
			"ZEDGE_DATA_DIR="+filepath.Join(dir, fmt.Sprintf("zedge-%d", n)),
			"ZEDGE_LOG_LEVEL="+cfg.ServerLogLevel,
		)
		cmd.Env = append(cmd.Env, d.env()...)
		z, err := startChild(fmt.Sprintf("zedge-r%d-%d", row, n), cmd, dir)
		if err != nil {
			return Result{}, err
		}
		srvs = append(srvs, z)
	}
	res, err := measure(cfg, self, srvs, d.pids(), wl, d.dir, cfg.prefillFor(wl))
	if stopErr := stopAll(); err == nil {
		err = stopErr
	}
	if err != nil {
		return Result{}, err
	}
	res.Target = target
	res.Durability = "appendfsync " + cfg.AppendFsync
	return res, nil
}
