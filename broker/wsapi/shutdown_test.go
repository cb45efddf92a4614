package wsapi

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/zedge-io/zedge/broker"
	"github.com/zedge-io/zedge/store/memstore"
)

// A shutdown that comes before Serve has started (a signal during startup) or races it must still end Serve:
// fasthttp's own Shutdown returns at once when the listener is not registered yet, and that Serve then never
// returned (it hung a test cleanup). Each round alternates the order; the bound only detects a hang.
func TestShutdownRacingServe(t *testing.T) {
	st := memstore.New()
	t.Cleanup(func() { _ = st.Close() })
	svc, err := broker.New(st, broker.DefaultConfig(), broker.WithTransportSubscriberScheme(SubscriberScheme))
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	for round := range 40 {
		srv, err := New(svc, cfg, testLogger())
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		served := make(chan error, 1)
		if round%2 == 0 {
			_ = srv.Shutdown(context.Background())
			go func() { served <- srv.Serve(ln) }()
		} else {
			go func() { served <- srv.Serve(ln) }()
			_ = srv.Shutdown(context.Background())
		}
		select {
		case <-served:
		case <-time.After(30 * time.Second):
			t.Fatalf("round %d: Serve did not return after Shutdown", round)
		}
	}
}
