package storetest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/zedge-io/zedge/store"
	"github.com/zedge-io/zedge/store/memstore"
	"github.com/zedge-io/zedge/store/storetest"
)

func TestFaulty(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	f := storetest.NewFaulty(memstore.New())
	t.Cleanup(func() { _ = f.Close() })
	msgs := []store.NewMessage{{Body: []byte(`1`), TTL: time.Hour}}

	if _, err := f.PostMessages(ctx, "p", "q", msgs, now); err != nil {
		t.Fatal(err)
	}
	f.FailOn("PostMessages", "Health")
	if _, err := f.PostMessages(ctx, "p", "q", msgs, now); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("PostMessages = %v, want ErrUnavailable", err)
	}
	if err := f.Health(ctx); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("Health = %v, want ErrUnavailable", err)
	}
	// Other methods still reach the store, which holds only the first message.
	page, err := f.ListMessages(ctx, "p", "q", store.MessageQuery{Limit: 10, Echo: true}, now)
	if err != nil || len(page.Messages) != 1 {
		t.Fatalf("ListMessages = %d messages, %v; want 1, nil", len(page.Messages), err)
	}
	boom := errors.New("boom")
	f.FailWith(boom, "ListMessages")
	if _, err := f.ListMessages(ctx, "p", "q", store.MessageQuery{Limit: 10}, now); !errors.Is(err, boom) {
		t.Fatalf("ListMessages = %v, want boom", err)
	}
	if n := f.Calls("PostMessages"); n != 2 {
		t.Fatalf("PostMessages calls = %d, want 2", n)
	}
	f.Heal("PostMessages")
	if _, err := f.PostMessages(ctx, "p", "q", msgs, now); err != nil {
		t.Fatal(err)
	}
	if err := f.Health(ctx); err == nil {
		t.Fatal("Health healed with PostMessages")
	}
	f.Heal()
	if err := f.Health(ctx); err != nil {
		t.Fatal(err)
	}
	f.FailAll()
	if _, err := f.CreateClaim(ctx, "p", "q", store.ClaimSpec{TTL: time.Minute, Grace: time.Minute, Limit: 1}, now); !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("CreateClaim after FailAll = %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("FailOn accepted an unknown method")
		}
	}()
	f.FailOn("PostMessage")
}
