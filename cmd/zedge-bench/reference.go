package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/valyala/fasthttp"
)

// cannedBody is what the reference server answers to everything: the shape of a one-message POST reply.
var cannedBody = []byte(`{"resources":["/v2/queues/bench/messages/0123456789abcdef01234567"]}`)

// runReferenceServer serves a fixed 201 on 127.0.0.1:0 until SIGTERM: the ceiling for what any handler could
// reach with this load generator, this HTTP stack and this machine. It writes the same ready file as zedge.
func runReferenceServer() error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &fasthttp.Server{
		Name: "canned-201",
		Handler: func(ctx *fasthttp.RequestCtx) {
			ctx.SetStatusCode(fasthttp.StatusCreated)
			ctx.SetContentType("application/json")
			ctx.Response.Header.Set("Location", "/v2/queues/bench/messages?ids=0123456789abcdef01234567")
			ctx.SetBody(cannedBody)
		},
	}
	if path := os.Getenv("ZEDGE_READY_FILE"); path != "" {
		raw, _ := json.Marshal(map[string]any{"http": ln.Addr().String(), "pid": os.Getpid()})
		tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
		if err := os.WriteFile(tmp, raw, 0o644); err != nil {
			return err
		}
		if err := os.Rename(tmp, path); err != nil {
			return err
		}
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		return srv.Shutdown()
	case err := <-errc:
		return fmt.Errorf("reference server: %w", err)
	}
}
