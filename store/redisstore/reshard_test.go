package redisstore_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/zedge-io/zedge/store"
	"github.com/zedge-io/zedge/store/redisstore/redistest"
)

// TestSlotMigration moves a queue's slot to another master (CLUSTER SETSLOT IMPORTING/MIGRATING, MIGRATE, SETSLOT
// NODE) while a poster keeps posting to it through the store: every acknowledged post is there afterwards,
// once, in order, and a post that failed failed with store.ErrUnavailable (a script refused with TRYAGAIN
// for longer than the store's retries). It uses a private cluster, since it changes the slot layout.
func TestSlotMigration(t *testing.T) {
	addrs := redistest.StartCluster(t, 3)
	s := open(t, config(addrs, true))
	ctx := context.Background()
	admin := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	defer admin.Close()

	now := time.Now()
	var acked []string
	post := func(i int) error {
		ids, err := s.PostMessages(ctx, "p", "q", []store.NewMessage{{Body: []byte(strconv.Itoa(i)), TTL: time.Hour}}, now)
		if err == nil {
			acked = append(acked, ids...)
		}
		return err
	}
	for i := range 50 {
		must(t, post(i))
	}

	// The queue's slot, its owner and another master.
	var key string
	must(t, admin.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
		keys, err := c.Keys(ctx, "*{p/q}:msgs").Result()
		if len(keys) == 1 {
			key = keys[0]
		}
		return err
	}))
	if key == "" {
		t.Fatal("the queue's keys were not found")
	}
	slot := admin.ClusterKeySlot(ctx, key).Val()
	var src, dst *redis.Client
	var srcID, dstID string
	nodes := map[string]*redis.Client{}
	for _, a := range addrs {
		c := redis.NewClient(&redis.Options{Addr: a})
		defer c.Close()
		id := c.ClusterMyID(ctx).Val()
		nodes[id] = c
		if n, _ := c.ClusterCountKeysInSlot(ctx, int(slot)).Result(); n > 0 {
			src, srcID = c, id
		}
	}
	for id, c := range nodes {
		if id != srcID {
			dst, dstID = c, id
			break
		}
	}
	if src == nil || dst == nil {
		t.Fatal("could not find the slot's owner")
	}

	var wg sync.WaitGroup
	stop := make(chan struct{})
	var failed int
	var postErr error
	wg.Go(func() {
		for i := 50; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := post(i); err != nil {
				failed++
				if !errors.Is(err, store.ErrUnavailable) {
					postErr = err
					return
				}
			}
		}
	})

	time.Sleep(50 * time.Millisecond)
	must(t, dst.Do(ctx, "CLUSTER", "SETSLOT", slot, "IMPORTING", srcID).Err())
	must(t, src.Do(ctx, "CLUSTER", "SETSLOT", slot, "MIGRATING", dstID).Err())
	time.Sleep(100 * time.Millisecond) // posts meanwhile meet TRYAGAIN or ASK
	host, port, _ := strings.Cut(dst.Options().Addr, ":")
	for {
		keys := src.ClusterGetKeysInSlot(ctx, int(slot), 100).Val()
		if len(keys) == 0 {
			break
		}
		args := []any{"MIGRATE", host, port, "", 0, 5000, "KEYS"}
		for _, k := range keys {
			args = append(args, k)
		}
		must(t, src.Do(ctx, args...).Err())
	}
	for _, c := range nodes {
		must(t, c.Do(ctx, "CLUSTER", "SETSLOT", slot, "NODE", dstID).Err())
	}
	time.Sleep(100 * time.Millisecond)
	close(stop)
	wg.Wait()
	if postErr != nil {
		t.Fatalf("a post failed with an unexpected error: %v", postErr)
	}
	if n := dst.ClusterCountKeysInSlot(ctx, int(slot)).Val(); n == 0 {
		t.Fatal("the slot's keys did not move")
	}

	page, err := s.ListMessages(ctx, "p", "q", store.MessageQuery{Limit: 10000, Echo: true}, now)
	must(t, err)
	got := make([]string, len(page.Messages))
	for i, m := range page.Messages {
		got[i] = m.ID
	}
	if strings.Join(got, ",") != strings.Join(acked, ",") {
		t.Fatalf("after the migration %d messages are listed, %d posts were acknowledged (in order, once each)", len(got), len(acked))
	}
	t.Logf("%d posts acknowledged across the migration, %d refused with store.ErrUnavailable", len(acked), failed)
}
