package webapp

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// Config is what the page needs to reach zedge; /config.json serves it as JSON.
type Config struct {
	// WebsocketURL is zedge's websocket API as the browser reaches it: ws://host:port/ (the websocket
	// listener) or ws://host:port/v2/ws (the upgrade on the HTTP port); wss:// behind TLS.
	WebsocketURL string `json:"websocket_url"`
	// ProjectID is sent as X-Project-ID on every frame.
	ProjectID string `json:"project_id"`
	// ClientID is the Client-ID (a UUID) of every frame; empty lets each page load pick its own, which is
	// what Zaqar expects of independent clients.
	ClientID string `json:"client_id,omitempty"`
	// Token, when set, is sent in an authenticate frame before anything else (zedge in auth mode jwt). It
	// reaches every browser that can load the page: serve the app only where that is acceptable (loopback,
	// a demo), and give it a member token of the campus project, never an admin one.
	Token string `json:"token,omitempty"`
	// Site is the campus the page lists.
	Site Site `json:"site"`
}

// Site is a campus: its buildings, their offices, and the devices in each office.
type Site struct {
	// Name is shown in the page's title bar; empty shows "Campus".
	Name      string     `json:"name,omitempty"`
	Buildings []Building `json:"buildings"`
}

// Building is one building; its ID names its sensor queue readings-{ID}.
type Building struct {
	ID      string   `json:"id"`
	Name    string   `json:"name,omitempty"`
	Offices []Office `json:"offices"`
}

// Office is one room. Readings and telemetry are matched to it by their "office" field, so ID must be what
// the devices and sensors send (e.g. "b1-f1-o3").
type Office struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	// Floor is a label for grouping; optional.
	Floor string `json:"floor,omitempty"`
	// Thermostat is the thermostat's device id (its telemetry gives the room temperature and setpoint).
	Thermostat string `json:"thermostat,omitempty"`
	// ACs are the air conditioners' device ids; a new target temperature is posted to cmd-{id} of each.
	ACs []string `json:"acs,omitempty"`
	// Sensors are the sensor ids in the room (shown on the card; readings are matched by office).
	Sensors []string `json:"sensors,omitempty"`
}

// ErrInvalidConfig is wrapped by every error of Config.Validate.
var ErrInvalidConfig = errors.New("webapp: invalid config")

// maxQueueName is Zaqar's limit on queue names; ids are checked so that readings-{building} and cmd-{device}
// stay within it.
const maxQueueName = 64

// DefaultConfig is a page for a zedge on its default websocket listener, in project "campus", with an empty
// site (which Validate refuses: the site must be filled in).
func DefaultConfig() Config {
	return Config{WebsocketURL: "ws://127.0.0.1:9000/", ProjectID: "campus"}
}

// Validate checks what the page relies on: a ws:// or wss:// URL, a project, a UUID Client-ID if one is set,
// and a site with at least one building whose ids are unique and make valid queue names (letters, digits,
// '_' and '-'; readings-{building} and cmd-{device} at most 64 characters). Every error wraps
// ErrInvalidConfig.
func (c Config) Validate() error {
	u, err := url.Parse(c.WebsocketURL)
	switch {
	case c.WebsocketURL == "":
		return fmt.Errorf("%w: websocket_url is empty", ErrInvalidConfig)
	case err != nil:
		return fmt.Errorf("%w: websocket_url: %v", ErrInvalidConfig, err)
	case u.Scheme != "ws" && u.Scheme != "wss", u.Host == "":
		return fmt.Errorf("%w: websocket_url %q is not a ws:// or wss:// URL with a host", ErrInvalidConfig, c.WebsocketURL)
	}
	if c.ProjectID == "" || len(c.ProjectID) > 256 {
		return fmt.Errorf("%w: project_id must have 1 to 256 bytes", ErrInvalidConfig)
	}
	if c.ClientID != "" {
		if _, err := uuid.Parse(c.ClientID); err != nil {
			return fmt.Errorf("%w: client_id %q is not a UUID", ErrInvalidConfig, c.ClientID)
		}
	}
	return c.Site.validate()
}

func (s Site) validate() error {
	if len(s.Buildings) == 0 {
		return fmt.Errorf("%w: the site has no buildings", ErrInvalidConfig)
	}
	buildings, offices, devices := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, b := range s.Buildings {
		if err := checkID("building", b.ID, len("readings-")); err != nil {
			return err
		}
		if buildings[b.ID] {
			return fmt.Errorf("%w: building %q is listed twice", ErrInvalidConfig, b.ID)
		}
		buildings[b.ID] = true
		for _, o := range b.Offices {
			if err := checkID("office", o.ID, 0); err != nil {
				return err
			}
			if offices[o.ID] {
				return fmt.Errorf("%w: office %q is listed twice", ErrInvalidConfig, o.ID)
			}
			offices[o.ID] = true
			ids := append([]string{}, o.ACs...)
			ids = append(ids, o.Sensors...)
			if o.Thermostat != "" {
				ids = append(ids, o.Thermostat)
			}
			for _, d := range ids {
				if err := checkID("device", d, len("cmd-")); err != nil {
					return fmt.Errorf("office %s: %w", o.ID, err)
				}
				if devices[d] {
					return fmt.Errorf("%w: device %q is listed twice", ErrInvalidConfig, d)
				}
				devices[d] = true
			}
		}
	}
	return nil
}

// checkID accepts 1.. letters, digits, '_' and '-', short enough to fit a queue name after prefix bytes. Dots
// are refused although queue names allow them: in signed-URL paths they act as wildcards.
func checkID(kind, id string, prefix int) error {
	if id == "" {
		return fmt.Errorf("%w: a %s has an empty id", ErrInvalidConfig, kind)
	}
	if len(id)+prefix > maxQueueName {
		return fmt.Errorf("%w: %s id %q is too long for a queue name (at most %d characters)", ErrInvalidConfig, kind, id, maxQueueName-prefix)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return fmt.Errorf("%w: %s id %q may only have letters, digits, '_' and '-'", ErrInvalidConfig, kind, id)
		}
	}
	return nil
}

//go:embed static
var static embed.FS

// asset is one file the handler serves.
type asset struct {
	name        string // in static/
	contentType string
}

// assets maps request paths to files. Only these paths are served: no directory listing, no other file.
var assets = map[string]asset{
	"/":           {"index.html", "text/html; charset=utf-8"},
	"/index.html": {"index.html", "text/html; charset=utf-8"},
	"/app.js":     {"app.js", "text/javascript; charset=utf-8"},
	"/style.css":  {"style.css", "text/css; charset=utf-8"},
}

// Handler serves the app: /, /index.html, /app.js, /style.css and /config.json (cfg as JSON), for GET and
// HEAD only; any other path is 404 and any other method 405. It may be mounted under a prefix with
// http.StripPrefix (the page uses relative URLs; mount it at a path ending in "/").
//
// cfg is served as given. If it does not pass Validate, /config.json answers 500 with
// {"error": "<the validation error>"}, which the page shows instead of the campus.
func Handler(cfg Config) http.Handler {
	files := make(map[string][]byte, len(assets))
	for path, a := range assets {
		b, err := static.ReadFile("static/" + a.name)
		if err != nil {
			// The files are embedded at build time; a missing one is a broken build, not a runtime condition.
			panic("webapp: embedded file missing: " + a.name)
		}
		files[path] = b
	}
	configStatus := http.StatusOK
	configBody, err := json.Marshal(cfg)
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		configStatus = http.StatusInternalServerError
		configBody, _ = json.Marshal(map[string]string{"error": err.Error()})
	}
	csp := contentSecurityPolicy(cfg.WebsocketURL)

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body []byte
		var contentType string
		status := http.StatusOK
		if r.URL.Path == "/config.json" {
			body, contentType, status = configBody, "application/json", configStatus
		} else if a, ok := assets[r.URL.Path]; ok {
			body, contentType = files[r.URL.Path], a.contentType
		} else {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Type", contentType)
		h.Set("Content-Length", strconv.Itoa(len(body)))
		// The config (and with it a token) may change whenever the simulator restarts: never cache.
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", csp)
		w.WriteHeader(status)
		if r.Method == http.MethodGet {
			_, _ = w.Write(body)
		}
	})
}

// contentSecurityPolicy lets the page load only its own files and open a socket only to zedge.
func contentSecurityPolicy(wsURL string) string {
	connect := "'self'"
	if u, err := url.Parse(wsURL); err == nil && (u.Scheme == "ws" || u.Scheme == "wss") && u.Host != "" &&
		!strings.ContainsAny(u.Host, " ;,'\"") {
		connect += " " + u.Scheme + "://" + u.Host
	}
	var b bytes.Buffer
	b.WriteString("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; ")
	b.WriteString("connect-src " + connect + "; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	return b.String()
}
