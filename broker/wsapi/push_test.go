package wsapi

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/zedge-io/zedge/broker"
)

func (e *env) post(t testing.TB, queue string, bodies ...string) []string {
	t.Helper()
	var msgs []string
	for _, b := range bodies {
		msgs = append(msgs, `{"body": `+b+`, "ttl": 60}`)
	}
	ids, err := e.svc.PostMessages(t.Context(), broker.Caller{Project: testProject}, queue,
		[]byte(`{"messages": [`+strings.Join(msgs, ", ")+`]}`), 0)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestSocketSubscriptionPush(t *testing.T) {
	e := newEnv(t)
	sub := e.dial()
	other := e.dial()

	b := sub.mustDo(201, "subscription_create", map[string]any{"queue_name": "wsq", "ttl": 3600})
	sid := b.(map[string]any)["subscription_id"].(string)
	// The stored subscription names the socket.
	got, err := e.svc.GetSubscription(t.Context(), testProject, "wsq", sid)
	if err != nil || !strings.HasPrefix(got.Subscriber, "websocket:") {
		t.Fatalf("stored subscription %+v %v", got, err)
	}
	// Subscribing the same socket to the same queue again is a duplicate.
	if st, b, _ := sub.do("subscription_create", map[string]any{"queue_name": "wsq"}); st != 409 || b != "Subscription wsq not created." {
		t.Errorf("second socket subscription: %d %v", st, b)
	}

	// Posts through the Service (any transport) and over this API reach the socket, in post order, as bare
	// notification frames; the other socket gets nothing but its own answers.
	e.post(t, "wsq", `{"n": 1}`, `"two"`)
	other.mustDo(201, "message_post", map[string]any{"queue_name": "wsq", "messages": []any{map[string]any{"body": 3, "ttl": 120}}})
	e.post(t, "elsewhere", `4`)
	want := []string{
		`{"body": {"n": 1}, "ttl": 60, "queue_name": "wsq", "Message_Type": "Notification"}`,
		`{"body": "two", "ttl": 60, "queue_name": "wsq", "Message_Type": "Notification"}`,
		`{"body": 3, "ttl": 120, "queue_name": "wsq", "Message_Type": "Notification"}`,
	}
	for i, w := range want {
		mt, data := sub.read()
		if mt != websocket.TextMessage || string(data) != w {
			t.Errorf("push %d: %q, want %q", i, data, w)
		}
	}
	// Answers still come in order after pushes.
	sub.mustDo(200, "queue_get", map[string]any{"queue_name": "wsq"})

	// A subscription deleted elsewhere stops pushing.
	if err := e.svc.DeleteSubscription(t.Context(), testProject, "wsq", sid); err != nil {
		t.Fatal(err)
	}
	e.post(t, "wsq", `5`)
	b = sub.mustDo(201, "subscription_create", map[string]any{"queue_name": "wsq"})
	e.post(t, "wsq", `6`)
	if _, data := sub.read(); string(data) != `{"body": 6, "ttl": 60, "queue_name": "wsq", "Message_Type": "Notification"}` {
		t.Errorf("after resubscribing: %s", data)
	}
	sid = b.(map[string]any)["subscription_id"].(string)

	// Subscriptions die with their socket.
	_ = sub.ws.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := e.svc.GetSubscription(t.Context(), testProject, "wsq", sid)
		if errors.Is(err, broker.ErrNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("socket subscription outlived its socket: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestSocketSubscriptionExpiresAndPurges(t *testing.T) {
	e := newEnv(t)
	c := e.dial()
	c.mustDo(201, "subscription_create", map[string]any{"queue_name": "q1", "ttl": 60})
	c.mustDo(201, "subscription_create", map[string]any{"queue_name": "q2"})
	e.clock.Advance(61 * time.Second)
	e.post(t, "q1", `"late"`) // past the subscription's ttl: not pushed
	if err := e.svc.PurgeQueue(t.Context(), testProject, "q2", []byte(`{"resource_types": ["subscriptions"]}`)); err != nil {
		t.Fatal(err)
	}
	e.post(t, "q2", `"purged"`)
	// Nothing was pushed: the next frame is the answer to this request.
	_, _, resp := c.do("queue_list", nil)
	if resp["request"] == nil {
		t.Errorf("expected an answer, got a push: %v", resp)
	}
}

func TestSocketSubscriptionMsgpack(t *testing.T) {
	e := newEnv(t)
	c := e.dial()
	resp := c.doMsgpack(map[string]any{"action": "subscription_create",
		"headers": map[string]any{"Client-ID": testClient, "X-Project-ID": testProject},
		"body":    map[string]any{"queue_name": "bin"}})
	if st := resp["headers"].(map[string]any)["status"]; msgpackInt(st) != 201 {
		t.Fatalf("msgpack subscription_create: %v", resp)
	}
	e.post(t, "bin", `{"x": [1, 2.5, true, null]}`)
	mt, data := c.read()
	if mt != websocket.BinaryMessage {
		t.Fatalf("push frame type %d", mt)
	}
	var m map[string]any
	if err := msgpack.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	j, _ := json.Marshal(m)
	if string(j) != `{"Message_Type":"Notification","body":{"x":[1,2.5,true,null]},"queue_name":"bin","ttl":60}` {
		t.Errorf("msgpack push %s", j)
	}
}

func TestSlowConsumerIsClosed(t *testing.T) {
	e := newEnv(t, envOption{cfg: func(c *Config) { c.SendQueue = 1 }})
	slow := e.dial()
	slow.mustDo(201, "subscription_create", map[string]any{"queue_name": "fast"})
	body := `"` + strings.Repeat("x", 200_000) + `"`
	// The slow socket reads nothing; posts keep succeeding until the server gives up on it.
	for i := 0; e.srv.Stats().SlowClosed == 0; i++ {
		if i == 2000 {
			t.Fatal("the slow socket was never closed")
		}
		e.post(t, "fast", body)
	}
	// The client sees the close reason after the frames that were queued.
	_ = slow.ws.SetReadDeadline(time.Now().Add(30 * time.Second))
	for {
		_, _, err := slow.ws.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != websocket.ClosePolicyViolation || ce.Text != "Slow consumer: the send queue is full." {
			t.Fatalf("close: %v", err)
		}
		break
	}
}

func TestFrameTooLarge(t *testing.T) {
	e := newEnv(t, envOption{cfg: func(c *Config) { c.MaxFrameSize = 1024 }})
	c := e.dial()
	c.sendRaw(websocket.TextMessage, []byte(`{"action": "queue_list", "body": {"marker": "`+strings.Repeat("m", 2000)+`"}}`))
	_ = c.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, _, err := c.ws.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseMessageTooBig {
		t.Fatalf("oversized frame: %v", err)
	}
}

func TestShutdownClosesSockets(t *testing.T) {
	e := newEnv(t)
	c := e.dial()
	b := c.mustDo(201, "subscription_create", map[string]any{"queue_name": "q"})
	sid := b.(map[string]any)["subscription_id"].(string)
	ctx, cancel := context10s()
	defer cancel()
	if err := e.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	_ = c.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, _, err := c.ws.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway || ce.Text != "Server shutting down." {
		t.Fatalf("shutdown close: %v", err)
	}
	if _, err := e.svc.GetSubscription(t.Context(), testProject, "q", sid); !errors.Is(err, broker.ErrNotFound) {
		t.Errorf("socket subscription kept after shutdown: %v", err)
	}
	if e.srv.Stats().Open != 0 {
		t.Errorf("open sockets after shutdown: %d", e.srv.Stats().Open)
	}
}

// msgpackInt reads an integer decoded by msgpack into any (its width follows the value).
func msgpackInt(v any) int64 {
	switch n := v.(type) {
	case int8:
		return int64(n)
	case int16:
		return int64(n)
	case int32:
		return int64(n)
	case int64:
		return n
	case uint8:
		return int64(n)
	case uint16:
		return int64(n)
	case uint32:
		return int64(n)
	case uint64:
		return int64(n)
	}
	return -1
}
