package redisrevoke

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/zedge-io/zedge/internal/zedgetest"
	"github.com/zedge-io/zedge/signing/revoke"
	"github.com/zedge-io/zedge/signing/revoke/revoketest"
	"github.com/zedge-io/zedge/store/redisstore/redistest"
)

func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }

// keys gives every list of the test binary a key of its own on the shared servers.
var keys atomic.Int64

func client(t *testing.T, addrs []string, cluster bool) redis.UniversalClient {
	t.Helper()
	rdb := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: addrs, IsClusterMode: cluster, DisableIdentity: true})
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

func backend(t *testing.T, rdb redis.UniversalClient, key string) *Backend {
	t.Helper()
	b, err := New(rdb, Config{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// conformance runs the suite with every subtest on a key of its own; Open gives each handle its own client,
// as another node would have.
func conformance(t *testing.T, addrs []string, cluster bool) {
	revoketest.Run(t, func(t *testing.T) revoketest.Target {
		key := KeyFor(fmt.Sprintf("revoketest-%d", keys.Add(1)))
		admin := client(t, addrs, cluster)
		var edits atomic.Int64
		ctx := context.Background()
		return revoketest.Target{
			Open: func(t *testing.T) revoke.Backend { return backend(t, client(t, addrs, cluster), key) },
			// An operator's edit with redis-cli: the list and a new version.
			Overwrite: func(t *testing.T, data []byte) {
				if err := admin.HSet(ctx, key, FieldList, data, FieldVersion, fmt.Sprintf("edit-%d", edits.Add(1))).Err(); err != nil {
					t.Fatal(err)
				}
			},
			Clear: func(t *testing.T) {
				if err := admin.Del(ctx, key).Err(); err != nil {
					t.Fatal(err)
				}
			},
		}
	})
}

func TestConformanceSingle(t *testing.T) {
	conformance(t, []string{redistest.SharedSingle(t)}, false)
}

// TestConformanceCluster: the list is one key, so one slot, and every operation (the script included) runs on
// a 3-master cluster as on a single Redis.
func TestConformanceCluster(t *testing.T) {
	conformance(t, redistest.SharedCluster(t), true)
}

// TestStoredForm: the hash holds the file backend's document and its SHA-256, the fingerprint and never the
// signature, and a write that changes nothing leaves the version as it was.
func TestStoredForm(t *testing.T) {
	rdb := client(t, []string{redistest.SharedSingle(t)}, false)
	key := KeyFor(fmt.Sprintf("stored-%d", keys.Add(1)))
	l, err := revoke.New(backend(t, rdb, key), time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	const sig = "570f25a4008b45ec380945e5e0de63efbd5c7e39a6ccbad45698bce8bea956d8"
	now := time.Now()
	if _, err := l.Revoke(revoke.ForSignature(sig, time.Time{}), now); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	vals, err := rdb.HGetAll(ctx, key).Result()
	if err != nil {
		t.Fatal(err)
	}
	entries, err := revoke.Decode([]byte(vals[FieldList]))
	if err != nil || len(entries) != 1 || entries[0].ID == sig || len(vals) != 2 {
		t.Fatalf("stored %q: %v", vals, err)
	}
	if vals[FieldVersion] != versionOf([]byte(vals[FieldList])) {
		t.Errorf("version %s is not the list's SHA-256", vals[FieldVersion])
	}
	// Revoking it again changes nothing stored, so the version stays and watchers load nothing.
	if _, err := l.Revoke(revoke.ForSignature(sig, time.Time{}), now); err != nil {
		t.Fatal(err)
	}
	if v, _ := rdb.HGet(ctx, key, FieldVersion).Result(); v != vals[FieldVersion] {
		t.Errorf("version changed from %s to %s by a write that changed nothing", vals[FieldVersion], v)
	}
	if got, want := l.Where(), "redis key "+key; got != want {
		t.Errorf("Where() = %q, want %q", got, want)
	}
}

// waitFor polls cond; the bound only keeps a broken build from hanging, it is not a speed check.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestRedisDownKeepsList: while Redis is down a node keeps refusing what it knew to be revoked (a reload
// fails, the watcher logs it once and keeps the list), a change cannot be made (an error, not a silent loss),
// and after Redis is back (with its data, from its append-only file) the watcher says so and picks up changes
// again.
func TestRedisDownKeepsList(t *testing.T) {
	srv := redistest.StartServer(t, "--appendonly", "yes", "--appendfsync", "always")
	key := KeyFor("down")
	rdb := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{srv.Addr()}, DisableIdentity: true,
		MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer rdb.Close()
	logs := &zedgetest.Buffer{}
	node, err := revoke.New(backend(t, rdb, key), 20*time.Millisecond, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	now := time.Now()
	if _, err := node.Revoke(revoke.Entry{Kind: revoke.TokenID, ID: "leaked"}, now); err != nil {
		t.Fatal(err)
	}
	node.Watch()

	srv.Kill()
	waitFor(t, "the watcher's error logged", func() bool { return strings.Contains(logs.String(), "keeping the previous list") })
	if _, err := node.Reload(); err == nil {
		t.Fatal("a reload with Redis down reported no error")
	}
	if !node.TokenRevoked("leaked", "", now) {
		t.Fatal("the list was dropped while Redis was down")
	}
	if _, err := node.Revoke(revoke.Entry{Kind: revoke.TokenID, ID: "other"}, now); err == nil {
		t.Fatal("a revocation with Redis down reported success")
	}

	srv.Restart()
	waitFor(t, "the watcher's recovery logged", func() bool { return strings.Contains(logs.String(), "revocation list readable again") })
	other, err := revoke.New(backend(t, client(t, []string{srv.Addr()}, false), key), time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if !other.TokenRevoked("leaked", "", now) || other.TokenRevoked("other", "", now) {
		t.Fatalf("the list after Redis's restart: %+v", other.Entries())
	}
	if _, err := other.Revoke(revoke.Entry{Kind: revoke.TokenID, ID: "after"}, now); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a revocation after the restart seen", func() bool { return node.TokenRevoked("after", "", now) })
}

func TestConfig(t *testing.T) {
	for _, tc := range []struct {
		prefix, key string
	}{
		{"zedge", "zedge:revocations"},
		{"site-a", "site-a:revocations"},
		{"", "revocations"},
	} {
		if got := KeyFor(tc.prefix); got != tc.key {
			t.Errorf("KeyFor(%q) = %q, want %q", tc.prefix, got, tc.key)
		}
	}
	if err := DefaultConfig().Validate(); err != nil || DefaultConfig().Key != "zedge:revocations" {
		t.Fatalf("default %+v: %v", DefaultConfig(), err)
	}
	for _, key := range []string{"", "{zedge}:revocations"} {
		if _, err := New(nil, Config{Key: key}); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("key %q: %v", key, err)
		}
	}
}

// TestUnreachable: a List cannot be made without the stored list, so a node does not start with an empty one.
func TestUnreachable(t *testing.T) {
	srv := redistest.StartServer(t)
	addr := srv.Addr()
	srv.Kill()
	rdb := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{addr}, DisableIdentity: true, MaxRetries: -1})
	defer rdb.Close()
	_, err := revoke.New(backend(t, rdb, "x:revocations"), time.Second, nil)
	if err == nil || !strings.Contains(err.Error(), "x:revocations") {
		t.Fatalf("New with Redis down: %v", err)
	}
}

// TestConflictRetries: a write that lands between another update's read and its compare-and-set makes that
// update read again and apply its change to the newer list, so both changes are kept.
func TestConflictRetries(t *testing.T) {
	addrs := []string{redistest.SharedSingle(t)}
	key := KeyFor(fmt.Sprintf("conflict-%d", keys.Add(1)))
	first, second := backend(t, client(t, addrs, false), key), backend(t, client(t, addrs, false), key)
	ctx := context.Background()
	at := time.Date(2026, 11, 22, 2, 12, 47, 0, time.UTC)
	add := func(id string) func([]revoke.Entry) ([]revoke.Entry, error) {
		return func(es []revoke.Entry) ([]revoke.Entry, error) {
			return append(es, revoke.Entry{Kind: revoke.TokenID, ID: id, RevokedAt: at}), nil
		}
	}
	calls := 0
	stored, version, err := first.Update(ctx, func(es []revoke.Entry) ([]revoke.Entry, error) {
		calls++
		if calls == 1 {
			if _, _, err := second.Update(ctx, add("cut-in")); err != nil {
				t.Fatal(err)
			}
		}
		return add("mine")(es)
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 2 || len(stored) != 2 || stored[0].ID != "cut-in" || stored[1].ID != "mine" {
		t.Fatalf("fn called %d times, stored %+v", calls, stored)
	}
	loaded, v, err := second.Load(ctx)
	if err != nil || len(loaded) != 2 || v != version {
		t.Fatalf("loaded %+v at %v (update returned %v): %v", loaded, v, version, err)
	}
	if changed, err := second.Changed(ctx, version); err != nil || changed {
		t.Fatalf("Changed at the current version: %v %v", changed, err)
	}

	// A writer that always cuts in exhausts the attempts: an error, and the list holds only the cut-ins.
	_, _, err = first.Update(ctx, func(es []revoke.Entry) ([]revoke.Entry, error) {
		if _, _, err := second.Update(ctx, add(fmt.Sprintf("storm-%d", len(es)))); err != nil {
			t.Fatal(err)
		}
		return add("never")(es)
	})
	if !errors.Is(err, ErrContention) {
		t.Fatalf("update under constant contention: %v", err)
	}
	loaded, _, _ = second.Load(ctx)
	if len(loaded) != 2+MaxAttempts || loaded[len(loaded)-1].ID == "never" {
		t.Fatalf("after contention: %d entries, last %+v", len(loaded), loaded[len(loaded)-1])
	}
}

// BenchmarkPoll is what each watching node costs Redis and itself every poll interval when nothing changed:
// one HGET of the version, here against a list of 1000 entries.
func BenchmarkPoll(b *testing.B) {
	rdb := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{redistest.SharedSingle(b)}, DisableIdentity: true})
	defer rdb.Close()
	be, err := New(rdb, Config{Key: KeyFor(fmt.Sprintf("bench-%d", keys.Add(1)))})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	at := time.Date(2026, 11, 22, 2, 12, 47, 0, time.UTC)
	_, v, err := be.Update(ctx, func(es []revoke.Entry) ([]revoke.Entry, error) {
		for i := range 1000 {
			es = append(es, revoke.Entry{Kind: revoke.TokenID, ID: fmt.Sprintf("j%d", i), RevokedAt: at})
		}
		return es, nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("unchanged", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if changed, err := be.Changed(ctx, v); err != nil || changed {
				b.Fatal(changed, err)
			}
		}
	})
	b.Run("load", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := be.Load(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}
