package main

// End-to-end tests of scale-out: two zedge processes on one private 3-master Redis Cluster (redistest), noauth
// as the python tests use it. python-zaqarclient sees the same queues through either node, workers on
// different nodes claim disjoint messages, a device connected to node B gets a command posted to node A, and
// after a SIGKILL of node A every message it acknowledged is listed from node B.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/zedge-io/zedge/store/redisstore/redistest"
)

// redisNodes starts n zedge processes on the cluster at addrs, sharing extra env.
func redisNodes(t *testing.T, addrs []string, n int, extra ...string) []*server {
	t.Helper()
	env := append([]string{"ZEDGE_STORE=redis", "ZEDGE_REDIS_ADDRS=" + strings.Join(addrs, ","),
		"ZEDGE_REDIS_CLUSTER=true"}, extra...)
	nodes := make([]*server, n)
	for i := range nodes {
		nodes[i] = startServer(t, serverOptions{env: env})
	}
	return nodes
}

// metricValue reads one sample of the node's /metrics by its exact series text (name and labels).
func metricValue(t *testing.T, s *server, series string) string {
	t.Helper()
	resp, err := http.Get(s.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			return v
		}
	}
	return ""
}

func TestMultiNodeRedisClusterE2E(t *testing.T) {
	t.Parallel()
	requireZaqarclient(t)
	cluster := redistest.StartCluster(t, 3)
	nodes := redisNodes(t, cluster, 2, "ZEDGE_MQTT_PROJECT=campus")
	a, b := nodes[0], nodes[1]
	for _, s := range nodes {
		if r := newClient(t, s, "campus").do("GET", "/readyz", nil); r.status != 200 {
			t.Fatalf("%s /readyz: %s", s.base, r)
		}
	}

	t.Run("python-zaqarclient sees the same queues on both nodes", func(t *testing.T) {
		runPython(t, a, "zaqarclient_multinode.py", "py-multinode", b.base)
	})

	t.Run("workers on different nodes claim disjoint messages", func(t *testing.T) {
		const total = 120
		producer := newClient(t, a, "campus")
		posted := map[string]bool{}
		for i := 0; i < total; i += 10 {
			batch := make([]map[string]any, 10)
			for j := range batch {
				batch[j] = map[string]any{"body": map[string]any{"job": i + j}, "ttl": 300}
			}
			for _, id := range producer.post("jobs", batch...) {
				posted[id] = true
			}
		}
		// Workers on both nodes claim concurrently until the queue is empty, each acknowledging on its own node.
		var mu sync.Mutex
		claimedBy := map[string]string{}
		var wg sync.WaitGroup
		for w := range 4 {
			node := nodes[w%2]
			worker := newClient(t, node, "campus")
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					claimID, msgs, status := worker.claim("jobs", 60, 60, 7)
					if status == 204 {
						return
					}
					for _, m := range msgs {
						mu.Lock()
						if prev, dup := claimedBy[m.ID]; dup {
							t.Errorf("message %s claimed twice: by %s and by worker %d", m.ID, prev, w)
						}
						claimedBy[m.ID] = fmt.Sprintf("worker %d on %s", w, node.addr)
						mu.Unlock()
						if r := worker.deleteMessage("jobs", m.ID, claimID); r.status != 204 {
							t.Errorf("acknowledge %s: %s", m.ID, r)
						}
					}
				}
			}()
		}
		wg.Wait()
		if len(claimedBy) != total {
			t.Errorf("claimed %d distinct messages, want all %d", len(claimedBy), total)
		}
		perNode := map[string]int{}
		for id, who := range claimedBy {
			if !posted[id] {
				t.Errorf("claimed %s, which was never posted", id)
			}
			perNode[who[strings.Index(who, " on ")+4:]]++
		}
		t.Logf("claims per node: %v", perNode)
		if tot, _, _ := newClient(t, b, "campus").stats("jobs"); tot != 0 {
			t.Errorf("%d messages left after every claim was acknowledged", tot)
		}
	})

	t.Run("a device on node B gets a command posted to node A", func(t *testing.T) {
		thermostat := mustV3(t, b.mqtt, "th-7", "")
		cmds := subscribeChan(t, thermostat, "devices/th-7/commands")
		// The device is subscribed before the post: the delivery its subscription started finds the queue
		// empty, and nothing else (acknowledgement, claim expiry) happens for this queue on node B, so what
		// wakes B's deliverer is the post's frame from node A's relay.
		received := metricValue(t, b, `zedge_relay_events_total{event="received"}`)
		restA := newClient(t, a, "campus")
		ids := restA.post("cmd-th-7", map[string]any{"body": map[string]any{"mode": "eco", "setpoint": 19}, "ttl": 300})
		got := decodeDeviceCommand(t, nextMsg(t, cmds).Payload())
		if got.ID != ids[0] || !jsonEqual(t, got.Body, []byte(`{"mode":"eco","setpoint":19}`)) {
			t.Errorf("thermostat got %+v, want %s", got, ids[0])
		}
		// Its PUBACK (paho acknowledges QoS 1 on receipt) deletes the command, for node A too.
		pollUntil(t, "acknowledged command deleted", func() bool {
			_, r := restA.get("cmd-th-7", ids[0])
			return r.status == http.StatusNotFound
		})
		if v := metricValue(t, b, `zedge_relay_events_total{event="received"}`); v == "" || v == received {
			t.Errorf("node B's relay received %q frames, as many as before the post (%q)", v, received)
		}
		select {
		case m := <-cmds:
			t.Errorf("a second delivery of the command: %s", m.Payload())
		default:
		}
	})

	t.Run("killing node A loses no acknowledged message", func(t *testing.T) {
		const posters, killAfter = 6, 300
		var (
			mu    sync.Mutex
			acked []string
			once  sync.Once
			cut   int
			wg    sync.WaitGroup
		)
		killed := make(chan struct{})
		for p := range posters {
			producer := newClient(t, a, "campus")
			wg.Add(1)
			go func() {
				defer wg.Done()
				for seq := 0; ; seq++ {
					body := fmt.Sprintf(`{"messages": [{"body": {"poster": %d, "seq": %d}, "ttl": 600}]}`, p, seq)
					req, _ := http.NewRequest("POST", a.base+"/v2/queues/stream/messages", strings.NewReader(body))
					req.Header.Set("Client-ID", producer.clientID)
					req.Header.Set("X-Project-ID", "campus")
					req.Header.Set("Content-Type", "application/json")
					resp, err := producer.hc.Do(req)
					if err != nil {
						mu.Lock()
						cut++
						mu.Unlock()
						return
					}
					var buf bytes.Buffer
					_, _ = buf.ReadFrom(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 201 {
						t.Errorf("POST before the kill: %d %s", resp.StatusCode, buf.Bytes())
						return
					}
					var out struct {
						Resources []string `json:"resources"`
					}
					if err := json.Unmarshal(buf.Bytes(), &out); err != nil || len(out.Resources) != 1 {
						t.Errorf("POST answer %s: %v", buf.Bytes(), err)
						return
					}
					id := idFromPath(out.Resources[0])
					mu.Lock()
					acked = append(acked, id)
					n := len(acked)
					mu.Unlock()
					if n >= killAfter {
						once.Do(func() { a.kill(); close(killed) })
					}
					select {
					case <-killed:
						return
					default:
					}
				}
			}()
		}
		wg.Wait()
		t.Logf("%d posts acknowledged by node A before its SIGKILL, %d cut off", len(acked), cut)
		listed := map[string]bool{}
		for _, m := range newClient(t, b, "campus").listAll("stream", "echo=true") {
			listed[m.ID] = true
		}
		for _, id := range acked {
			if !listed[id] {
				t.Errorf("message %s was acknowledged (201) by node A but is not listed from node B", id)
			}
		}
		// Node B goes on serving on its own.
		newClient(t, b, "campus").post("stream", map[string]any{"body": map[string]any{"after": "kill"}, "ttl": 60})
	})
}

// zedge serve refuses to start when Redis does not answer: exit status 1 and one log line naming the address.
func TestRedisUnreachableE2E(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(zedgeBin, "serve")
	cmd.Env = append(cmd.Environ(), "ZEDGE_STORE=redis", "ZEDGE_REDIS_ADDRS="+addr, "ZEDGE_HTTP_ADDR=127.0.0.1:0",
		"ZEDGE_MQTT_ADDR=127.0.0.1:0", "ZEDGE_WS_ADDR=127.0.0.1:0", "ZEDGE_DATA_DIR="+t.TempDir())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 1 {
		t.Fatalf("zedge with Redis unreachable: %v, want exit status 1; stderr:\n%s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "unreachable") || !strings.Contains(lines[0], addr) ||
		stdout.Len() != 0 {
		t.Errorf("want one line saying Redis at %s is unreachable; stdout %q, stderr:\n%s", addr, stdout.String(), stderr.String())
	}
}
