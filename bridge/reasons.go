package bridge

import (
	"errors"
	"sync/atomic"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/zedge-io/zedge/broker"
)

// MQTT 5 reason codes the bridge gives, with their reason strings. MQTT 3.1.1 has no reason codes on PUBACK:
// a 3.1.1 publisher is disconnected instead (so it keeps the message and sends it again), and CONNACK codes
// are mapped to 3.1.1 return codes by the MQTT server.
var (
	codeClientIDReserved  = packets.Code{Code: 0x85, Reason: "client identifier reserved"}
	codeDeviceIDInvalid   = packets.Code{Code: 0x85, Reason: "token subject is not usable as a device id"}
	codeClientIDNotDevice = packets.Code{Code: 0x85, Reason: "a device must connect with its device id as client identifier"}
	codeWillNotAuthorized = packets.Code{Code: 0x87, Reason: "will topic not authorized"}

	codeBadQueue       = packets.Code{Code: 0x90, Reason: "topic maps to an invalid queue name"}
	codeBadDevice      = packets.Code{Code: 0x90, Reason: "topic names a device id that makes no valid queue name"}
	codeReservedTopic  = packets.Code{Code: 0x90, Reason: "topics beginning with $ are reserved for the server"}
	codeQueueForbidden = packets.Code{Code: 0x87, Reason: "token does not grant the queue this topic maps to"}
	codeBusy           = packets.Code{Code: 0x97, Reason: "quota exceeded: the store is busy, publish again later"}
	codeBadReply       = packets.Code{Code: 0x99, Reason: "reply must be a JSON object with a string id"}
	codeClosing        = packets.Code{Code: 0x8B, Reason: "server shutting down"}
)

// reasonFor maps a Service error to the reason code a publisher gets: the one table from domain error kinds to
// MQTT. The reason string carries Zaqar's description.
func reasonFor(err error) packets.Code {
	code := byte(0x80) // unspecified error: the store failed
	switch {
	case errors.Is(err, broker.ErrBadQueueName):
		code = 0x90 // topic name invalid: it maps to no valid queue
	case errors.Is(err, broker.ErrForbidden):
		code = 0x87 // not authorized
	case errors.Is(err, broker.ErrInvalid), errors.Is(err, broker.ErrBadBody):
		code = 0x99 // payload format invalid: too large for the queue, or a body the queue refuses
	case errors.Is(err, broker.ErrUnavailable):
		code = 0x80
	}
	reason := broker.Describe(err)
	if reason == "" {
		reason = "message could not be stored"
	}
	return packets.Code{Code: code, Reason: reason}
}

// counter names one of the bridge's counters.
type counter uint8

const (
	cConnectOK counter = iota
	cConnectToken
	cConnectClientID
	cConnectWill
	cDroppedExpired
	cDroppedRevoked
	cDeniedPublish
	cDeniedSubscribe
	cIngested
	cIngestRefused
	cIngestBusy
	cIngestBinaryFallback
	cCommandsPosted
	cCommandsDelivered
	cCommandsAcked
	cCommandReplies
	cCommandRepliesBad
	cClaimErrors
	cResultErrors
	numCounters
)

var counterNames = [numCounters]string{
	cConnectOK:            "connect.ok",
	cConnectToken:         "connect.refused.token",
	cConnectClientID:      "connect.refused.client_id",
	cConnectWill:          "connect.refused.will",
	cDroppedExpired:       "connection.dropped.token_expired",
	cDroppedRevoked:       "connection.dropped.token_revoked",
	cDeniedPublish:        "acl.denied.publish",
	cDeniedSubscribe:      "acl.denied.subscribe",
	cIngested:             "telemetry.stored",
	cIngestRefused:        "telemetry.refused",
	cIngestBusy:           "telemetry.busy",
	cIngestBinaryFallback: "telemetry.stored_as_base64",
	cCommandsPosted:       "commands.posted_over_mqtt",
	cCommandsDelivered:    "commands.delivered",
	cCommandsAcked:        "commands.acked",
	cCommandReplies:       "commands.replies",
	cCommandRepliesBad:    "commands.replies.refused",
	cClaimErrors:          "commands.claim_errors",
	cResultErrors:         "commands.result_errors",
}

type counters [numCounters]atomic.Uint64

func (b *Bridge) count(c counter) { b.counters[c].Add(1) }

// Counters returns every counter by name, zero or not: connections accepted and refused by reason, ACL
// denials, telemetry stored and refused, commands delivered and acknowledged.
func (b *Bridge) Counters() map[string]uint64 {
	out := make(map[string]uint64, numCounters)
	for i := range b.counters {
		out[counterNames[i]] = b.counters[i].Load()
	}
	return out
}
