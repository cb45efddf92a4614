package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/zedge-io/zedge/store"
	"github.com/zedge-io/zedge/store/redisstore"
	"github.com/zedge-io/zedge/store/redisstore/redistest"
)

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

func TestOpenUnreachable(t *testing.T) {
	for _, cluster := range []bool{false, true} {
		t.Run(fmt.Sprintf("cluster=%v", cluster), func(t *testing.T) {
			cfg := config([]string{closedPort(t)}, cluster)
			cfg.DialTimeout = time.Second
			s, err := redisstore.Open(context.Background(), cfg, nil)
			if err == nil {
				_ = s.Close()
				t.Fatal("Open succeeded without a Redis")
			}
			if !errors.Is(err, store.ErrUnavailable) || !strings.Contains(err.Error(), cfg.Addrs[0]) ||
				!strings.Contains(err.Error(), "unreachable") {
				t.Fatalf("Open error %q: want store.ErrUnavailable naming %s", err, cfg.Addrs[0])
			}
		})
	}
	cfg := redisstore.DefaultConfig()
	cfg.Addrs = nil
	if _, err := redisstore.Open(context.Background(), cfg, nil); err == nil || !strings.Contains(err.Error(), "addrs") {
		t.Fatalf("Open with an invalid config: %v", err)
	}
}

func TestOpenRefusesTheWrongMode(t *testing.T) {
	_, err := redisstore.Open(context.Background(), config([]string{redistest.SharedSingle(t)}, true), nil)
	if err == nil || !strings.Contains(err.Error(), "cluster: false") {
		t.Fatalf("cluster: true against a single server: %v", err)
	}
	_, err = redisstore.Open(context.Background(), config(redistest.SharedCluster(t)[:1], false), nil)
	if err == nil || !strings.Contains(err.Error(), "cluster: true") {
		t.Fatalf("cluster: false against a cluster node: %v", err)
	}
}

// Capabilities say whether Redis keeps an append-only file; Health pings Redis and reports its loss.
func TestCapabilitiesAndHealth(t *testing.T) {
	var s *redisstore.Store
	t.Run("running", func(t2 *testing.T) {
		addr := redistest.StartSingle(t2) // stopped when this subtest ends
		s = open(t, config([]string{addr}, false))
		if c := s.Capabilities(); c.Name != "redis" || c.Durable {
			t2.Fatalf("capabilities without AOF = %+v", c)
		}
		must(t2, s.Health(context.Background()))
		admin := redis.NewClient(&redis.Options{Addr: addr})
		defer admin.Close()
		must(t2, admin.ConfigSet(context.Background(), "appendonly", "yes").Err())
		if c := open(t2, config([]string{addr}, false)).Capabilities(); c.Name != "redis" || !c.Durable {
			t2.Fatalf("capabilities with AOF = %+v", c)
		}
		// Redis refuses a SIGTERM while it writes its first AOF: let it finish so the server stops cleanly.
		for strings.Contains(admin.Info(context.Background(), "persistence").Val(), "aof_rewrite_in_progress:1") {
			time.Sleep(10 * time.Millisecond)
		}
	})
	err := s.Health(context.Background())
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Health after Redis stopped = %v, want store.ErrUnavailable", err)
	}
	_, err = s.PostMessages(context.Background(), "p", "q", []store.NewMessage{{Body: []byte(`1`), TTL: time.Hour}}, time.Now())
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("PostMessages after Redis stopped = %v, want store.ErrUnavailable", err)
	}
	c := open(t, config(redistest.SharedCluster(t), true)).Capabilities()
	if c.Name != "redis-cluster" || c.Durable {
		t.Fatalf("cluster capabilities = %+v", c)
	}
}

// Creators, posters and deleters racing on the same queue names leave the catalogue in agreement with the
// queues (the catalogue and the queues live in different slots).
func TestCatalogueUnderConcurrentCreateDelete(t *testing.T) {
	for _, cluster := range []bool{false, true} {
		t.Run(fmt.Sprintf("cluster=%v", cluster), func(t *testing.T) {
			var s *redisstore.Store
			if cluster {
				s = open(t, config(redistest.SharedCluster(t), true))
			} else {
				s = open(t, config([]string{redistest.SharedSingle(t)}, false))
			}
			ctx, now := context.Background(), time.Now()
			names := []string{"a", "b", "c"}
			var wg sync.WaitGroup
			for w := range 6 {
				wg.Go(func() {
					for i := range 40 {
						name := names[(w+i)%len(names)]
						var err error
						switch (w + i) % 3 {
						case 0:
							_, err = s.CreateQueue(ctx, "p", name, nil, now)
						case 1:
							_, err = s.PostMessages(ctx, "p", name, []store.NewMessage{{Body: []byte(`1`), TTL: time.Hour}}, now)
						default:
							err = s.DeleteQueue(ctx, "p", name)
						}
						if err != nil {
							t.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			listed, err := s.ListQueues(ctx, "p", "", 10)
			must(t, err)
			inList := map[string]bool{}
			for _, q := range listed {
				inList[q.Name] = true
			}
			exists := 0
			for _, name := range names {
				_, err := s.GetQueue(ctx, "p", name)
				if err != nil && !errors.Is(err, store.ErrNotFound) {
					t.Fatal(err)
				}
				if (err == nil) != inList[name] {
					t.Fatalf("queue %s: exists %v, listed %v", name, err == nil, inList[name])
				}
				if err == nil {
					exists++
				}
			}
			n, err := s.CountQueues(ctx, "p")
			must(t, err)
			if n != exists {
				t.Fatalf("CountQueues = %d, %d queues exist", n, exists)
			}
		})
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestAOFRestart: with appendonly yes and appendfsync always every acknowledged post, claim and queue survives
// a crash of the Redis process. (With everysec, Redis's default, it usually does too, but while a background
// fsync is slow Redis holds back its AOF writes for up to two seconds and still replies: on a busy disk a
// SIGKILL then takes the last writes, as the README says.) Without persistence a restart loses everything,
// which Capabilities says.
func TestAOFRestart(t *testing.T) {
	srv := redistest.StartServer(t, "--appendonly", "yes", "--appendfsync", "always")
	cfg := config([]string{srv.Addr()}, false)
	s := open(t, cfg)
	if !s.Capabilities().Durable {
		t.Fatal("a store on an AOF Redis does not report itself durable")
	}
	ctx, now := context.Background(), time.Now().Truncate(time.Second)
	_, err := s.CreateQueue(ctx, "p", "q", []byte(`{"k":1}`), now)
	must(t, err)
	var posted []string
	for i := range 50 {
		ids, err := s.PostMessages(ctx, "p", "q", []store.NewMessage{{Body: []byte(fmt.Sprint(i)), TTL: time.Hour}}, now)
		must(t, err)
		posted = append(posted, ids...)
	}
	cl, err := s.CreateClaim(ctx, "p", "q", store.ClaimSpec{TTL: time.Minute, Grace: time.Minute, Limit: 5}, now)
	must(t, err)

	srv.Kill()
	srv.Restart()
	s2 := open(t, cfg)
	page, err := s2.ListMessages(ctx, "p", "q", store.MessageQuery{Limit: 100, Echo: true, IncludeClaimed: true}, now)
	must(t, err)
	if len(page.Messages) != len(posted) || page.Messages[0].ID != posted[0] || page.Messages[49].ID != posted[49] {
		t.Fatalf("after a crash of Redis: %d messages, want the %d acknowledged", len(page.Messages), len(posted))
	}
	_, held, err := s2.GetClaim(ctx, "p", "q", cl.Claim.ID, now)
	must(t, err)
	if len(held) != 5 {
		t.Fatalf("the claim holds %d messages after the crash, want 5", len(held))
	}
	qs, err := s2.ListQueues(ctx, "p", "", 10)
	must(t, err)
	if len(qs) != 1 || string(qs[0].Metadata) != `{"k":1}` {
		t.Fatalf("queues after the crash: %+v", qs)
	}
	// The next post continues the order.
	ids, err := s2.PostMessages(ctx, "p", "q", []store.NewMessage{{Body: []byte(`"next"`), TTL: time.Hour}}, now)
	must(t, err)
	last, err := s2.ListMessages(ctx, "p", "q", store.MessageQuery{Limit: 1, Echo: true, Marker: page.Marker}, now)
	must(t, err)
	if len(last.Messages) != 1 || last.Messages[0].ID != ids[0] {
		t.Fatalf("the post after the crash is not after the old marker: %v", last.Messages)
	}
}

// An empty post creates the queue and returns no ids, as the engine does.
func TestEmptyPost(t *testing.T) {
	s := open(t, config([]string{redistest.SharedSingle(t)}, false))
	ids, err := s.PostMessages(context.Background(), "p", "q", nil, time.Now())
	must(t, err)
	if ids == nil || len(ids) != 0 {
		t.Fatalf("ids = %#v, want an empty slice", ids)
	}
	if _, err := s.GetQueue(context.Background(), "p", "q"); err != nil {
		t.Fatalf("the queue was not created: %v", err)
	}
	if n, _ := s.CountQueues(context.Background(), "p"); n != 1 {
		t.Fatalf("CountQueues = %d", n)
	}
}

func TestOpenWithPassword(t *testing.T) {
	srv := redistest.StartServer(t, "--requirepass", "s3cret")
	cfg := config([]string{srv.Addr()}, false)
	_, err := redisstore.Open(context.Background(), cfg, nil)
	if err == nil || !errors.Is(err, store.ErrUnavailable) || !strings.Contains(err.Error(), "refused the connection") ||
		!strings.Contains(err.Error(), "NOAUTH") {
		t.Fatalf("Open without the password: %v", err)
	}
	cfg.Password = "wrong"
	if _, err := redisstore.Open(context.Background(), cfg, nil); err == nil || !strings.Contains(err.Error(), "WRONGPASS") {
		t.Fatalf("Open with a wrong password: %v", err)
	}
	cfg.Password = "s3cret"
	s := open(t, cfg)
	if _, err := s.PostMessages(context.Background(), "p", "q", []store.NewMessage{{Body: []byte(`1`), TTL: time.Hour}}, time.Now()); err != nil {
		t.Fatal(err)
	}
}
