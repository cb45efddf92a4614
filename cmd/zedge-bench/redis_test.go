package main

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The bench's own Redis starter: a single server and a 3-master cluster come up with the AOF settings asked
// for, serve writes routed by slot, and are gone after stop.
func TestStartRedis(t *testing.T) {
	for _, cluster := range []bool{false, true} {
		name := map[bool]string{false: "single", true: "cluster"}[cluster]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			d, err := startRedis(t.TempDir(), cluster, "always")
			if err != nil {
				t.Fatal(err)
			}
			stopped := false
			t.Cleanup(func() {
				if !stopped {
					d.stop()
				}
			})
			want := 1
			if cluster {
				want = clusterMasters
			}
			if len(d.addrs) != want || len(d.pids()) != want {
				t.Fatalf("addrs %v, pids %v: want %d of each", d.addrs, d.pids(), want)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			c := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: d.addrs, IsClusterMode: cluster})
			defer c.Close()
			for _, k := range []string{"a", "b", "c", "d", "e", "f"} { // spread over the cluster's slots
				if err := c.Set(ctx, k, "v", 0).Err(); err != nil {
					t.Fatalf("SET %s: %v", k, err)
				}
			}
			one := redis.NewClient(&redis.Options{Addr: d.addrs[0]})
			defer one.Close()
			if got, err := one.ConfigGet(ctx, "appendfsync").Result(); err != nil || got["appendfsync"] != "always" {
				t.Errorf("appendfsync = %v (%v), want always", got, err)
			}
			env := d.env()
			if len(env) != 3 || env[0] != "ZEDGE_STORE=redis" {
				t.Errorf("env %v", env)
			}
			d.stop()
			stopped = true
			for i := range d.procs {
				select {
				case <-d.done[i]:
				default:
					t.Errorf("redis-server %d still running after stop", i)
				}
			}
		})
	}
}

// The -store flags: bad values are refused before anything starts, and a Redis pass asked only for MQTT
// workloads does nothing (make bench runs it after the Badger pass with the same BENCH_ARGS).
func TestStoreFlags(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args    []string
		mention string // "" means run returns nil
	}{
		{[]string{"-store", "sqlite"}, "-store"},
		{[]string{"-store", "redis", "-redis-topologies", "single,mesh"}, "mesh"},
		{[]string{"-store", "redis", "-redis-appendfsync", "never"}, "never"},
		{[]string{"-store", "redis", "-workloads", "mqtt-qos1,mqtt-idle"}, ""},
	}
	for _, tc := range cases {
		err := run(append([]string{"-zedge", self}, tc.args...))
		switch {
		case tc.mention == "" && err != nil:
			t.Errorf("%v: %v, want nothing to do", tc.args, err)
		case tc.mention != "" && (err == nil || !strings.Contains(err.Error(), tc.mention)):
			t.Errorf("%v: %v, want an error naming %q", tc.args, err, tc.mention)
		}
	}
}
