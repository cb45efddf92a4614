package httpapi

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/zedge-io/zedge/broker"
	"github.com/zedge-io/zedge/signing"
	"github.com/zedge-io/zedge/signing/revoke"
	"github.com/zedge-io/zedge/store/memstore"
)

func benchServer(b *testing.B) fasthttp.RequestHandler {
	b.Helper()
	return benchServerConfig(b, DefaultConfig())
}

func benchServerConfig(b *testing.B, cfg Config) fasthttp.RequestHandler {
	b.Helper()
	st := memstore.New()
	b.Cleanup(func() { _ = st.Close() })
	svc, err := broker.New(st, broker.DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	srv, err := New(svc, cfg, nil)
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

// BenchmarkCORS is the whole handler for a request from a browser page (Origin set): with CORS off (the
// baseline, nothing but the router), with CORS on for a one-message post and a HEAD /v2/ping (no store work,
// so ping-on minus ping-off is the CORS layer alone), and a granted preflight, answered before routing.
func BenchmarkCORS(b *testing.B) {
	post := []byte(`{"messages": [{"body": {"sensor": "t-101", "celsius": 21.5, "at": 1795400000}, "ttl": 300}]}`)
	on := DefaultConfig()
	on.CORS.AllowedOrigins = []string{"https://dashboard.example.com", "https://app.example.com"}
	preflight := map[string]string{hdrRequestMethod: "POST",
		hdrRequestHeaders: "authorization,client-id,content-type,x-project-id"}
	for _, c := range []struct {
		name, method, uri string
		cfg               Config
		headers           map[string]string
		status            int
	}{
		{"ping-off", "HEAD", "/v2/ping", DefaultConfig(), nil, 204},
		{"ping-on", "HEAD", "/v2/ping", on, nil, 204},
		{"post-1-off", "POST", "/v2/queues/bench/messages", DefaultConfig(), nil, 201},
		{"post-1-on", "POST", "/v2/queues/bench/messages", on, nil, 201},
		{"preflight", "OPTIONS", "/v2/queues/bench/messages", on, preflight, 200},
	} {
		b.Run(c.name, func(b *testing.B) {
			h := benchServerConfig(b, c.cfg)
			var body []byte
			if c.method == "POST" {
				body = post
				b.SetBytes(int64(len(post)))
			}
			ctx := benchRequest(c.method, c.uri, clientA, body)
			ctx.Request.Header.Set("Origin", "https://app.example.com")
			for k, v := range c.headers {
				ctx.Request.Header.Set(k, v)
			}
			b.ReportAllocs()
			for b.Loop() {
				serveBench(b, h, ctx, c.status)
			}
		})
	}
}

// BenchmarkAuth is the whole handler for one-message posts: unsigned (noauth, the baseline), with a signed
// URL in the header form and in the query form, and with an HS256 bearer token in jwt mode. The signed cases
// minus the unsigned one is what verifying a signed POST costs (the target is at most 2 µs).
func BenchmarkAuth(b *testing.B) {
	post := []byte(`{"messages": [{"body": {"sensor": "t-101", "celsius": 21.5, "at": 1795400000}, "ttl": 300}]}`)
	sc := signing.DefaultConfig()
	sc.URLKeys = []signing.SecretKeyConfig{{ID: "k1", Secret: urlSecret}}
	sc.Token.Secrets = []signing.SecretKeyConfig{{ID: "hs1", Secret: jwtSecret}}
	sc.Token.SigningKey = "hs1"
	ring, _ := sc.KeyRing()
	signer, _ := sc.TokenSigner()
	su, err := ring.Sign(signing.URLGrant{Paths: []string{"/v2/queues/bench/messages"}, Methods: []string{"POST"},
		Project: project, Expires: time.Now().Add(24 * time.Hour)})
	if err != nil {
		b.Fatal(err)
	}
	// A grant for /v2/ping (zedge's share never issues one, but the signer signs any path): HEAD /v2/ping touches
	// no store, so ping-signed minus ping-unsigned is the check alone, without the store's noise.
	pingURL, err := ring.Sign(signing.URLGrant{Paths: []string{"/v2/ping"}, Methods: []string{"HEAD"},
		Project: project, Expires: time.Now().Add(24 * time.Hour)})
	if err != nil {
		b.Fatal(err)
	}
	claims, _ := signing.NewClaims("bench", project, []string{signing.RoleMember}, time.Now(), time.Hour)
	tok, err := signing.IssueToken(signer, claims)
	if err != nil {
		b.Fatal(err)
	}
	server := func(b *testing.B, mode string) fasthttp.RequestHandler {
		st := memstore.New()
		b.Cleanup(func() { _ = st.Close() })
		svc, err := broker.New(st, broker.DefaultConfig())
		if err != nil {
			b.Fatal(err)
		}
		list, err := revoke.Open(revoke.Config{File: filepath.Join(b.TempDir(), "revocations.json"), PollInterval: time.Second}, nil)
		if err != nil {
			b.Fatal(err)
		}
		// One revoked URL and one revoked token, so the lookups do real work.
		if _, err := list.Revoke(revoke.Entry{Kind: revoke.Signature, ID: signing.Fingerprint("x")}, time.Now()); err != nil {
			b.Fatal(err)
		}
		if _, err := list.Revoke(revoke.Entry{Kind: revoke.TokenID, ID: "y"}, time.Now()); err != nil {
			b.Fatal(err)
		}
		g, err := NewGuard(AuthConfig{Mode: mode}, sc, list, nil)
		if err != nil {
			b.Fatal(err)
		}
		srv, err := New(svc, DefaultConfig(), nil, WithGuard(g))
		if err != nil {
			b.Fatal(err)
		}
		return srv.Handler()
	}
	cases := []struct {
		name, mode, method, uri string
		headers                 map[string]string
		status                  int
	}{
		{"ping-unsigned", AuthNone, "HEAD", "/v2/ping", nil, 204},
		{"ping-signed-headers", AuthNone, "HEAD", "/v2/ping", map[string]string{
			"URL-Signature": pingURL.Signature, "URL-Expires": signing.FormatExpires(pingURL.Expires),
			"URL-Methods": "HEAD", "URL-Paths": "/v2/ping"}, 204},
		{"ping-signed-query", AuthNone, "HEAD", "/v2/ping?" + pingURL.Query().Encode(), nil, 204},
		{"unsigned", AuthNone, "POST", "/v2/queues/bench/messages", nil, 201},
		{"signed-headers", AuthNone, "POST", "/v2/queues/bench/messages", map[string]string{
			"URL-Signature": su.Signature, "URL-Expires": signing.FormatExpires(su.Expires),
			"URL-Methods": "POST", "URL-Paths": "/v2/queues/bench/messages"}, 201},
		{"signed-query", AuthNone, "POST", "/v2/queues/bench/messages?" + su.Query().Encode(), nil, 201},
		{"signed-headers-jwt-mode", AuthJWT, "POST", "/v2/queues/bench/messages", map[string]string{
			"URL-Signature": su.Signature, "URL-Expires": signing.FormatExpires(su.Expires),
			"URL-Methods": "POST", "URL-Paths": "/v2/queues/bench/messages"}, 201},
		{"token-hs256", AuthJWT, "POST", "/v2/queues/bench/messages", map[string]string{"X-Auth-Token": tok}, 201},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			h := server(b, c.mode)
			var body []byte
			if c.method == "POST" {
				body = post
				b.SetBytes(int64(len(post)))
			}
			ctx := benchRequest(c.method, c.uri, clientA, body)
			for k, v := range c.headers {
				ctx.Request.Header.Set(k, v)
			}
			b.ReportAllocs()
			for b.Loop() {
				serveBench(b, h, ctx, c.status)
			}
		})
	}
}
