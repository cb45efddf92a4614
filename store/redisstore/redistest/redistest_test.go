package redistest

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

func TestStartSingle(t *testing.T) {
	addr := StartSingle(t)
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Fatalf("address %q is not on loopback", addr)
	}
	if _, err := command(addr, "SET", "k", "v"); err != nil {
		t.Fatal(err)
	}
	got, err := command(addr, "GET", "k")
	if err != nil || got != "v" {
		t.Fatalf("GET k = %q, %v", got, err)
	}
	// Two servers are independent.
	other := StartSingle(t)
	if other == addr {
		t.Fatal("two servers share an address")
	}
	if got, _ := command(other, "EXISTS", "k"); got != "0" {
		t.Fatalf("the second server sees the first one's key (EXISTS = %s)", got)
	}
}

func TestStartClusterAndStop(t *testing.T) {
	var addrs []string
	t.Run("cluster", func(t *testing.T) {
		addrs = StartCluster(t, 3)
		if len(addrs) != 3 {
			t.Fatalf("%d nodes, want 3", len(addrs))
		}
		for _, a := range addrs {
			info, err := command(a, "CLUSTER", "INFO")
			if err != nil || !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, "cluster_slots_assigned:16384") {
				t.Fatalf("node %s: %q, %v", a, info, err)
			}
		}
		// A key lives on exactly one node; the others redirect.
		moved := 0
		for _, a := range addrs {
			if _, err := command(a, "SET", "{tag}k", "v"); err != nil && strings.HasPrefix(err.Error(), "MOVED") {
				moved++
			}
		}
		if moved != 2 {
			t.Fatalf("%d nodes redirected the key, want 2", moved)
		}
	})
	// The subtest's cleanup stopped the nodes.
	for _, a := range addrs {
		if _, err := command(a, "PING"); err == nil {
			t.Fatalf("node %s still answers after its test ended", a)
		}
	}
}

func TestSharedServersAreReused(t *testing.T) {
	a, b := SharedSingle(t), SharedSingle(t)
	if a != b {
		t.Fatalf("shared single: %s then %s", a, b)
	}
	c1, c2 := SharedCluster(t), SharedCluster(t)
	if strings.Join(c1, ",") != strings.Join(c2, ",") || len(c1) != SharedClusterMasters {
		t.Fatalf("shared cluster: %v then %v", c1, c2)
	}
	if got, err := command(a, "PING"); err != nil || got != "PONG" {
		t.Fatalf("shared single PING = %q, %v", got, err)
	}
}

// fatalRecorder records a Fatalf and ends the goroutine, as testing.T does.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestMissingRedisFailsWithInstructions(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	rec := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		StartCluster(rec, 3)
		t.Error("StartCluster returned without redis-server on PATH")
	}()
	<-done
	if !strings.Contains(rec.msg, "bash scripts/deps.sh") || !strings.Contains(rec.msg, "redis-server") {
		t.Fatalf("failure message %q does not say how to install Redis", rec.msg)
	}
}

// With an append-only file, what the server acknowledged survives a crash of its process.
func TestServerKillRestart(t *testing.T) {
	s := StartServer(t, "--appendonly", "yes")
	addr := s.Addr()
	if _, err := command(addr, "SET", "k", "v"); err != nil {
		t.Fatal(err)
	}
	s.Kill()
	if _, err := command(addr, "PING"); err == nil {
		t.Fatal("the server answers after Kill")
	}
	s.Restart()
	if s.Addr() != addr {
		t.Fatalf("address changed across Restart: %s, then %s", addr, s.Addr())
	}
	if got, err := command(addr, "GET", "k"); err != nil || got != "v" {
		t.Fatalf("GET k after a crash and restart = %q, %v", got, err)
	}
	// Without persistence the restarted server is empty.
	volatile := StartServer(t)
	if _, err := command(volatile.Addr(), "SET", "k", "v"); err != nil {
		t.Fatal(err)
	}
	volatile.Restart()
	if got, _ := command(volatile.Addr(), "EXISTS", "k"); got != "0" {
		t.Fatalf("a server without persistence kept its key across a restart (EXISTS = %s)", got)
	}
}
