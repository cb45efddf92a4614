package httpapi

import (
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/zedge-io/zedge/broker"
	"github.com/zedge-io/zedge/store/memstore"
)

func benchServer(b *testing.B) fasthttp.RequestHandler {
	b.Helper()
	st := memstore.New()
	b.Cleanup(func() { _ = st.Close() })
	svc, err := broker.New(st, broker.DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	srv, err := New(svc, DefaultConfig(), nil)
	if err != nil {
		b.Fatal(err)
	}
	return srv.Handler()
}

func benchRequest(method, uri, client string, body []byte) *fasthttp.RequestCtx {
	var req fasthttp.Request
	req.Header.SetMethod(method)
	req.SetRequestURI(uri)
	req.Header.Set("Client-ID", client)
	req.Header.Set("X-Project-ID", project)
	req.Header.Set("Accept", "*/*")
	req.Header.SetContentType("application/json")
	if body != nil {
		req.SetBody(body)
	}
	ctx := new(fasthttp.RequestCtx)
	ctx.Init(&req, nil, nil)
	return ctx
}

func serveBench(b *testing.B, h fasthttp.RequestHandler, ctx *fasthttp.RequestCtx, status int) {
	ctx.Response.Reset()
	ctx.ResetUserValues()
	h(ctx)
	if ctx.Response.StatusCode() != status {
		b.Fatalf("status %d: %s", ctx.Response.StatusCode(), ctx.Response.Body())
	}
}

// BenchmarkHandler runs the whole handler (router, hooks, Service, memstore, response writing) on a
// RequestCtx, without the network.
func BenchmarkHandler(b *testing.B) {
	post := []byte(`{"messages": [{"body": {"sensor": "t-101", "celsius": 21.5, "at": 1795400000}, "ttl": 300}]}`)

	b.Run("post-1", func(b *testing.B) {
		h := benchServer(b)
		ctx := benchRequest("POST", "/v2/queues/bench/messages", clientA, post)
		b.ReportAllocs()
		b.SetBytes(int64(len(post)))
		for b.Loop() {
			serveBench(b, h, ctx, 201)
		}
	})

	b.Run("post-1-parallel", func(b *testing.B) {
		h := benchServer(b)
		b.ReportAllocs()
		b.SetBytes(int64(len(post)))
		b.RunParallel(func(pb *testing.PB) {
			ctx := benchRequest("POST", "/v2/queues/bench/messages", clientA, post)
			for pb.Next() {
				serveBench(b, h, ctx, 201)
			}
		})
	})

	b.Run("list-10", func(b *testing.B) {
		h := benchServer(b)
		ten := []byte(`{"messages": [` + "{\"body\": {\"n\": 1}}" + ", {\"body\": {\"n\": 2}}, {\"body\": {\"n\": 3}}, {\"body\": {\"n\": 4}}, {\"body\": {\"n\": 5}}" +
			", {\"body\": {\"n\": 6}}, {\"body\": {\"n\": 7}}, {\"body\": {\"n\": 8}}, {\"body\": {\"n\": 9}}, {\"body\": {\"n\": 10}}]}")
		serveBench(b, h, benchRequest("POST", "/v2/queues/bench/messages", clientA, ten), 201)
		ctx := benchRequest("GET", "/v2/queues/bench/messages?limit=10", clientB, nil)
		serveBench(b, h, ctx, 200)
		b.ReportAllocs()
		b.SetBytes(int64(len(ctx.Response.Body())))
		for b.Loop() {
			serveBench(b, h, ctx, 200)
		}
	})
}
