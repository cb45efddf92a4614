package bridge

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"
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
// A payload that is valid JSON is embedded byte for byte under "payload" (nested rather than merged, so its
// keys never collide with ours and arrays and scalars work alike), with "content_type" added when the publisher
// gave one. Any other payload, or any payload when binary is true, is carried as base64 under
// "payload_base64" with "content_type" (the publisher's, else application/octet-stream). An empty payload is not
// JSON, so it becomes "payload_base64": "".
func AppendEnvelope(dst, payload []byte, m Meta, binary bool) []byte {
	dst = append(dst, `{"topic":`...)
	dst = appendJSONString(dst, m.Topic)
	dst = append(dst, `,"device":`...)
	dst = appendJSONString(dst, m.Device)
	dst = append(dst, `,"received_at":"`...)
	dst = m.ReceivedAt.UTC().AppendFormat(dst, receivedAtLayout)
	dst = append(dst, '"')
	if !binary && maybeJSON(payload) && json.Valid(payload) {
		if m.ContentType != "" {
			dst = append(dst, `,"content_type":`...)
			dst = appendJSONString(dst, m.ContentType)
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
	dst = appendJSONString(dst, ct)
	dst = append(dst, `,"payload_base64":"`...)
	dst = base64.StdEncoding.AppendEncode(dst, payload)
	return append(dst, `"}`...)
}

// maybeJSON is a cheap first look before json.Valid, which allocates its error for every binary payload: JSON
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
	dst = appendJSONString(dst, id)
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
	dst = appendJSONString(dst, id)
	dst = append(dst, `,"device":`...)
	dst = appendJSONString(dst, device)
	dst = append(dst, `,"queue":`...)
	dst = appendJSONString(dst, queue)
	dst = append(dst, `,"status":"acked","via":`...)
	dst = appendJSONString(dst, via)
	dst = append(dst, `,"acked_at":"`...)
	dst = at.UTC().AppendFormat(dst, receivedAtLayout)
	dst = append(dst, '"')
	if len(reply) > 0 {
		dst = append(dst, `,"reply":`...)
		dst = append(dst, reply...)
	}
	return append(dst, '}')
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD, so the result is always valid
// JSON; < > & are left as they are (the bodies are not HTML).
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		// U+2028 and U+2029 are valid JSON but break JavaScript string literals; escape them as encoding/json does.
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
