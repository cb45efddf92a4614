package main

// End-to-end tests of the websocket API against the real binary: a Go websocket client on the websocket
// listener and on /v2/ws of the HTTP port, msgpack frames, and socket subscriptions fed over REST and by an
// MQTT sensor through the bridge.

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/google/uuid"
	"github.com/vmihailenco/msgpack/v5"
)

// wsClient is a websocket client of one zedge.
type wsClient struct {
	t        testing.TB
	ws       *websocket.Conn
	project  string
	clientID string
}

func dialWS(t testing.TB, url, project string) *wsClient {
	t.Helper()
	ws, resp, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	_ = resp.Body.Close()
	t.Cleanup(func() { _ = ws.Close() })
	return &wsClient{t: t, ws: ws, project: project, clientID: uuid.NewString()}
}

// frame reads one frame (the deadline only keeps a broken build from hanging).
func (c *wsClient) frame() (int, []byte) {
	c.t.Helper()
	_ = c.ws.SetReadDeadline(time.Now().Add(20 * time.Second))
	mt, data, err := c.ws.ReadMessage()
	if err != nil {
		c.t.Fatalf("websocket read: %v", err)
	}
	return mt, data
}

// call sends an action in a text frame and returns the answer's status and body.
func (c *wsClient) call(action string, body map[string]any, extraHeaders ...string) (int, json.RawMessage) {
	c.t.Helper()
	hdr := map[string]any{"Client-ID": c.clientID, "X-Project-ID": c.project}
	for i := 0; i+1 < len(extraHeaders); i += 2 {
		hdr[extraHeaders[i]] = extraHeaders[i+1]
	}
	req := map[string]any{"action": action, "headers": hdr}
	if body != nil {
		req["body"] = body
	}
	data, _ := json.Marshal(req)
	if err := c.ws.WriteMessage(websocket.TextMessage, data); err != nil {
		c.t.Fatal(err)
	}
	_, out := c.frame()
	var resp struct {
		Request json.RawMessage `json:"request"`
		Body    json.RawMessage `json:"body"`
		Headers struct {
			Status int `json:"status"`
		} `json:"headers"`
	}
	if err := json.Unmarshal(out, &resp); err != nil || resp.Request == nil {
		c.t.Fatalf("%s: not an answer envelope: %s", action, out)
	}
	return resp.Headers.Status, resp.Body
}

func (c *wsClient) must(status int, action string, body map[string]any, extraHeaders ...string) json.RawMessage {
	c.t.Helper()
	st, b := c.call(action, body, extraHeaders...)
	if st != status {
		c.t.Fatalf("%s: status %d, want %d: %s", action, st, status, b)
	}
	return b
}

func TestWebsocketE2E(t *testing.T) {
	t.Parallel()
	s, env := mqttServer(t, "")
	if s.ws == "" {
		t.Fatal("the ready file names no ws address")
	}
	operator := mintToken(t, env, "ops", "member")
	app := dialWS(t, "ws://"+s.ws+"/", "campus")

	// jwt mode: nothing before authenticate.
	if st, b := app.call("queue_list", nil); st != 403 || string(b) != `{"error": "Not authentified."}` {
		t.Fatalf("before authenticate: %d %s", st, b)
	}
	if st, b := app.call("authenticate", nil, "X-Auth-Token", "bogus"); st != 401 {
		t.Fatalf("bad token: %d %s", st, b)
	}
	app.must(200, "authenticate", nil, "X-Auth-Token", operator)

	// Every kind of action, with Zaqar's statuses and bodies.
	if b := app.must(201, "queue_create", map[string]any{"queue_name": "cmd-ac-12"}); string(b) != `"Queue cmd-ac-12 created."` {
		t.Errorf("queue_create %s", b)
	}
	app.must(204, "queue_create", map[string]any{"queue_name": "cmd-ac-12"})
	app.must(200, "queue_get", map[string]any{"queue_name": "cmd-ac-12"})
	app.must(200, "queue_list", map[string]any{"detailed": true})
	var posted struct {
		IDs []string `json:"message_ids"`
	}
	_ = json.Unmarshal(app.must(201, "message_post", map[string]any{"queue_name": "cmd-ac-12",
		"messages": []any{map[string]any{"body": map[string]any{"set": 21}, "ttl": 300}}}), &posted)
	if len(posted.IDs) != 1 {
		t.Fatalf("posted %v", posted)
	}
	app.must(200, "message_get", map[string]any{"queue_name": "cmd-ac-12", "message_id": posted.IDs[0]})
	app.must(200, "message_get_many", map[string]any{"queue_name": "cmd-ac-12", "message_ids": posted.IDs})
	app.must(200, "queue_get_stats", map[string]any{"queue_name": "cmd-ac-12"})
	if st, _ := app.call("queue_get_stats", map[string]any{"queue_name": "nothing-here"}); st != 404 {
		t.Errorf("stats of a missing queue: %d", st)
	}
	// The same message is visible over REST (one Service behind both APIs).
	rest := newClient(t, s, "campus")
	rest.hc = &http.Client{Transport: tokenTransport{operator}}
	if got := rest.list("cmd-ac-12", "echo=true"); len(got) != 1 || string(got[0].Body) != `{"set": 21}` && string(got[0].Body) != `{"set":21}` {
		t.Errorf("REST sees %v", got)
	}
	var claim struct {
		ClaimID string `json:"claim_id"`
	}
	_ = json.Unmarshal(app.must(201, "claim_create", map[string]any{"queue_name": "cmd-ac-12", "ttl": 60, "grace": 60}), &claim)
	app.must(200, "claim_get", map[string]any{"queue_name": "cmd-ac-12", "claim_id": claim.ClaimID})
	app.must(204, "claim_update", map[string]any{"queue_name": "cmd-ac-12", "claim_id": claim.ClaimID, "ttl": 120})
	app.must(204, "message_delete", map[string]any{"queue_name": "cmd-ac-12", "message_id": posted.IDs[0], "claim_id": claim.ClaimID})
	app.must(204, "claim_delete", map[string]any{"queue_name": "cmd-ac-12", "claim_id": claim.ClaimID})
	app.must(204, "message_delete_many", map[string]any{"queue_name": "cmd-ac-12", "message_ids": posted.IDs})
	app.must(200, "message_delete_many", map[string]any{"queue_name": "cmd-ac-12", "pop": 1})
	app.must(204, "claim_create", map[string]any{"queue_name": "cmd-ac-12"})
	app.must(201, "subscription_create", map[string]any{"queue_name": "cmd-ac-12", "subscriber": "http://127.0.0.1:1/hook"})
	app.must(200, "subscription_list", map[string]any{"queue_name": "cmd-ac-12"})
	app.must(204, "queue_purge", map[string]any{"queue_name": "cmd-ac-12"})
	app.must(204, "queue_delete", map[string]any{"queue_name": "cmd-ac-12"})
	if st, b := app.call("ping_node", nil); st != 400 {
		t.Errorf("unimplemented action: %d %s", st, b)
	}

	// msgpack frames round-trip: answered in msgpack, body types kept.
	req, _ := msgpack.Marshal(map[string]any{"action": "message_post",
		"headers": map[string]any{"Client-ID": app.clientID, "X-Project-ID": "campus"},
		"body":    map[string]any{"queue_name": "mp", "messages": []any{map[string]any{"body": map[string]any{"n": 1, "f": 2.5}}}}})
	if err := app.ws.WriteMessage(websocket.BinaryMessage, req); err != nil {
		t.Fatal(err)
	}
	mt, out := app.frame()
	var resp map[string]any
	if mt != websocket.BinaryMessage || msgpack.Unmarshal(out, &resp) != nil {
		t.Fatalf("msgpack answer: type %d %q", mt, out)
	}
	if got := rest.list("mp", "echo=true"); len(got) != 1 || !jsonEqual(t, got[0].Body, []byte(`{"n": 1, "f": 2.5}`)) {
		t.Errorf("msgpack post listed over REST as %v", got)
	}

	// A socket subscription receives what REST posts and what an MQTT sensor publishes through the bridge.
	app.must(201, "subscription_create", map[string]any{"queue_name": "telemetry-b1"})
	rest.post("telemetry-b1", map[string]any{"body": map[string]any{"from": "rest"}, "ttl": 120})
	_, push := app.frame()
	var note map[string]any
	if err := json.Unmarshal(push, &note); err != nil || note["Message_Type"] != "Notification" ||
		note["queue_name"] != "telemetry-b1" || note["ttl"] != 120.0 || jsonOf(note["body"]) != `{"from":"rest"}` {
		t.Fatalf("REST post pushed as %s", push)
	}
	sensor := mustV3(t, s.mqtt, "s-17", mintToken(t, env, "s-17", "device"))
	if err := waitToken(t, sensor.Publish("sensors/b1/r101/temp", 1, false, `{"c":21.5}`)); err != nil {
		t.Fatal(err)
	}
	_, push = app.frame()
	var fromMQTT struct {
		Body struct {
			Topic   string          `json:"topic"`
			Device  string          `json:"device"`
			Payload json.RawMessage `json:"payload"`
		} `json:"body"`
		MessageType string `json:"Message_Type"`
	}
	if err := json.Unmarshal(push, &fromMQTT); err != nil || fromMQTT.MessageType != "Notification" ||
		fromMQTT.Body.Topic != "sensors/b1/r101/temp" || fromMQTT.Body.Device != "s-17" {
		t.Fatalf("MQTT reading pushed as %s", push)
	}

	// The upgrade on the HTTP port serves the same API.
	viaHTTP := dialWS(t, "ws://"+s.addr+"/v2/ws", "campus")
	viaHTTP.must(200, "authenticate", nil, "X-Auth-Token", operator)
	viaHTTP.must(200, "queue_list", nil)

	// A clean stop closes the sockets with 1001 and exits 0.
	s.stop()
	_ = viaHTTP.ws.SetReadDeadline(time.Now().Add(20 * time.Second))
	var ce *websocket.CloseError
	for {
		_, _, err := viaHTTP.ws.ReadMessage()
		if err != nil {
			if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
				t.Errorf("socket ended with %v, want 1001", err)
			}
			break
		}
	}
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
