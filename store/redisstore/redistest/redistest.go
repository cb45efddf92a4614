package redistest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// startTimeout bounds how long a server or a cluster may take to come up before the test fails; it is a guard
// against a hung start, not a performance assertion.
const startTimeout = 30 * time.Second

// StartSingle starts a private redis-server on a free 127.0.0.1 port and returns its address (host:port). The
// server is stopped when the test ends.
func StartSingle(t testing.TB) string {
	t.Helper()
	requireBinaries(t, false)
	srv, err := startServer(t.TempDir(), false)
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	t.Cleanup(srv.stop)
	return srv.addr
}

// Server is a private redis-server that a test can crash and restart, for persistence tests.
type Server struct {
	t   testing.TB
	mu  sync.Mutex
	cur *server
}

// StartServer starts a private redis-server like StartSingle, with extra redis-server arguments (for instance
// "--appendonly", "yes"), which Kill and Restart keep.
func StartServer(t testing.TB, args ...string) *Server {
	t.Helper()
	requireBinaries(t, false)
	srv, err := startServer(t.TempDir(), false, args...)
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	s := &Server{t: t, cur: srv}
	t.Cleanup(func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.cur.stop()
	})
	return s
}

// Addr returns the server's address; it stays the same across Restart.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur.addr
}

// Kill crashes the server (SIGKILL) and waits until it has exited: what it had not written to its files is
// lost, as in a crash of the Redis process.
func (s *Server) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cur.once.Do(func() {
		_ = s.cur.cmd.Process.Kill()
		<-s.cur.exited
	})
}

// Restart starts the server again on the same port, directory and arguments (after Kill, or stopping it
// first), so it loads what it persisted.
func (s *Server) Restart() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cur.stop()
	srv, err := tryStart(s.cur.dir, false, s.cur.port, 0, s.cur.extra)
	if err != nil {
		s.t.Fatalf("redistest: restarting redis-server: %v", err)
	}
	s.cur = srv
}

// StartCluster starts a Redis Cluster of masters nodes (no replicas, at least 3 as Redis requires) on free
// 127.0.0.1 ports and returns the nodes' addresses once every node reports cluster_state:ok. The nodes are
// stopped when the test ends.
func StartCluster(t testing.TB, masters int) []string {
	t.Helper()
	requireBinaries(t, true)
	c, err := startCluster(t.TempDir(), masters)
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	t.Cleanup(c.stop)
	return c.addrs()
}

// Main runs a package's tests (m.Run) and then stops the servers started by SharedSingle and SharedCluster.
// Use it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }
func Main(m *testing.M) int {
	shared.mu.Lock()
	shared.enabled = true
	shared.mu.Unlock()
	code := m.Run()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.single != nil {
		shared.single.stop()
	}
	if shared.cluster != nil {
		shared.cluster.stop()
	}
	if shared.dir != "" {
		_ = os.RemoveAll(shared.dir)
	}
	return code
}

// SharedSingle returns the address of a single redis-server shared by every test of the package, starting it
// on first use. The package's TestMain must call Main, which stops it. Tests must isolate their keys (a key
// prefix or project names of their own).
func SharedSingle(t testing.TB) string {
	t.Helper()
	requireBinaries(t, false)
	shared.mu.Lock()
	defer shared.mu.Unlock()
	dir := shared.tempDir(t)
	if shared.singleErr == nil && shared.single == nil {
		shared.single, shared.singleErr = startServer(filepath.Join(dir, "single"), false)
	}
	if shared.singleErr != nil {
		t.Fatalf("redistest: shared single instance: %v", shared.singleErr)
	}
	return shared.single.addr
}

// SharedClusterMasters is the number of masters of the cluster SharedCluster starts.
const SharedClusterMasters = 3

// SharedCluster returns the node addresses of a 3-master Redis Cluster shared by every test of the package,
// starting it on first use. The package's TestMain must call Main, which stops it.
func SharedCluster(t testing.TB) []string {
	t.Helper()
	requireBinaries(t, true)
	shared.mu.Lock()
	defer shared.mu.Unlock()
	dir := shared.tempDir(t)
	if shared.clusterErr == nil && shared.cluster == nil {
		shared.cluster, shared.clusterErr = startCluster(filepath.Join(dir, "cluster"), SharedClusterMasters)
	}
	if shared.clusterErr != nil {
		t.Fatalf("redistest: shared cluster: %v", shared.clusterErr)
	}
	return shared.cluster.addrs()
}

var shared sharedState

type sharedState struct {
	mu         sync.Mutex
	enabled    bool // Main is running the tests
	dir        string
	single     *server
	singleErr  error
	cluster    *cluster
	clusterErr error
}

// tempDir returns the directory of the shared servers, creating it on first use; the caller holds s.mu.
func (s *sharedState) tempDir(t testing.TB) string {
	t.Helper()
	if !s.enabled {
		t.Fatal("redistest: shared servers need redistest.Main in the package's TestMain (it stops them): " +
			"func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }")
	}
	if s.dir == "" {
		dir, err := os.MkdirTemp("", "redistest-")
		if err != nil {
			t.Fatalf("redistest: %v", err)
		}
		s.dir = dir
	}
	return s.dir
}

func requireBinaries(t testing.TB, cluster bool) {
	t.Helper()
	names := []string{"redis-server"}
	if cluster {
		names = append(names, "redis-cli")
	}
	for _, name := range names {
		if _, err := exec.LookPath(name); err != nil {
			t.Fatalf("redistest: %s is not installed (%v): run `bash scripts/deps.sh` to install redis-server and redis-tools", name, err)
		}
	}
}

// server is one redis-server child process.
type server struct {
	addr    string
	port    int
	extra   []string
	dir     string
	cmd     *exec.Cmd
	exited  chan struct{} // closed when the process has exited
	waitErr error
	once    sync.Once
}

// startServer starts redis-server with its files in dir, on free ports (retrying when a port was taken between
// choosing and binding it), and waits until it answers PING.
func startServer(dir string, cluster bool, extra ...string) (*server, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var lastErr error
	for range 5 {
		ports, err := freePorts(2)
		if err != nil {
			return nil, err
		}
		srv, err := tryStart(dir, cluster, ports[0], ports[1], extra)
		if err == nil {
			return srv, nil
		}
		lastErr = err
		if !errors.Is(err, errPortTaken) {
			break
		}
	}
	return nil, lastErr
}

var errPortTaken = errors.New("port already in use")

func tryStart(dir string, cluster bool, port, busPort int, extra []string) (*server, error) {
	logFile := filepath.Join(dir, fmt.Sprintf("redis-%d.log", port))
	args := []string{
		"--port", strconv.Itoa(port),
		"--bind", "127.0.0.1",
		"--dir", dir,
		"--save", "",
		"--appendonly", "no",
		"--daemonize", "no",
		"--logfile", logFile,
		"--pidfile", filepath.Join(dir, fmt.Sprintf("redis-%d.pid", port)),
	}
	if cluster {
		args = append(args,
			"--cluster-enabled", "yes",
			"--cluster-config-file", filepath.Join(dir, fmt.Sprintf("nodes-%d.conf", port)),
			// The bus port is chosen too: port+10000 may be taken or out of range.
			"--cluster-port", strconv.Itoa(busPort),
			"--cluster-node-timeout", "5000",
		)
	}
	args = append(args, extra...)
	cmd := exec.Command("redis-server", args...)
	cmd.SysProcAttr = childAttr()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting redis-server: %w", err)
	}
	srv := &server{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), dir: dir, cmd: cmd, exited: make(chan struct{}),
		port: port, extra: extra}
	go func() {
		srv.waitErr = cmd.Wait()
		close(srv.exited)
	}()
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-srv.exited:
			log, _ := os.ReadFile(logFile)
			msg := strings.TrimSpace(out.String() + "\n" + string(log))
			if strings.Contains(msg, "Address already in use") {
				return nil, fmt.Errorf("redis-server on port %d: %w", port, errPortTaken)
			}
			return nil, fmt.Errorf("redis-server on port %d exited (%v): %s", port, srv.waitErr, lastLines(msg, 10))
		default:
		}
		// An error reply (NOAUTH with --requirepass) also says the server is up.
		var refused replyError
		if reply, err := command(srv.addr, "PING"); (err == nil && reply == "PONG") || errors.As(err, &refused) {
			return srv, nil
		}
		if time.Now().After(deadline) {
			srv.stop()
			return nil, fmt.Errorf("redis-server on port %d did not answer PING within %v", port, startTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop terminates the server (SIGTERM, then SIGKILL if it lingers: Redis ignores SIGTERM while it writes its
// first AOF, for instance) and waits for it.
func (s *server) stop() {
	s.once.Do(func() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(3 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
	})
}

// cluster is a set of redis-server processes joined into a Redis Cluster.
type cluster struct {
	nodes []*server
}

func (c *cluster) addrs() []string {
	out := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		out[i] = n.addr
	}
	return out
}

func (c *cluster) stop() {
	var wg sync.WaitGroup
	for _, n := range c.nodes {
		wg.Go(n.stop)
	}
	wg.Wait()
}

func startCluster(dir string, masters int) (*cluster, error) {
	if masters < 3 {
		return nil, fmt.Errorf("a Redis Cluster needs at least 3 masters, not %d", masters)
	}
	c := &cluster{}
	for range masters {
		srv, err := startServer(dir, true)
		if err != nil {
			c.stop()
			return nil, err
		}
		c.nodes = append(c.nodes, srv)
	}
	args := append([]string{"--cluster", "create"}, c.addrs()...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	out, err := exec.Command("redis-cli", args...).CombinedOutput()
	if err != nil {
		c.stop()
		return nil, fmt.Errorf("redis-cli --cluster create: %v: %s", err, lastLines(string(out), 10))
	}
	// Every node must see every slot covered and every other node before the cluster is handed out.
	deadline := time.Now().Add(startTimeout)
	for _, n := range c.nodes {
		for {
			info, err := command(n.addr, "CLUSTER", "INFO")
			if err == nil && strings.Contains(info, "cluster_state:ok") &&
				strings.Contains(info, fmt.Sprintf("cluster_known_nodes:%d\r\n", masters)) {
				break
			}
			if time.Now().After(deadline) {
				c.stop()
				return nil, fmt.Errorf("cluster node %s not ready within %v: %q %v", n.addr, startTimeout, info, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return c, nil
}

// freePorts returns n distinct loopback ports that were free a moment ago.
func freePorts(n int) ([]int, error) {
	var ports []int
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			_ = l.Close()
		}
	}()
	for len(ports) < n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("finding a free port: %w", err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// command sends one command in RESP and returns a simple, integer or bulk string reply (an error reply is an
// error). It is all the harness needs (PING, CLUSTER INFO), without a client library's pool.
func command(addr string, args ...string) (string, error) {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
	var req bytes.Buffer
	fmt.Fprintf(&req, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&req, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := conn.Write(req.Bytes()); err != nil {
		return "", err
	}
	r := bufio.NewReader(conn)
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("empty reply")
	}
	switch line[0] {
	case '+', ':':
		return line[1:], nil
	case '-':
		return "", replyError(line[1:])
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 {
			return "", fmt.Errorf("bad bulk reply %q", line)
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	}
	return "", fmt.Errorf("unexpected reply %q", line)
}

// replyError is an error reply of the server.
type replyError string

func (e replyError) Error() string { return string(e) }

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
