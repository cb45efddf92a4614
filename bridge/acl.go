package bridge

import (
	"crypto/sha256"
	"errors"
	"strings"

	"github.com/zedge-io/zedge/broker"
	"github.com/zedge-io/zedge/signing"
)

// session is what the bridge knows about one connected client, from its CONNECT.
type session struct {
	caller broker.Caller // project, and a Client-ID derived from the device id
	// device is the client's device id: the token subject, or without auth its username or client id. Empty
	// when it is not usable as a topic level.
	device string
	// operator: may publish and subscribe anywhere (member or admin role; every client without auth).
	operator bool
	// claims holds only the token's queues claim (queuesClaim), for AllowsQueue; nil without auth.
	claims *signing.Claims
	// token is checked again every credential_check (checkCredentials); nil without auth.
	token *Token
	// ns is the namespace of the client's topics and client id in the MQTT server (namespaceOf its project).
	ns string
}

// deviceClientID derives a stable Zaqar Client-ID (a version 8 UUID) from a device id, so that the messages a
// device posts over MQTT carry the same Client-ID across connections (echo filtering keeps working).
func deviceClientID(project, device string) broker.ClientID {
	h := sha256.Sum256([]byte("zedge-mqtt\x00" + project + "\x00" + device))
	var id broker.ClientID
	copy(id[:], h[:16])
	id[6] = id[6]&0x0f | 0x80 // version 8
	id[8] = id[8]&0x3f | 0x80 // RFC 9562 variant
	return id
}

// aclPatterns are the configured device filters, compiled, with the index of {device} in each.
type aclPatterns struct {
	publish, subscribe []boundPattern
}

type boundPattern struct {
	p         Pattern
	deviceVar int
}

func compileACL(c ACLConfig) (aclPatterns, error) {
	var a aclPatterns
	for _, f := range c.DevicePublish {
		p, err := ParsePattern(f)
		if err != nil {
			return a, err
		}
		a.publish = append(a.publish, boundPattern{p, p.VarIndex(DeviceVar)})
	}
	for _, f := range c.DeviceSubscribe {
		p, err := ParsePattern(f)
		if err != nil {
			return a, err
		}
		a.subscribe = append(a.subscribe, boundPattern{p, p.VarIndex(DeviceVar)})
	}
	return a, nil
}

// mayPublish decides whether a client may publish to topic.
//
// No client publishes to a topic beginning with $: those are the server's ([MQTT-4.7.2]); the MQTT server
// refuses $SYS itself, and any other would land in the client's namespace, where no $ filter (kept global)
// could match it. Otherwise operators may publish anywhere. A device never publishes to a command topic (commands enter through their
// queue, so they are tracked and acknowledged). Otherwise it may publish to a topic of a telemetry rule, when the
// rule names no {device} or names its own id, and the token's queues claim covers the derived queue; to its own
// ack topics; and within the configured device_publish filters with {device} as its own id.
func (b *Bridge) mayPublish(s *session, topic string) bool {
	if strings.HasPrefix(topic, "$") {
		return false
	}
	if s.operator {
		return true
	}
	if s.device == "" || b.mapper.IsCommandTopic(topic) {
		return false
	}
	route, err := b.mapper.Telemetry(topic)
	if err == nil || errors.Is(err, ErrBadQueue) {
		if route.Device != "" && route.Device != s.device {
			return false
		}
		// An invalid derived name is let through here so that the publish is refused with the precise reason.
		return err != nil || s.claims == nil || s.claims.AllowsQueue(route.Queue)
	}
	for i := range b.mapper.commands {
		c := &b.mapper.commands[i]
		if c.hasAck && c.ack.Covers(topic, 0, s.device) {
			return true
		}
	}
	for _, bp := range b.acl.publish {
		if bp.p.Covers(topic, bp.deviceVar, s.device) {
			return true
		}
	}
	return false
}

// maySubscribe decides whether a client may subscribe to filter (and, per message, receive on a topic).
// Operators may subscribe anywhere; a device to filters within its own command topics and the configured
// device_subscribe filters.
func (b *Bridge) maySubscribe(s *session, filter string) bool {
	if s.operator {
		return true
	}
	if s.device == "" {
		return false
	}
	for i := range b.mapper.commands {
		if b.mapper.commands[i].topic.Covers(filter, 0, s.device) {
			return true
		}
	}
	for _, bp := range b.acl.subscribe {
		if bp.p.Covers(filter, bp.deviceVar, s.device) {
			return true
		}
	}
	return false
}
