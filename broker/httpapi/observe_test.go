package httpapi

import (
	"strings"
	"sync"
	"testing"
	"time"
)

type observed struct {
	route, method string
	status        int
}

// recordingObserver keeps what it is told, for assertions.
type recordingObserver struct {
	mu       sync.Mutex
	requests []observed
	claimed  map[string]int
	deleted  map[string]int
}

func (o *recordingObserver) ObserveRequest(route, method string, status int, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.requests = append(o.requests, observed{route, method, status})
}

func (o *recordingObserver) MessagesClaimed(queue string, n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.claimed[queue] += n
}

func (o *recordingObserver) MessagesDeleted(queue string, n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.deleted[queue] += n
}

func (o *recordingObserver) last(t *testing.T) observed {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.requests) == 0 {
		t.Fatal("no request observed")
	}
	return o.requests[len(o.requests)-1]
}

// The observer gets the route's template, never the raw path, so that a metric label has bounded cardinality.
func TestObserverRouteTemplates(t *testing.T) {
	obs := &recordingObserver{claimed: map[string]int{}, deleted: map[string]int{}}
	h := newHarness(t, harnessOpt{opts: []Option{WithRequestObserver(obs)}})
	msgs := `{"messages": [{"ttl": 300, "body": 1}, {"ttl": 300, "body": 2}, {"ttl": 300, "body": 3}]}`
	cases := []struct {
		method, path, body string
		want               observed
	}{
		{"GET", "/", "", observed{"/", "GET", 300}},
		{"GET", "/v2/ping", "", observed{"/v2/ping", "GET", 204}},
		{"PUT", "/v2/queues/sensor-a1", "", observed{"/v2/queues/{queue_name}", "PUT", 201}},
		{"POST", "/v2/queues/sensor-a1/messages", msgs, observed{"/v2/queues/{queue_name}/messages", "POST", 201}},
		{"GET", "/v2/queues/sensor-a1/stats", "", observed{"/v2/queues/{queue_name}/stats", "GET", 200}},
		{"POST", "/v2/queues/sensor-a1/claims?limit=1", `{"ttl": 60, "grace": 60}`,
			observed{"/v2/queues/{queue_name}/claims", "POST", 201}},
		{"DELETE", "/v2/queues/sensor-a1/messages?pop=1", "", observed{"/v2/queues/{queue_name}/messages", "DELETE", 200}},
		{"GET", "/v2/queues/sensor-a1/messages/" + strings.Repeat("a", 24), "",
			observed{"/v2/queues/{queue_name}/messages/{message_id}", "GET", 404}},
		{"GET", "/no/such/path/sensor-a1", "", observed{RouteUnmatched, "GET", 404}},
		{"PURGE", "/v2/queues/sensor-a1", "", observed{"/v2/queues/{queue_name}", MethodOther, 405}},
	}
	for _, c := range cases {
		r := h.do(c.method, c.path, c.body)
		if r.status != c.want.status {
			t.Fatalf("%s %s: status %d, want %d: %s", c.method, c.path, r.status, c.want.status, r.body)
		}
		if got := obs.last(t); got != c.want {
			t.Errorf("%s %s: observed %+v, want %+v", c.method, c.path, got, c.want)
		}
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if obs.claimed["sensor-a1"] != 1 || obs.deleted["sensor-a1"] != 1 {
		t.Errorf("claimed %v deleted %v, want 1 and 1 for sensor-a1", obs.claimed, obs.deleted)
	}
}

func TestMethodName(t *testing.T) {
	for in, want := range map[string]string{"GET": "GET", "HEAD": "HEAD", "POST": "POST", "PUT": "PUT",
		"PATCH": "PATCH", "DELETE": "DELETE", "OPTIONS": "OPTIONS", "get": MethodOther, "BREW": MethodOther,
		"": MethodOther} {
		if got := methodName([]byte(in)); got != want {
			t.Errorf("methodName(%q) = %q, want %q", in, got, want)
		}
	}
}
