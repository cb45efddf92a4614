package main

// CORS end to end, in headless Chromium: the real zedge binary in jwt mode with http.cors.allowed_origins set to
// the origin of a small page served on another port of 127.0.0.1. From that page the browser creates a queue,
// posts and lists messages with fetch() and bearer-token, Client-ID and X-Project-ID headers (each request
// preflighted), reads the Location and X-Openstack-Request-Id headers and the body of a 401. The same page from
// a second origin, not in the list, gets fetch's TypeError and its requests never reach the API.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
)

// corsChromium is Debian's chromium, installed by scripts/deps.sh. The test never downloads a browser.
const corsChromium = "/usr/bin/chromium"

// corsPage runs the API calls of a browser app against base (zedge) and resolves to a JSON report. Every
// request carries Authorization, Client-ID and X-Project-ID, none of which is CORS-safelisted, so the browser
// preflights each one; the 401 probe carries no token.
const corsPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>zedge CORS probe</title></head><body>
<script>
async function runAPI(base, token, clientID, project, queue) {
  const headers = {
    'Authorization': 'Bearer ' + token,
    'Client-ID': clientID,
    'X-Project-ID': project,
    'Content-Type': 'application/json',
  };
  const out = {origin: location.origin};
  try {
    let r = await fetch(base + '/v2/queues/' + queue, {method: 'PUT', headers, body: '{"purpose": "cors"}'});
    out.create = {status: r.status, location: r.headers.get('Location')};

    r = await fetch(base + '/v2/queues/' + queue + '/messages', {method: 'POST', headers,
      body: JSON.stringify({messages: [{ttl: 300, body: {room: 'b1-f1-o1', celsius: 21.5}}, {ttl: 300, body: 'second'}]})});
    out.post = {status: r.status, location: r.headers.get('Location'),
      request_id: r.headers.get('X-Openstack-Request-Id'), resources: (await r.json()).resources};

    r = await fetch(base + '/v2/queues/' + queue + '/messages?echo=true', {headers});
    const listed = await r.json();
    out.list = {status: r.status, bodies: listed.messages.map((m) => m.body)};

    const noToken = Object.assign({}, headers);
    delete noToken['Authorization'];
    r = await fetch(base + '/v2/queues/' + queue + '/messages', {headers: noToken});
    out.unauthorized = {status: r.status, www_authenticate: r.headers.get('WWW-Authenticate'), body: await r.json()};
  } catch (e) {
    out.error = {name: e.name, message: e.message};
  }
  return JSON.stringify(out);
}
</script></body></html>`

// corsReport is what runAPI resolves to.
type corsReport struct {
	Origin string `json:"origin"`
	Create *struct {
		Status   int    `json:"status"`
		Location string `json:"location"`
	} `json:"create"`
	Post *struct {
		Status    int      `json:"status"`
		Location  string   `json:"location"`
		RequestID string   `json:"request_id"`
		Resources []string `json:"resources"`
	} `json:"post"`
	List *struct {
		Status int               `json:"status"`
		Bodies []json.RawMessage `json:"bodies"`
	} `json:"list"`
	Unauthorized *struct {
		Status          int            `json:"status"`
		WWWAuthenticate string         `json:"www_authenticate"`
		Body            map[string]any `json:"body"`
	} `json:"unauthorized"`
	Error *struct {
		Name    string `json:"name"`
		Message string `json:"message"`
	} `json:"error"`
}

func TestCorsBrowserFetch(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat(corsChromium); err != nil {
		t.Fatalf("this test needs Debian's chromium at %s (%v): run bash scripts/deps.sh", corsChromium, err)
	}
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(corsPage))
	})
	allowedSite := httptest.NewServer(page) // 127.0.0.1, its own port: its own origin
	t.Cleanup(allowedSite.Close)
	otherSite := httptest.NewServer(page)
	t.Cleanup(otherSite.Close)

	const project = "campus"
	env := []string{"ZEDGE_AUTH=jwt", "ZEDGE_JWT_SECRET=" + e2eJWTSecret}
	z := startServer(t, serverOptions{env: env,
		config: fmt.Sprintf("http:\n  cors:\n    allowed_origins: [%q]\n", allowedSite.URL)})
	token := strings.TrimSpace(zedgeOK(t, append(env, "ZEDGE_HTTP_ADDR="+z.addr, "ZEDGE_DATA_DIR="+z.dataDir),
		"token", "-sub", "browser-app", "-project", project, "-roles", "member"))
	clientID := uuid.NewString()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // only keeps a broken build from hanging
	defer cancel()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(corsChromium),
		chromedp.Headless,
		chromedp.NoSandbox, // the tests run as root
		chromedp.DisableGPU,
	)...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()

	run := func(site *httptest.Server, queue string) corsReport {
		t.Helper()
		if err := chromedp.Do(bctx, chromedp.Navigate(site.URL+"/")); err != nil {
			t.Fatalf("loading %s in %s: %v", site.URL, corsChromium, err)
		}
		call := fmt.Sprintf("runAPI(%q, %q, %q, %q, %q)", z.base, token, clientID, project, queue)
		raw, err := chromedp.Run(bctx, chromedp.Evaluate[string](call, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("running the page's fetches: %v", err)
		}
		t.Logf("page at %s reported %s", site.URL, raw)
		var rep corsReport
		if err := json.Unmarshal([]byte(raw), &rep); err != nil {
			t.Fatalf("page report %q: %v", raw, err)
		}
		if rep.Origin != site.URL {
			t.Fatalf("page origin %q, want %q", rep.Origin, site.URL)
		}
		return rep
	}

	// The allowed origin uses the API like any client, and reads what it needs from the responses.
	rep := run(allowedSite, "browser-q")
	if rep.Error != nil {
		t.Fatalf("fetch from the allowed origin failed: %s: %s", rep.Error.Name, rep.Error.Message)
	}
	if rep.Create == nil || rep.Create.Status != 201 || rep.Create.Location != "/v2/queues/browser-q" {
		t.Errorf("create queue: %+v", rep.Create)
	}
	if rep.Post == nil || rep.Post.Status != 201 || len(rep.Post.Resources) != 2 ||
		!strings.HasPrefix(rep.Post.Location, "/v2/queues/browser-q/messages?ids=") || rep.Post.RequestID == "" {
		t.Errorf("post messages: %+v", rep.Post)
	}
	if rep.List == nil || rep.List.Status != 200 || len(rep.List.Bodies) != 2 ||
		string(rep.List.Bodies[1]) != `"second"` || !strings.Contains(string(rep.List.Bodies[0]), `"celsius":21.5`) {
		t.Errorf("list messages: %+v", rep.List)
	}
	if u := rep.Unauthorized; u == nil || u.Status != 401 || u.WWWAuthenticate == "" ||
		fmt.Sprint(u.Body["error"]) == "<nil>" {
		t.Errorf("request without token: the page must see the 401 and read its body: %+v", u)
	}

	// What the browser did is in the store: a client outside the browser sees the two messages.
	c := newClient(t, z, project)
	var listed struct {
		Messages []struct {
			Body json.RawMessage `json:"body"`
		} `json:"messages"`
	}
	c.do("GET", "/v2/queues/browser-q/messages?echo=true", nil, "Authorization: Bearer "+token).expect(t, 200).decode(t, &listed)
	if len(listed.Messages) != 2 {
		t.Errorf("the store holds %d messages of the browser's post, want 2", len(listed.Messages))
	}

	// Another origin: the browser refuses after the preflight, the page gets fetch's TypeError, and nothing of
	// what it asked for happened.
	rep = run(otherSite, "other-q")
	if rep.Error == nil || rep.Error.Name != "TypeError" || rep.Create != nil {
		t.Fatalf("fetch from an origin not in allowed_origins: want a TypeError before any answer, got %+v", rep)
	}
	var queues struct {
		Queues []struct {
			Name string `json:"name"`
		} `json:"queues"`
	}
	c.do("GET", "/v2/queues", nil, "Authorization: Bearer "+token).expect(t, 200).decode(t, &queues)
	if len(queues.Queues) != 1 || queues.Queues[0].Name != "browser-q" {
		t.Errorf("queues after the refused origin's attempt: %+v, want only browser-q", queues.Queues)
	}
	var stats struct {
		Messages struct {
			Total int `json:"total"`
		} `json:"messages"`
	}
	c.do("GET", "/v2/queues/other-q/stats", nil, "Authorization: Bearer "+token).expect(t, 200).decode(t, &stats)
	if stats.Messages.Total != 0 {
		t.Errorf("the refused origin's queue holds %d messages", stats.Messages.Total)
	}
}
