package webapp_test

// End to end in headless Chromium: the real zedge binary (auth jwt, MQTT on), the campus simulator
// (firmwaresim: MQTT thermostats and ACs, signed-URL sensors), the app served by webapp.Handler, and a browser
// that loads it. The test sees live values change; sees an out-of-range target refused without a post; sets
// a room's target in the page and sees the AC in the simulator apply it, the page report it acknowledged
// (and the device's reply), the AC report the new setpoint and the room cool toward it, in the simulator and
// on the page; checks the cmd-results records over REST; cuts the page's socket and sees it come back live;
// fits a phone's width; and shows a refused token in a second tab. Any script error or console.error fails
// it. Screenshots (desktop, full page; phone, first screen) go to its temp dir, and to WEBAPP_SCREENSHOT_DIR
// when that is set.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/zedge-io/zedge/firmware-sim/webapp"
	"github.com/zedge-io/zedge/signing"
)

// chromiumPath is Debian's chromium, installed by scripts/deps.sh. The test never downloads a browser.
const chromiumPath = "/usr/bin/chromium"

// browserDeadline bounds the whole test so that a broken build fails instead of hanging; the steps wait for
// conditions, never for a fixed time.
const browserDeadline = 3 * time.Minute

// pageState is what the page shows, read from its DOM.
type pageState struct {
	Conn    string       `json:"conn"`
	Live    int          `json:"live"`
	Notice  string       `json:"notice"`
	Offices []officeView `json:"offices"`
	Scroll  int          `json:"scroll_width"`
	Width   int          `json:"inner_width"`
}

type officeView struct {
	Office string            `json:"office"`
	Temp   string            `json:"temp"`
	ACs    map[string]string `json:"acs"`   // AC id -> setpoint it reports
	Cmds   map[string]string `json:"cmds"`  // AC id -> state of the last command sent from the page
	Reply  map[string]string `json:"reply"` // AC id -> the status the device replied for it, if any
	Points int               `json:"points"`
}

func (s pageState) office(id string) officeView {
	for _, o := range s.Offices {
		if o.Office == id {
			return o
		}
	}
	return officeView{}
}

func (o officeView) temp() (float64, bool) {
	v, err := strconv.ParseFloat(o.Temp, 64)
	return v, err == nil
}

const pageStateJS = `JSON.stringify({
  conn: document.querySelector('#conn').dataset.conn,
  live: parseInt(document.querySelector('#live-count').textContent, 10) || 0,
  notice: document.querySelector('#notice').hidden ? '' : document.querySelector('#notice').textContent,
  scroll_width: document.documentElement.scrollWidth,
  inner_width: window.innerWidth,
  offices: [...document.querySelectorAll('[data-office]')].map((c) => {
    const line = c.querySelector('svg.chart polyline');
    return {
      office: c.dataset.office,
      temp: c.querySelector('.temp').dataset.value,
      acs: Object.fromEntries([...c.querySelectorAll('[data-ac-setpoint]')].map((d) => [d.dataset.acSetpoint, d.value])),
      cmds: Object.fromEntries([...c.querySelectorAll('li[data-device]')].map((li) => [li.dataset.device, li.dataset.cmdState])),
      reply: Object.fromEntries([...c.querySelectorAll('li[data-device]')].map((li) => [li.dataset.device, li.dataset.reply])),
      points: line ? line.getAttribute('points').trim().split(/\s+/).length : 0,
    };
  }),
})`

func readPage(ctx context.Context) (pageState, error) {
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](pageStateJS))
	if err != nil {
		return pageState{}, err
	}
	var s pageState
	err = json.Unmarshal([]byte(raw), &s)
	return s, err
}

// waitPage polls the page until cond holds; only the test's overall deadline ends the wait.
func waitPage(t *testing.T, ctx context.Context, what string, cond func(pageState) bool) pageState {
	t.Helper()
	var last pageState
	var lastErr error
	for {
		s, err := readPage(ctx)
		if err == nil && cond(s) {
			return s
		}
		last, lastErr = s, err
		select {
		case <-ctx.Done():
			dump, _ := json.MarshalIndent(last, "", "  ")
			t.Fatalf("waiting for %s: deadline reached (last read error %v); the page showed:\n%s", what, lastErr, dump)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func TestBrowserCampus(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("this test needs Debian's chromium at %s (%v): run bash scripts/deps.sh", chromiumPath, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), browserDeadline)
	defer cancel()
	start := time.Now()
	phase := func(what string) { t.Logf("%5.1fs %s", time.Since(start).Seconds(), what) }

	z := startZedge(t)
	campus := startSim(t, z)
	const office, ac = "b1-f1-o1", "b1-f1-o1-ac1"
	member := z.token(t, "app-browser-test", signing.RoleMember)
	phase("zedge built and started, simulator connected")
	// The page reaches zedge's websocket listener through a proxy the test can cut.
	proxy := startProxy(t, z.ws)
	cfg := webapp.Config{WebsocketURL: "ws://" + proxy.addr() + "/", ProjectID: testProject, Token: member, Site: campus.site}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	app := httptest.NewServer(webapp.Handler(cfg))
	t.Cleanup(app.Close)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox, // the tests run as root
		chromedp.DisableGPU,
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()

	// Any script error or console.error fails the test.
	var jsMu sync.Mutex
	var jsErrors []string
	if err := chromedp.Listen(bctx, func(ev any) {
		var msg string
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			msg = "exception: " + e.ExceptionDetails.Text
			if e.ExceptionDetails.Exception != nil {
				msg += " " + e.ExceptionDetails.Exception.Description
			}
		case *runtime.EventConsoleAPICalled:
			if e.Type != runtime.ConsoleAPICalledTypeError {
				return
			}
			msg = "console.error:"
			for _, a := range e.Args {
				msg += " " + fmt.Sprint(a.Value) + a.Description
			}
		default:
			return
		}
		jsMu.Lock()
		jsErrors = append(jsErrors, msg)
		jsMu.Unlock()
	}); err != nil {
		t.Fatalf("starting %s: %v", chromiumPath, err)
	}
	if err := chromedp.Do(bctx, chromedp.EmulateViewport(1280, 900), chromedp.Navigate(app.URL+"/")); err != nil {
		t.Fatalf("loading the page: %v", err)
	}

	// Live: connected, authenticated, subscribed, and every office shows a temperature.
	s := waitPage(t, bctx, "every office to show a live temperature", func(s pageState) bool {
		if s.Conn != "online" || len(s.Offices) != campus.offices() {
			return false
		}
		for _, o := range s.Offices {
			if _, ok := o.temp(); !ok || len(o.ACs) == 0 {
				return false
			}
		}
		return true
	})
	phase("every office live")
	first := s.office(office)
	firstLive := s.Live
	waitPage(t, bctx, "the temperature shown to change as readings arrive", func(s pageState) bool {
		return s.office(office).Temp != first.Temp && s.Live > firstLive && s.office(office).Points >= 3
	})
	before, _ := first.temp()

	// A target out of range is refused in the page, with the reason, and nothing is posted.
	const other, otherAC = "b2-f1-o2", "b2-f1-o2-ac1"
	if err := chromedp.Do(bctx, chromedp.WaitEnabled(chromedp.CSS(`button[data-set="`+other+`"]`)),
		chromedp.SetValue(chromedp.CSS(`input[data-setpoint-input="`+other+`"]`), "40"),
		chromedp.Click(chromedp.CSS(`button[data-set="`+other+`"]`))); err != nil {
		t.Fatalf("setting an out-of-range target: %v", err)
	}
	s = waitPage(t, bctx, "the page to refuse 40 °C", func(s pageState) bool {
		return strings.Contains(s.Notice, "The target must be a number from 10 to 35")
	})
	if st := s.office(other).Cmds[otherAC]; st != "none" {
		t.Errorf("an out-of-range target left command state %q", st)
	}

	// A person sets 19 °C in office b1-f1-o1.
	const target = 19.0
	input := chromedp.CSS(`input[data-setpoint-input="` + office + `"]`)
	button := chromedp.CSS(`button[data-set="` + office + `"]`)
	if err := chromedp.Do(bctx, chromedp.WaitEnabled(button), chromedp.SetValue(input, "19"), chromedp.Click(button)); err != nil {
		t.Fatalf("setting the target: %v", err)
	}

	// The AC in the simulator receives it over MQTT, as the page posted it, and applies it.
	for {
		ds, body := campus.lastCommand(t, ac)
		if body != nil && body["command"] == "set_setpoint" && body["setpoint"] == target {
			if body["by"] != "app" || ds.Setpoint != target || ds.CommandsApplied < 1 {
				t.Fatalf("the AC has %+v after the command %v", ds, body)
			}
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the AC %s never received the page's command (last: %+v)", ac, ds)
		case <-time.After(100 * time.Millisecond):
		}
	}
	commandedAt := campus.temperature(t, office)
	phase("the AC applied the page's command")

	// The page shows it acknowledged (and the device's own reply) and the AC reporting the new setpoint; the
	// room cools toward the target, in the simulator and on the page (whose readings carry sensor noise, so
	// both are waited for).
	var room float64
	s = waitPage(t, bctx, "the command acknowledged and applied, the AC at 19 and the room 0.5 °C cooler", func(s pageState) bool {
		o := s.office(office)
		temp, ok := o.temp()
		room = campus.temperature(t, office)
		return o.Cmds[ac] == "acknowledged" && o.Reply[ac] == "applied" && o.ACs[ac] == "19" && ok &&
			temp <= commandedAt-0.5 && room <= commandedAt-0.5
	})
	after, _ := s.office(office).temp()
	phase("acknowledged on the page, room cooler")
	t.Logf("office %s: %.2f °C on the page before, %.2f °C in the room when the command arrived, then %.2f °C in the room and %.2f °C on the page; target %v °C",
		office, before, commandedAt, room, after, target)
	if o := s.office("b2-f1-o1"); o.Cmds["b2-f1-o1-ac1"] != "none" {
		t.Errorf("an office nobody commanded shows command state %q", o.Cmds["b2-f1-o1-ac1"])
	}
	if ds, body := campus.lastCommand(t, otherAC); body != nil {
		t.Errorf("%s received %s after an out-of-range target", otherAC, ds.LastCommand)
	}

	// Independently of the page: the command left its queue and zedge recorded its acknowledgement.
	ds, _ := campus.lastCommand(t, ac)
	var results struct {
		Messages []struct {
			Body struct{ ID, Device, Status, Via string } `json:"body"`
		} `json:"messages"`
	}
	restGet(t, z, member, "/v2/queues/cmd-results/messages", url.Values{"echo": {"true"}, "limit": {"20"}}, &results)
	vias := map[string]bool{}
	for _, m := range results.Messages {
		if m.Body.ID == ds.LastCommandID && m.Body.Device == ac && m.Body.Status == "acked" {
			vias[m.Body.Via] = true
		}
	}
	if !vias["puback"] || !vias["reply"] {
		t.Errorf("cmd-results over REST has %+v, want a puback and a reply record of %s", results.Messages, ds.LastCommandID)
	}
	var stats struct {
		Messages struct{ Total int } `json:"messages"`
	}
	if st := restGet(t, z, member, "/v2/queues/cmd-"+ac+"/stats", nil, &stats); st != 200 || stats.Messages.Total != 0 {
		t.Errorf("cmd-%s stats: %d, %d messages left", ac, st, stats.Messages.Total)
	}

	dir := t.TempDir()
	shot(t, bctx, filepath.Join(dir, "webapp-desktop.png"), chromedp.FullScreenshot(100))

	// A phone: one column, nothing wider than the screen.
	if err := chromedp.Do(bctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile)); err != nil {
		t.Fatal(err)
	}
	waitPage(t, bctx, "the page to fit a 390 px wide screen", func(s pageState) bool {
		return s.Width == 390 && s.Scroll <= s.Width
	})
	shot(t, bctx, filepath.Join(dir, "webapp-phone.png"), chromedp.CaptureScreenshot()) // the first screen

	// The network drops: the page reconnects by itself, authenticates and subscribes again, and live values
	// flow over the new socket (the old one is gone, so any new push proves the new subscriptions).
	sockets := proxy.connections()
	proxy.cut()
	waitPage(t, bctx, "the page to reconnect", func(s pageState) bool {
		return proxy.connections() > sockets && s.Conn == "online"
	})
	s = waitPage(t, bctx, "the page to be live again", func(s pageState) bool { return s.Conn == "online" })
	liveAgain := s.Live
	waitPage(t, bctx, "pushes over the new socket", func(s pageState) bool {
		return s.Conn == "online" && s.Live >= liveAgain+10 && s.Notice == ""
	})

	phase("reconnected after a cut")

	// A page given a token zedge refuses says so instead of showing stale rooms.
	bad := cfg
	bad.Token = z.token(t, "app-browser-test", signing.RoleMember) + "x"
	badApp := httptest.NewServer(webapp.Handler(bad))
	t.Cleanup(badApp.Close)
	tab, cancelTab := chromedp.NewContext(bctx)
	defer cancelTab()
	if err := chromedp.Do(tab, chromedp.Navigate(badApp.URL+"/")); err != nil {
		t.Fatal(err)
	}
	refused := waitPage(t, tab, "the page to report the refused token", func(s pageState) bool {
		return s.Conn == "offline" && strings.Contains(s.Notice, "authentication failed (401)")
	})
	for _, o := range refused.Offices {
		if o.Temp != "" {
			t.Errorf("with a refused token the page shows %s at %q", o.Office, o.Temp)
		}
	}

	jsMu.Lock()
	defer jsMu.Unlock()
	for _, e := range jsErrors {
		t.Errorf("page script error: %s", e)
	}
	phase("refused token shown")
	// The simulator's run ends cleanly: nothing it sent was lost or refused.
	report, err := campus.stop()
	if err != nil {
		t.Fatalf("simulator run: %v", err)
	}
	if report.Errors != 0 || report.Telemetry.Pending+report.Telemetry.Dropped+report.Telemetry.Rejected != 0 ||
		report.Readings.Pending+report.Readings.Dropped+report.Readings.Rejected != 0 {
		t.Errorf("simulator report:\n%s", report.Text())
	}
	phase("simulator drained and verified")
}

// shot saves a PNG screenshot, and a copy in WEBAPP_SCREENSHOT_DIR when that is set.
func shot(t *testing.T, ctx context.Context, path string, take chromedp.Action[[]byte]) {
	t.Helper()
	png, err := chromedp.Run(ctx, take)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", path, len(png))
	if dir := os.Getenv("WEBAPP_SCREENSHOT_DIR"); dir != "" {
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(path)), png, 0o644); err != nil {
			t.Error(fmt.Errorf("copy of the screenshot: %w", err))
		}
	}
}
