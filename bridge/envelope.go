package bridge

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"time"

	"github.com/zedge-io/zedge/broker"
	"github.com/zedge-io/zedge/internal/jsonw"
)

// Meta describes a publish for its envelope.
type Meta struct {
	Topic       string
	Device      string    // the publisher's device id (token subject; username or client id without auth)
	ReceivedAt  time.Time // when the broker read the publish
	ContentType string    // the MQTT 5 content type, "" when absent
}

// DefaultBinaryContentType labels a non-JSON payload that came without an MQTT 5 content type.
const DefaultBinaryContentType = "application/octet-stream"

// receivedAtLayout is RFC 3339 in UTC with milliseconds.
const receivedAtLayout = "2006-01-02T15:04:05.000Z07:00"

// AppendEnvelope appends the message body that carries an MQTT payload in a queue:
//
//	{"topic": "sensors/b1/r101/temp", "device": "s-17", "received_at": "2026-11-22T02:12:47.120Z",
//	 "payload": {"value": 21.5}}
//
// A payload that is valid JSON as the Service accepts a message body (broker.ValidBody: one value, no integer
// outside int64) is embedded byte for byte under "payload" (nested rather than merged, so its keys never collide
// with ours and arrays and scalars work alike), with "content_type" added when the publisher gave one. Any other
// payload, or any payload when binary is true, is carried as base64 under
// "payload_base64" with "content_type" (the publisher's, else application/octet-stream). An empty payload is not
// JSON, so it becomes "payload_base64": "".
func AppendEnvelope(dst, payload []byte, m Meta, binary bool) []byte {
	return appendEnvelope(dst, payload, m, !binary && storableJSON(payload))
}

// storableJSON reports whether payload can be embedded as JSON: the Service's own rule for a body. It is
// checked on the payload alone, before embedding: an envelope's validity would not do, since a payload such as
// 1,"topic":"x" is not JSON but makes a valid envelope with a forged member.
func storableJSON(payload []byte) bool {
	return maybeJSON(payload) && broker.ValidBody(payload) == nil
}

// appendEnvelope is AppendEnvelope once the payload's form is decided (asJSON only for a storableJSON payload).
func appendEnvelope(dst, payload []byte, m Meta, asJSON bool) []byte {
	dst = append(dst, `{"topic":`...)
	dst = jsonw.AppendString(dst, m.Topic)
	dst = append(dst, `,"device":`...)
	dst = jsonw.AppendString(dst, m.Device)
	dst = append(dst, `,"received_at":"`...)
	dst = m.ReceivedAt.UTC().AppendFormat(dst, receivedAtLayout)
	dst = append(dst, '"')
	if asJSON {
		if m.ContentType != "" {
			dst = append(dst, `,"content_type":`...)
			dst = jsonw.AppendString(dst, m.ContentType)
		}
		dst = append(dst, `,"payload":`...)
		dst = append(dst, payload...)
		return append(dst, '}')
	}
	ct := m.ContentType
	if ct == "" {
		ct = DefaultBinaryContentType
	}
	dst = append(dst, `,"content_type":`...)
	dst = jsonw.AppendString(dst, ct)
	dst = append(dst, `,"payload_base64":"`...)
	dst = base64.StdEncoding.AppendEncode(dst, payload)
	return append(dst, `"}`...)
}

// maybeJSON is a cheap first look before the full check, which builds an error for every binary payload: JSON
// text starts, after white space, with one of {["-0-9tfn.
func maybeJSON(p []byte) bool {
	for _, c := range p {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '{', '[', '"', '-', 't', 'f', 'n':
			return true
		}
		return c >= '0' && c <= '9'
	}
	return false
}

// appendPostStart appends the start of a Zaqar post body holding one message, up to its body:
// {"messages":[{"ttl":N,"body": — the ttl left out when it is 0 (the queue's default applies). postEnd closes
// it after the body.
func appendPostStart(dst []byte, ttl int) []byte {
	dst = append(dst, `{"messages":[{`...)
	if ttl > 0 {
		dst = append(dst, `"ttl":`...)
		dst = strconv.AppendInt(dst, int64(ttl), 10)
		dst = append(dst, ',')
	}
	return append(dst, `"body":`...)
}

const postEnd = "}]}"

// AppendCommand appends what a device receives on its command topic: the queue message as Zaqar lists it,
// without href or checksum:
//
//	{"id": "<message id>", "body": <body as posted>, "ttl": 300, "age": 2}
//
// The device acknowledges with its PUBACK, or by replying {"id": "<message id>", ...} on its ack topic.
func AppendCommand(dst []byte, id string, body []byte, ttl, age time.Duration) []byte {
	dst = append(dst, `{"id":`...)
	dst = jsonw.AppendString(dst, id)
	dst = append(dst, `,"body":`...)
	if len(body) == 0 {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, body...)
	}
	dst = append(dst, `,"ttl":`...)
	dst = strconv.AppendInt(dst, int64(ttl/time.Second), 10)
	dst = append(dst, `,"age":`...)
	dst = strconv.AppendInt(dst, max(int64(age/time.Second), 0), 10)
	return append(dst, '}')
}

// ParseReply reads the command id from a reply published on an ack topic: a JSON object with a non-empty
// string "id". Other members are the device's business and are kept in the result record.
func ParseReply(payload []byte) (string, error) {
	trimmed := bytes.TrimLeft(payload, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return "", ErrBadReply
	}
	var r struct {
		ID *string `json:"id"`
	}
	if err := json.Unmarshal(payload, &r); err != nil || r.ID == nil || *r.ID == "" || len(*r.ID) > 128 {
		return "", ErrBadReply
	}
	return *r.ID, nil
}

// Result "via" values: how a command was acknowledged.
const (
	ViaPuback = "puback"
	ViaReply  = "reply"
)

// AppendResult appends the status record posted to a results queue when a command is acknowledged:
//
//	{"id": "<command id>", "device": "ac-12", "queue": "cmd-ac-12", "status": "acked", "via": "puback",
//	 "acked_at": "2026-11-22T02:12:49.051Z"}
//
// with "reply": <the reply payload> added for a reply (which ParseReply has checked to be JSON).
func AppendResult(dst []byte, id, device, queue, via string, at time.Time, reply []byte) []byte {
	dst = append(dst, `{"id":`...)
	dst = jsonw.AppendString(dst, id)
	dst = append(dst, `,"device":`...)
	dst = jsonw.AppendString(dst, device)
	dst = append(dst, `,"queue":`...)
	dst = jsonw.AppendString(dst, queue)
	dst = append(dst, `,"status":"acked","via":`...)
	dst = jsonw.AppendString(dst, via)
	dst = append(dst, `,"acked_at":"`...)
	dst = at.UTC().AppendFormat(dst, receivedAtLayout)
	dst = append(dst, '"')
	if len(reply) > 0 {
		dst = append(dst, `,"reply":`...)
		dst = append(dst, reply...)
	}
	return append(dst, '}')
}
