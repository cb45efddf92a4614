package redisstore

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"github.com/zedge-io/zedge/store"
	"github.com/zedge-io/zedge/store/redisstore/redistest"
)

var internalPrefixes atomic.Int64

func openShared(t *testing.T, cluster bool) *Store {
	t.Helper()
	cfg := DefaultConfig()
	if cluster {
		cfg.Addrs, cfg.Cluster = redistest.SharedCluster(t), true
	} else {
		cfg.Addrs = []string{redistest.SharedSingle(t)}
	}
	cfg.KeyPrefix = fmt.Sprintf("internal-%d", internalPrefixes.Add(1))
	s, err := Open(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil && !errors.Is(err, store.ErrClosed) {
			t.Error(err)
		}
	})
	return s
}

var bg = context.Background()

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func newMsg(body string, ttl time.Duration) store.NewMessage {
	return store.NewMessage{Body: []byte(body), TTL: ttl}
}

// A process that leased a message for dead-lettering and died before copying it loses nothing: the message
// stays hidden until the lease ends, then the next dead-lettering claim moves it, once.
func TestDeadLetterLeaseRecovers(t *testing.T) {
	s := openShared(t, true)
	now := time.Now().Truncate(time.Second)
	ids, err := s.PostMessages(bg, "p", "src", []store.NewMessage{newMsg(`"x"`, time.Hour)}, now)
	must(t, err)
	sp := store.ClaimSpec{TTL: time.Minute, Grace: time.Minute, Limit: 5, MaxClaimCount: 1, DeadLetterQueue: "dlq"}
	first, err := s.CreateClaim(bg, "p", "src", sp, now)
	must(t, err)
	must(t, s.ReleaseClaim(bg, "p", "src", first.Claim.ID, now))

	// The first step of a dead-lettering claim, and nothing after it.
	keys := s.queueKeys("p", "src")
	_, err = s.run(bg, scriptClaim, keys, micros(now), uuid.NewString(), durMicros(time.Minute), durMicros(time.Minute),
		5, 1, uuid.NewString(), micros(now.Add(deadLetterLease)))
	must(t, err)

	res, err := s.CreateClaim(bg, "p", "src", sp, now.Add(deadLetterLease-time.Second))
	must(t, err)
	if len(res.Messages) != 0 || res.DeadLettered != 0 {
		t.Fatalf("during the lease: claimed %d, dead-lettered %d; want the message hidden", len(res.Messages), res.DeadLettered)
	}
	if _, err := s.GetQueue(bg, "p", "dlq"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("dead-letter queue exists before the copy: %v", err)
	}
	got, err := s.GetMessages(bg, "p", "src", ids, now)
	must(t, err)
	if len(got) != 1 {
		t.Fatal("the leased message is gone from its queue")
	}

	later := now.Add(deadLetterLease)
	res, err = s.CreateClaim(bg, "p", "src", sp, later)
	must(t, err)
	if res.DeadLettered != 1 || len(res.Messages) != 0 {
		t.Fatalf("after the lease: claimed %d, dead-lettered %d; want 0 and 1", len(res.Messages), res.DeadLettered)
	}
	page, err := s.ListMessages(bg, "p", "dlq", store.MessageQuery{Limit: 10, Echo: true}, later)
	must(t, err)
	if len(page.Messages) != 1 || string(page.Messages[0].Body) != `"x"` || page.Messages[0].ClaimCount != 1 {
		t.Fatalf("dead-letter queue holds %+v", page.Messages)
	}
	st, err := s.Stats(bg, "p", "src", later)
	must(t, err)
	if st.Total != 0 {
		t.Fatalf("source still holds %d messages", st.Total)
	}
}

// A creator that died between creating a queue and recording it in the catalogue is repaired by the next post;
// a catalogue name whose queue is gone is counted until a listing passes by and removes it.
func TestCatalogueRepair(t *testing.T) {
	s := openShared(t, true)
	now := time.Now()
	_, err := s.run(bg, scriptCreate, s.queueKeys("p", "orphan")[:1], micros(now), "{}", newEpoch())
	must(t, err)
	if _, err := s.GetQueue(bg, "p", "orphan"); err != nil {
		t.Fatal(err)
	}
	qs, err := s.ListQueues(bg, "p", "", 10)
	must(t, err)
	if len(qs) != 0 {
		t.Fatalf("an unrecorded queue is listed: %v", qs)
	}
	_, err = s.PostMessages(bg, "p", "orphan", []store.NewMessage{newMsg(`1`, time.Hour)}, now)
	must(t, err)
	qs, err = s.ListQueues(bg, "p", "", 10)
	must(t, err)
	if len(qs) != 1 || qs[0].Name != "orphan" {
		t.Fatalf("after a post the queue is not listed: %v", qs)
	}
	if c, _ := s.rdb.HGet(bg, s.queueKeys("p", "orphan")[kMeta], "c").Result(); c != "1" {
		t.Fatalf("catalogued flag = %q", c)
	}

	must(t, s.rdb.ZAdd(bg, s.catalogueKey("p"), redis.Z{Member: "ghost"}).Err())
	n, err := s.CountQueues(bg, "p")
	must(t, err)
	if n != 2 {
		t.Fatalf("count with a dangling name = %d, want 2 (the documented lag)", n)
	}
	qs, err = s.ListQueues(bg, "p", "", 10)
	must(t, err)
	if len(qs) != 1 || qs[0].Name != "orphan" {
		t.Fatalf("listing shows %v", qs)
	}
	n, err = s.CountQueues(bg, "p")
	must(t, err)
	if n != 1 {
		t.Fatalf("count after the listing = %d, want 1", n)
	}
}

// Every key of a queue (messages, claims, subscriptions) is in one slot; the catalogue is in the project's.
func TestQueueKeysShareSlot(t *testing.T) {
	s := openShared(t, true)
	slotOf := func(key string) int64 {
		n, err := s.rdb.ClusterKeySlot(bg, key).Result()
		must(t, err)
		return n
	}
	slots := map[int64]bool{}
	for i := range 20 {
		q := fmt.Sprintf("queue-%d", i)
		keys := append(s.queueKeys("p/x{y}", q), s.subKeys("p/x{y}", q)...)
		want := slotOf(keys[0])
		for _, k := range keys {
			if got := slotOf(k); got != want {
				t.Fatalf("key %q in slot %d, %q in slot %d", keys[0], want, k, got)
			}
		}
		slots[want] = true
	}
	if len(slots) < 2 {
		t.Fatalf("20 queues share %d slot(s): the tag does not spread queues", len(slots))
	}
}

// Expired messages leave Redis as the queue is used (no background job), and reads are exact even when more
// expired than one call trims.
func TestExpiredMessagesAreTrimmed(t *testing.T) {
	s := openShared(t, false)
	now := time.Now().Truncate(time.Second)
	const n = 2500
	batch := make([]store.NewMessage, 100)
	for i := range batch {
		batch[i] = newMsg(`1`, time.Minute)
	}
	for range n / len(batch) {
		_, err := s.PostMessages(bg, "p", "q", batch, now)
		must(t, err)
	}
	later := now.Add(time.Minute)
	kept, err := s.PostMessages(bg, "p", "q", []store.NewMessage{newMsg(`2`, time.Hour)}, later)
	must(t, err)
	keys := s.queueKeys("p", "q")
	if left := s.rdb.HLen(bg, keys[kMsgs]).Val(); left != n-1000+1 {
		t.Fatalf("after one post %d records are left, want %d (one trim of 1000)", left, n-1000+1)
	}
	st, err := s.Stats(bg, "p", "q", later)
	must(t, err)
	if st.Total != 1 || st.Oldest == nil || st.Oldest.ID != kept[0] {
		t.Fatalf("stats with expired messages left to trim: %+v", st)
	}
	page, err := s.ListMessages(bg, "p", "q", store.MessageQuery{Limit: 10, Echo: true}, later)
	must(t, err)
	if len(page.Messages) != 1 || page.Messages[0].ID != kept[0] {
		t.Fatalf("listing with expired messages left to trim: %d messages", len(page.Messages))
	}
	for range 3 {
		_, err := s.GetMessages(bg, "p", "q", kept, later)
		must(t, err)
	}
	for i, k := range keys[kMsgs:kHeld] {
		var size int64
		if i == 0 {
			size = s.rdb.HLen(bg, k).Val()
		} else {
			size = s.rdb.ZCard(bg, k).Val()
		}
		if size != 1 {
			t.Fatalf("%s holds %d entries after trimming, want 1", k, size)
		}
	}

	// Ended claims leave too.
	res, err := s.CreateClaim(bg, "p", "q", store.ClaimSpec{TTL: time.Minute, Grace: time.Minute, Limit: 1}, later)
	must(t, err)
	if len(res.Messages) != 1 {
		t.Fatal("nothing claimed")
	}
	_, err = s.CreateClaim(bg, "p", "q", store.ClaimSpec{TTL: time.Minute, Limit: 1}, later.Add(time.Minute))
	must(t, err)
	if c := s.rdb.HLen(bg, keys[kClaims]).Val(); c != 1 {
		t.Fatalf("%d claim records after the first claim ended, want 1 (the second)", c)
	}
}

// Scripts are loaded lazily: after SCRIPT FLUSH (or on a new node after a failover) the next call loads them.
func TestScriptsReloadAfterFlush(t *testing.T) {
	s := openShared(t, true)
	now := time.Now()
	post := func() {
		t.Helper()
		if _, err := s.PostMessages(bg, "p", "q", []store.NewMessage{newMsg(`1`, time.Hour)}, now); err != nil {
			t.Fatal(err)
		}
	}
	post()
	must(t, s.rdb.(*redis.ClusterClient).ForEachMaster(bg, func(ctx context.Context, c *redis.Client) error {
		return c.ScriptFlush(ctx).Err()
	}))
	post()
	st, err := s.Stats(bg, "p", "q", now)
	must(t, err)
	if st.Total != 2 {
		t.Fatalf("total %d after two posts around a SCRIPT FLUSH", st.Total)
	}
	if _, ok := any(onceCmd{}).(interface{ NoRetry() bool }); !ok || !(onceCmd{}).NoRetry() {
		t.Fatal("script calls may be retried by the client")
	}
}
