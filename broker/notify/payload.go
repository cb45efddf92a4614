package notify

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/zedge-io/zedge/broker"
	"github.com/zedge-io/zedge/signing"
)

// pythonJSON rewrites compact or spaced JSON with Python json.dumps' separators (", " and ": "), so a
// notification body reads as Zaqar's does; strings are kept byte for byte.
func pythonJSON(dst, raw []byte) []byte {
	inString, escaped := false, false
	for _, c := range raw {
		if inString {
			dst = append(dst, c)
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case ' ', '\t', '\n', '\r':
		case '"':
			inString = true
			dst = append(dst, c)
		case ',':
			dst = append(dst, ", "...)
		case ':':
			dst = append(dst, ": "...)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

func appendString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // escapes as Go does; HTML-safe escapes are valid JSON
	return append(b, q...)
}

// messagePayload is spec §11.2's notification of one message:
// {"ttl", "body", ("delay"), "Message_Type": "Notification", "queue_name"}.
func messagePayload(m *broker.Message, queue string) []byte {
	b := make([]byte, 0, len(m.Body)+96)
	b = append(b, `{"ttl": `...)
	b = strconv.AppendInt(b, int64(m.TTL/time.Second), 10)
	b = append(b, `, "body": `...)
	if len(m.Body) == 0 {
		b = append(b, "null"...)
	} else {
		b = pythonJSON(b, m.Body)
	}
	if m.DelayUntil.After(m.Created) {
		b = append(b, `, "delay": `...)
		b = strconv.AppendInt(b, int64(m.DelayUntil.Sub(m.Created)/time.Second), 10)
	}
	b = append(b, `, "Message_Type": "Notification", "queue_name": `...)
	b = appendString(b, queue)
	return append(b, '}')
}

// Confirmation message types and texts (spec §11.4).
const (
	typeSubscribe   = "SubscriptionConfirmation"
	typeUnsubscribe = "UnsubscribeConfirmation"
)

// confirmation is a confirmation notification and the signed URL inside it.
type confirmation struct {
	payload []byte
	url     signing.SignedURL
}

// confirmPath is the path a confirmation grants PUT on.
func confirmPath(queue, id string) string {
	return "/v2/queues/" + queue + "/subscriptions/" + id + "/confirm"
}

// confirmationPayload builds Zaqar's confirmation notification, signed with ring until expires.
func confirmationPayload(ring *signing.KeyRing, project string, sub *broker.Subscription, unsubscribe bool,
	expires time.Time) (confirmation, error) {
	su, err := ring.Sign(signing.URLGrant{Paths: []string{confirmPath(sub.Queue, sub.ID)}, Methods: []string{"PUT"},
		Project: project, Expires: expires})
	if err != nil {
		return confirmation{}, err
	}
	msgType, text := typeSubscribe, "You have chosen to subscribe to the queue: "+sub.Queue
	if unsubscribe {
		msgType = typeUnsubscribe
		text = "You have unsubscribed successfully to the queue: " + sub.Queue +
			", you can resubscribe it by using confirmed=True."
	}
	b := []byte(`{"Message_Type": `)
	b = appendString(b, msgType)
	b = append(b, `, "Message": `...)
	b = appendString(b, text)
	b = append(b, `, "URL-Signature": `...)
	b = appendString(b, su.Signature)
	b = append(b, `, "URL-Methods": `...)
	b = appendString(b, su.Methods[0])
	b = append(b, `, "URL-Paths": `...)
	b = appendString(b, su.Paths[0])
	b = append(b, `, "X-Project-ID": `...)
	b = appendString(b, project)
	b = append(b, `, "URL-Expires": `...)
	b = appendString(b, signing.FormatExpires(su.Expires))
	b = append(b, `, "SubscribeBody": {"confirmed": true}, "UnsubscribeBody": {"confirmed": false}, "queue_name": `...)
	b = appendString(b, sub.Queue)
	return confirmation{payload: append(b, '}'), url: su}, nil
}

// applyTemplate renders options.post_data: every "$zaqar_message$" (with its quotes) becomes the payload.
func applyTemplate(template string, payload []byte) []byte {
	return []byte(strings.ReplaceAll(template, `"$zaqar_message$"`, string(payload)))
}
