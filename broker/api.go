package broker

import (
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"github.com/zedge-io/zedge/internal/jsonw"
	"github.com/zedge-io/zedge/store"
)

// Records shared with the store; transports use them through these names.
type (
	Message      = store.Message
	Claim        = store.Claim
	Subscription = store.Subscription
	QueueStats   = store.QueueStats
	ClientID     = store.ClientID
)

// Caller identifies who makes a request: the project it acts in and its canonical Client-ID.
type Caller struct {
	Project  string
	ClientID ClientID
}

// Metadata is a queue's metadata: JSON values by key, kept raw so numbers and nesting round-trip exactly.
type Metadata map[string]json.RawMessage

// AppendJSON appends md as a JSON object with Python's ", " and ": " separators, as Zaqar writes it. Keys are
// sorted (a Go map keeps no order); a value that is somehow empty is written as null, so the output is
// always valid JSON. Both transports write metadata with it.
func (md Metadata) AppendJSON(b []byte) []byte {
	keys := make([]string, 0, len(md))
	for k := range md {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = jsonw.AppendString(b, k)
		b = append(b, ": "...)
		if v := md[k]; len(v) > 0 {
			b = append(b, v...)
		} else {
			b = append(b, "null"...)
		}
	}
	return append(b, '}')
}

// AppendSubscriptionJSON appends sub as Zaqar shows it, {"id", "source", "subscriber", "ttl", "age", "options",
// "confirmed"}, with its age at now. Both transports write subscriptions with it.
func AppendSubscriptionJSON(b []byte, sub *Subscription, now time.Time) []byte {
	b = append(b, `{"id": `...)
	b = jsonw.AppendString(b, sub.ID)
	b = append(b, `, "source": `...)
	b = jsonw.AppendString(b, sub.Queue)
	b = append(b, `, "subscriber": `...)
	b = jsonw.AppendString(b, sub.Subscriber)
	b = append(b, `, "ttl": `...)
	b = strconv.AppendInt(b, int64(sub.TTL/time.Second), 10)
	b = append(b, `, "age": `...)
	b = strconv.AppendInt(b, AgeSeconds(now, sub.Created), 10)
	b = append(b, `, "options": `...)
	if len(sub.Options) == 0 {
		b = append(b, "{}"...)
	} else {
		b = append(b, sub.Options...)
	}
	b = append(b, `, "confirmed": `...)
	b = strconv.AppendBool(b, sub.Confirmed)
	return append(b, '}')
}

// AgeSeconds is the whole seconds from t to now, never negative (0 for a zero t): the "age" of Zaqar's
// messages, claims and subscriptions.
func AgeSeconds(now, t time.Time) int64 {
	if t.IsZero() || now.Before(t) {
		return 0
	}
	return now.Unix() - t.Unix()
}

// QueueListOptions selects queues (GET /v2/queues).
type QueueListOptions struct {
	Marker    string
	Limit     int // 0 means the default (10)
	Detailed  bool
	Name      string            // substring filter on the name
	Filters   map[string]string // metadata key = value filters
	WithCount bool
}

// QueueItem is one queue of a listing.
type QueueItem struct {
	Name     string
	Metadata Metadata // only when Detailed; reserved defaults filled in
}

// QueueList is a page of queues.
type QueueList struct {
	Queues []QueueItem
	// Count is the number of queues of the project, set when WithCount was asked and the project has any.
	Count    int
	HasCount bool
}

// MessageListOptions selects messages (GET .../messages).
type MessageListOptions struct {
	Marker         string
	Limit          int // 0 means the default (10)
	Echo           bool
	IncludeClaimed bool
	IncludeDelayed *bool // nil: the queue's default
}

// MessageList is a page of messages.
type MessageList struct {
	Messages []Message
	// Marker resumes after the last message; "" when the page is empty.
	Marker string
	// IncludeDelayed is the effective value (forced true on queues without _default_message_delay), for the
	// next link.
	IncludeDelayed bool
}

// ClaimOptions is a claim request. Nil TTL or Grace means the configured default (also for renewals).
type ClaimOptions struct {
	TTL   *int
	Grace *int
	Limit int // 0 means the default (10)
}

// PostEvent tells observers about messages that were just stored.
type PostEvent struct {
	Project  string
	Queue    string
	Messages []Message // as stored: ID, Body, TTL, Created, ClientID
}

// Observer is told after every successful post, whatever the transport. MessagesPosted must not block: an
// observer that does work hands the event to its own bounded worker.
type Observer interface {
	MessagesPosted(ev PostEvent)
}

// SubscriptionEventKind says what happened to a subscription.
type SubscriptionEventKind uint8

// Subscription event kinds.
const (
	// SubscriptionCreated: a subscription was created, or an unconfirmed duplicate was posted again (Existing);
	// Zaqar sends the confirmation notification in both cases.
	SubscriptionCreated SubscriptionEventKind = iota + 1
	// SubscriptionUpdated: its subscriber, ttl or options changed (PATCH).
	SubscriptionUpdated
	// SubscriptionConfirmed and SubscriptionUnconfirmed: confirm with {"confirmed": true} or false.
	SubscriptionConfirmed
	SubscriptionUnconfirmed
	// SubscriptionDeleted: deleted by id; the event's Subscription carries only ID and Queue.
	SubscriptionDeleted
	// SubscriptionsPurged: every subscription of a queue was removed (purge); only Queue is set.
	SubscriptionsPurged
)

// SubscriptionEvent tells observers about a successful subscription change, whatever the transport.
type SubscriptionEvent struct {
	Kind         SubscriptionEventKind
	Project      string
	Subscription Subscription
	// Existing marks a SubscriptionCreated that returned an unconfirmed duplicate.
	Existing bool
}

// SubscriptionObserver is an optional extension of Observer: a registered observer that also implements it is
// told about subscription changes (notification delivery sends confirmations; the websocket transport drops
// the socket subscriptions deleted elsewhere). Like MessagesPosted, SubscriptionChanged must not block.
type SubscriptionObserver interface {
	SubscriptionChanged(ev SubscriptionEvent)
}

// HealthReport is the body of GET /v2/health.
type HealthReport struct {
	StorageReachable bool                       `json:"storage_reachable"`
	OperationStatus  map[string]OperationStatus `json:"operation_status"`
}

// OperationStatus is one step of the health self-test.
type OperationStatus struct {
	Succeeded bool    `json:"succeeded"`
	Seconds   float64 `json:"seconds"`
	Ref       *string `json:"ref"`
}

// Clock returns the current time; tests substitute their own.
type Clock func() time.Time
