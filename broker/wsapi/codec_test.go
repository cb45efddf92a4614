package wsapi

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

func TestMsgpackTranscoding(t *testing.T) {
	cases := []struct {
		name string
		in   any
		json string
	}{
		{"order kept", orderedMap{{"z", 1}, {"a", "x"}, {"m", []any{true, nil, 2.5}}}, `{"z": 1, "a": "x", "m": [true, null, 2.5]}`},
		{"float stays float", 1.0, `1.0`},
		{"float32", float32(0.5), `0.5`},
		{"big uint", uint64(math.MaxUint64), `18446744073709551615`},
		{"negative", int64(-70000), `-70000`},
		{"escapes", "a\"b\\c\n\x01é", `"a\"b\\c\n\u0001é"`},
		{"bin as text", []byte("raw"), `"raw"`},
	}
	for _, tc := range cases {
		data, err := msgpack.Marshal(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := msgpackToJSON(data)
		if err != nil || string(got) != tc.json {
			t.Errorf("%s: %s %v, want %s", tc.name, got, err, tc.json)
		}
	}

	bad := map[string][]byte{
		"truncated":   {0x92, 0x01},
		"extra data":  {0x01, 0x02},
		"ext type":    {0xd4, 0x01, 0x00},
		"int map key": {0x81, 0x01, 0x02},
		"bad utf-8":   {0xa1, 0xff},
		"nan":         {0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 1},
		"empty":       {},
	}
	for name, data := range bad {
		if _, err := msgpackToJSON(data); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	deep := strings.Repeat("\x91", maxNesting+1) + "\x01"
	if _, err := msgpackToJSON([]byte(deep)); err == nil {
		t.Error("deep nesting accepted")
	}

	// JSON -> msgpack keeps types and order.
	m, err := jsonToMsgpack([]byte(`{"b": [1, 1.0, -2, 18446744073709551615, 1e300, "s", null, false], "a": {}}`))
	if err != nil {
		t.Fatal(err)
	}
	back, err := msgpackToJSON(m)
	if err != nil || string(back) != `{"b": [1, 1.0, -2, 18446744073709551615, 1e+300, "s", null, false], "a": {}}` {
		t.Errorf("round trip %s %v", back, err)
	}
	// A literal beyond float64 is infinity, as Python reads it.
	inf, err := jsonToMsgpack([]byte(`1e400`))
	var f float64
	if err != nil || msgpack.Unmarshal(inf, &f) != nil || !math.IsInf(f, 1) {
		t.Errorf("1e400: %v %v", f, err)
	}
}

// orderedMap encodes as a msgpack map in the given order.
type orderedMap []struct {
	k string
	v any
}

func (m orderedMap) EncodeMsgpack(enc *msgpack.Encoder) error {
	if err := enc.EncodeMapLen(len(m)); err != nil {
		return err
	}
	for _, kv := range m {
		if err := enc.EncodeString(kv.k); err != nil {
			return err
		}
		if err := enc.Encode(kv.v); err != nil {
			return err
		}
	}
	return nil
}

func TestMsgpackFrames(t *testing.T) {
	e := newEnv(t)
	c := e.dial()
	hdr := map[string]any{"Client-ID": testClient, "X-Project-ID": testProject}
	resp := c.doMsgpack(map[string]any{"action": "message_post", "headers": hdr, "body": map[string]any{"queue_name": "mp",
		"messages": []any{map[string]any{"body": map[string]any{"n": 7, "f": 1.0, "s": "é", "l": []any{1, 2}}, "ttl": 120}}}})
	if msgpackInt(resp["headers"].(map[string]any)["status"]) != 201 {
		t.Fatalf("post %v", resp)
	}
	// The request is echoed in msgpack too.
	if resp["request"].(map[string]any)["action"] != "message_post" || resp["request"].(map[string]any)["api"] != "v2" {
		t.Errorf("echo %v", resp["request"])
	}
	resp = c.doMsgpack(map[string]any{"action": "message_list", "headers": hdr, "body": map[string]any{"queue_name": "mp", "echo": true}})
	msgs := resp["body"].(map[string]any)["messages"].([]any)
	body := msgs[0].(map[string]any)["body"].(map[string]any)
	if msgpackInt(body["n"]) != 7 || body["f"] != 1.0 || body["s"] != "é" || !reflect.DeepEqual(len(body["l"].([]any)), 2) {
		t.Errorf("msgpack body %#v", body)
	}
	// The same message over JSON.
	b := c.mustDo(200, "message_list", map[string]any{"queue_name": "mp", "echo": true})
	if got := jsonOf(b.(map[string]any)["messages"].([]any)[0].(map[string]any)["body"]); got != `{"f":1,"l":[1,2],"n":7,"s":"é"}` {
		t.Errorf("json body %s", got)
	}

	// An undecodable binary frame is answered in binary.
	c.sendRaw(2, []byte{0xc1})
	_, data := c.read()
	var m map[string]any
	if err := msgpack.Unmarshal(data, &m); err != nil || msgpackInt(m["headers"].(map[string]any)["status"]) != 400 ||
		!strings.HasPrefix(m["body"].(map[string]any)["error"].(string), "Can't decode binary (MessagePack) request. ") {
		t.Errorf("bad binary frame: %v %v", m, err)
	}
}

// FuzzHandleFrame feeds arbitrary frames, as text and as binary, through the whole request path over a real
// Service. Every frame must get exactly one well-formed answer envelope in its own encoding, with a status,
// and never a panic; no answer may be a 500.
func FuzzHandleFrame(f *testing.F) {
	seeds := []string{
		`{"action": "queue_list", "headers": {"Client-ID": "3381af92-2b9e-11e3-b191-71861300734c", "X-Project-ID": "p"}}`,
		`{"action": "message_post", "headers": {"Client-ID": "3381af92-2b9e-11e3-b191-71861300734c", "X-Project-ID": "p"}, "body": {"queue_name": "q", "messages": [{"body": 1}]}}`,
		`{"action": "claim_create", "headers": {"Client-ID": "a", "X-Project-ID": "p"}, "body": {"queue_name": "q", "ttl": 60, "limit": 0}}`,
		`{"action": "message_delete_many", "headers": {"Client-ID": "a", "X-Project-ID": "p"}, "body": {"queue_name": "q", "message_ids": [1]}}`,
		`{"action": "subscription_create", "headers": {"Client-ID": "a", "X-Project-ID": "p"}, "body": {"queue_name": "q", "ttl": 0}}`,
		`{"action": "queue_create", "headers": {"Client-ID": "a", "X-Project-ID": "p", "URL-Signature": "x"}, "body": {"queue_name": "q", "metadata": {"_retry_policy": 1}}}`,
		`[1, 2]`, `"x"`, `{`, `{"action": null}`, "\xff", `{"action": "authenticate", "headers": {"X-Project-ID": "p", "X-Auth-Token": "t"}}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s), false)
		if mp, err := jsonToMsgpack([]byte(s)); err == nil {
			f.Add(mp, true)
		}
	}
	f.Add([]byte{0x81, 0xa6, 'a', 'c', 't', 'i', 'o', 'n', 0xc0}, true)
	e := newEnv(f)
	c := &conn{s: e.srv, id: "fuzz", subscriber: SubscriberScheme + ":fuzz", done: make(chan struct{}),
		finished: true} // finished: a frame's answer or push never starts a writer on this socketless conn
	f.Fuzz(func(t *testing.T, frame []byte, binary bool) {
		// The fake socket has no connection: forget any socket subscription a frame made before the next
		// frame's post could push to it.
		defer e.srv.push.dropConn(c, e.srv)
		out := e.srv.handleFrame(c, frame, binary)
		var m map[string]any
		if binary {
			if err := msgpack.Unmarshal(out, &m); err != nil {
				t.Fatalf("answer is not msgpack: %v", err)
			}
		} else if err := json.Unmarshal(out, &m); err != nil {
			t.Fatalf("answer is not JSON: %v: %s", err, out)
		}
		req, _ := m["request"].(map[string]any)
		hdr, _ := m["headers"].(map[string]any)
		if req == nil || req["api"] != "v2" || hdr == nil {
			t.Fatalf("bad envelope: %v", m)
		}
		var st int64
		switch v := hdr["status"].(type) {
		case float64:
			st = int64(v)
		default:
			st = msgpackInt(v)
		}
		if st < 200 || st >= 500 {
			t.Fatalf("status %d for %q: %v", st, frame, m)
		}
	})
}
