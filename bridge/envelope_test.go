package bridge

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/zedge-io/zedge/broker"
)

var testTime = time.Date(2026, 11, 22, 2, 12, 47, 120_000_000, time.FixedZone("CET", 3600))

type envelope struct {
	Topic         string          `json:"topic"`
	Device        string          `json:"device"`
	ReceivedAt    string          `json:"received_at"`
	ContentType   *string         `json:"content_type"`
	Payload       json.RawMessage `json:"payload"`
	PayloadBase64 *string         `json:"payload_base64"`
}

func TestEnvelopeShapes(t *testing.T) {
	meta := Meta{Topic: "sensors/b1/r101/temp", Device: "s-17", ReceivedAt: testTime}
	tests := []struct {
		name    string
		payload string
		meta    Meta
		binary  bool
		want    string
	}{
		{"json object", `{"value": 21.5}`, meta, false,
			`{"topic":"sensors/b1/r101/temp","device":"s-17","received_at":"2026-11-22T01:12:47.120Z","payload":{"value": 21.5}}`},
		{"json scalar", `21.5`, meta, false,
			`{"topic":"sensors/b1/r101/temp","device":"s-17","received_at":"2026-11-22T01:12:47.120Z","payload":21.5}`},
		{"json with content type", `[1]`, Meta{Topic: "t", Device: "d", ReceivedAt: testTime, ContentType: "application/json"}, false,
			`{"topic":"t","device":"d","received_at":"2026-11-22T01:12:47.120Z","content_type":"application/json","payload":[1]}`},
		{"text", `21.5 C`, meta, false,
			`{"topic":"sensors/b1/r101/temp","device":"s-17","received_at":"2026-11-22T01:12:47.120Z","content_type":"application/octet-stream","payload_base64":"MjEuNSBD"}`},
		{"empty", ``, meta, false,
			`{"topic":"sensors/b1/r101/temp","device":"s-17","received_at":"2026-11-22T01:12:47.120Z","content_type":"application/octet-stream","payload_base64":""}`},
		{"forced binary", `{}`, Meta{Topic: "t", Device: "d", ReceivedAt: testTime, ContentType: "text/plain"}, true,
			`{"topic":"t","device":"d","received_at":"2026-11-22T01:12:47.120Z","content_type":"text/plain","payload_base64":"e30="}`},
		{"integer the Service refuses", `{"n": 99999999999999999999}`, meta, false,
			`{"topic":"sensors/b1/r101/temp","device":"s-17","received_at":"2026-11-22T01:12:47.120Z","content_type":"application/octet-stream","payload_base64":"eyJuIjogOTk5OTk5OTk5OTk5OTk5OTk5OTl9"}`},
		{"forged member", `1,"device":"forged"`, meta, false,
			`{"topic":"sensors/b1/r101/temp","device":"s-17","received_at":"2026-11-22T01:12:47.120Z","content_type":"application/octet-stream","payload_base64":"MSwiZGV2aWNlIjoiZm9yZ2VkIg=="}`},
		{"escaped", `1`, Meta{Topic: "a\"b\\c\n\u2028", Device: "\xff", ReceivedAt: testTime}, false,
			`{"topic":"a\"b\\c\n\u2028","device":"\ufffd","received_at":"2026-11-22T01:12:47.120Z","payload":1}`},
	}
	for _, tt := range tests {
		got := string(AppendEnvelope(nil, []byte(tt.payload), tt.meta, tt.binary))
		if got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.want)
		}
		if !json.Valid([]byte(got)) {
			t.Errorf("%s: not JSON: %s", tt.name, got)
		}
	}
}

func TestPostBody(t *testing.T) {
	for ttl, want := range map[int]string{0: `{"messages":[{"body":{"a":1}}]}`, 90: `{"messages":[{"ttl":90,"body":{"a":1}}]}`} {
		got := append(appendPostStart(nil, ttl), `{"a":1}`...)
		got = append(got, postEnd...)
		if string(got) != want {
			t.Errorf("ttl %d: %s, want %s", ttl, got, want)
		}
	}
}

func TestCommandAndResult(t *testing.T) {
	got := string(AppendCommand(nil, "6a1b", []byte(`{"set":21}`), 300*time.Second, 2500*time.Millisecond))
	if want := `{"id":"6a1b","body":{"set":21},"ttl":300,"age":2}`; got != want {
		t.Errorf("command %s, want %s", got, want)
	}
	got = string(AppendResult(nil, "6a1b", "ac-12", "cmd-ac-12", ViaReply, testTime, []byte(`{"id":"6a1b","ok":true}`)))
	want := `{"id":"6a1b","device":"ac-12","queue":"cmd-ac-12","status":"acked","via":"reply",` +
		`"acked_at":"2026-11-22T01:12:47.120Z","reply":{"id":"6a1b","ok":true}}`
	if got != want {
		t.Errorf("result %s, want %s", got, want)
	}
}

func TestParseReply(t *testing.T) {
	for payload, want := range map[string]string{
		`{"id":"m1"}`:                   "m1",
		` {"id":"m1","status":"done"}`:  "m1",
		`{"status":"done","id":"m-2"} `: "m-2",
		`{"id":""}`:                     "",
		`{"id":12}`:                     "",
		`["m1"]`:                        "",
		`"m1"`:                          "",
		`{"id":"m1"`:                    "",
		``:                              "",
		`{"id":null}`:                   "",
		`{"ID":"m1"}`:                   "m1", // encoding/json matches keys case-insensitively
		`{"id":"` + string(make([]byte, 200)) + `"}`: "",
	} {
		got, err := ParseReply([]byte(payload))
		if got != want || (want == "") != errors.Is(err, ErrBadReply) {
			t.Errorf("ParseReply(%q) = %q, %v; want %q", payload, got, err, want)
		}
	}
}

// FuzzEnvelope: every envelope is valid JSON that gives back the topic, the device (valid UTF-8 ones exactly)
// and the payload, byte for byte.
func FuzzEnvelope(f *testing.F) {
	f.Add([]byte(`{"value":21.5}`), "sensors/b1/r101/temp", "s-17", "", false)
	f.Add([]byte("\x00\xff"), "t", "d", "image/png", false)
	f.Add([]byte(` [1, 2] `), "a\"\\", "\xe2\x80\xa8", "", true)
	f.Fuzz(func(t *testing.T, payload []byte, topic, device, contentType string, binary bool) {
		env := AppendEnvelope([]byte("prefix"), payload, Meta{Topic: topic, Device: device, ReceivedAt: testTime,
			ContentType: contentType}, binary)
		env = env[len("prefix"):]
		var e envelope
		if err := json.Unmarshal(env, &e); err != nil {
			t.Fatalf("envelope is not JSON: %v\n%s", err, env)
		}
		if utf8.ValidString(topic) && e.Topic != topic {
			t.Fatalf("topic %q came back as %q", topic, e.Topic)
		}
		if utf8.ValidString(device) && e.Device != device {
			t.Fatalf("device %q came back as %q", device, e.Device)
		}
		if e.ReceivedAt != "2026-11-22T01:12:47.120Z" {
			t.Fatalf("received_at %q", e.ReceivedAt)
		}
		switch {
		case e.PayloadBase64 != nil:
			if e.Payload != nil {
				t.Fatal("both payload forms")
			}
			raw, err := base64.StdEncoding.DecodeString(*e.PayloadBase64)
			if err != nil || !bytes.Equal(raw, payload) {
				t.Fatalf("base64 payload %q, want %q (%v)", raw, payload, err)
			}
			if !binary && broker.ValidBody(payload) == nil {
				t.Fatal("valid JSON payload carried as base64")
			}
		default:
			if binary || !bytes.Equal(e.Payload, bytes.TrimSpace(payload)) {
				t.Fatalf("payload %q, want %q", e.Payload, payload)
			}
		}
	})
}

// FuzzParseReply: a reply is accepted exactly when it is a JSON object whose id is a non-empty string.
func FuzzParseReply(f *testing.F) {
	f.Add([]byte(`{"id":"m1","ok":true}`))
	f.Add([]byte(`{"id":1}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		id, err := ParseReply(payload)
		if err != nil {
			return
		}
		var v map[string]any
		if json.Unmarshal(payload, &v) != nil || id == "" {
			t.Fatalf("ParseReply(%q) accepted %q", payload, id)
		}
	})
}
