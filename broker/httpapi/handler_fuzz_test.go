package httpapi

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/zedge-io/zedge/broker"
	"github.com/zedge-io/zedge/store/memstore"
)

func newHandler(t testing.TB) fasthttp.RequestHandler {
	t.Helper()
	st := memstore.New()
	t.Cleanup(func() { _ = st.Close() })
	svc, err := broker.New(st, broker.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(svc, DefaultConfig(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return srv.Handler()
}

func callHandler(h fasthttp.RequestHandler, method, uri string, headers map[string]string, body []byte) *fasthttp.RequestCtx {
	var req fasthttp.Request
	req.Header.SetMethod(method)
	req.SetRequestURI(uri)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	if body != nil {
		req.SetBody(body)
	}
	ctx := new(fasthttp.RequestCtx)
	ctx.Init(&req, nil, nil)
	h(ctx)
	return ctx
}

// FuzzHandler throws arbitrary requests at the whole handler: it must never fail with a 500 (a panic or an
// unmapped error), and every JSON response must be valid JSON.
func FuzzHandler(f *testing.F) {
	h := newHandler(f)
	for _, s := range []struct{ method, uri, client, accept, ctype, body string }{
		{"POST", "/v2/queues/q/messages", clientA, "*/*", "application/json", `{"messages": [{"body": {"a": "é"}}]}`},
		{"GET", "/v2/queues/q/messages?echo=True&limit=2&marker=1", clientA, "", "", ""},
		{"GET", "/v2/queues/q/messages?ids=a,b&ids=c", clientB, "", "", ""},
		{"DELETE", "/v2/queues/q/messages?pop=2", clientA, "", "application/json", ""},
		{"PATCH", "/v2/queues/q", clientA, "", patchType, `[{"op": "add", "path": "/metadata/k", "value": 1}]`},
		{"POST", "/v2/queues/q/claims?limit=3", clientA, "application/*", "", `{"ttl": 60, "grace": 60}`},
		{"GET", "/v2/queues?detailed=yes&with_count=1&color=red", clientA, "", "", ""},
		{"PUT", "/v2/queues/q/subscriptions/x/confirm", "urn:uuid:" + clientA, "", "", `{"confirmed": true}`},
		{"OPTIONS", "/v2/queues/q", clientA, "text/html", "application/x-www-form-urlencoded", "a=b"},
	} {
		f.Add(s.method, s.uri, s.client, s.accept, s.ctype, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, method, uri, client, accept, ctype string, body []byte) {
		headers := map[string]string{"Client-ID": client, "X-Project-ID": project, "Accept": accept, "Content-Type": ctype}
		ctx := callHandler(h, method, uri, headers, body)
		status := ctx.Response.StatusCode()
		if status == fasthttp.StatusInternalServerError {
			t.Fatalf("%s %q: 500 %s", method, uri, ctx.Response.Body())
		}
		ct := string(ctx.Response.Header.ContentType())
		if out := ctx.Response.Body(); len(out) > 0 && strings.HasPrefix(ct, "application/json") && !json.Valid(out) {
			t.Fatalf("%s %q: invalid JSON %q", method, uri, out)
		}
	})
}

// TestHandlerWithoutStreaming: under a server that reads bodies before the handler (or called directly) the
// limits still hold, and the body the Service gets is a copy.
func TestHandlerWithoutStreaming(t *testing.T) {
	h := newHandler(t)
	hdr := map[string]string{"Client-ID": clientA, "X-Project-ID": project}
	big := bytes.Repeat([]byte("x"), 262145)
	ctx := callHandler(h, "POST", "/v2/queues/ns/messages", hdr, big)
	if ctx.Response.StatusCode() != 400 || !bytes.Contains(ctx.Response.Body(), []byte("Max size 262144")) {
		t.Fatalf("oversized: %d %s", ctx.Response.StatusCode(), ctx.Response.Body())
	}
	body := []byte(`{"messages": [{"body": "original"}]}`)
	ctx = callHandler(h, "POST", "/v2/queues/ns/messages", hdr, body)
	if ctx.Response.StatusCode() != 201 {
		t.Fatalf("post: %d %s", ctx.Response.StatusCode(), ctx.Response.Body())
	}
	copy(ctx.Request.Body(), bytes.Repeat([]byte("Z"), len(body))) // fasthttp reuses its buffers
	ctx = callHandler(h, "GET", "/v2/queues/ns/messages", map[string]string{"Client-ID": clientB, "X-Project-ID": project}, nil)
	if !bytes.Contains(ctx.Response.Body(), []byte(`"body": "original"`)) {
		t.Fatalf("stored body changed with the request buffer: %s", ctx.Response.Body())
	}
}
