package bridge

import (
	"errors"
	"strings"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/zedge-io/zedge/broker"
)

// onPublish runs for every publish the MQTT server accepted past the ACL, before it acknowledges or routes it.
//
//   - The inline client's publishes (commands the bridge hands to devices) pass untouched: nothing the bridge
//     publishes ever re-enters a queue (loop guard).
//   - A topic of a telemetry rule is stored in its queue first; only then does the server send the PUBACK and
//     route the message to subscribers. A store failure refuses the publish (refuse).
//   - A device's command topic, published by an operator, is posted to the device's command queue instead of
//     being routed, so that it is delivered, tracked and acknowledged like a command posted over REST.
//   - A device's ack topic acknowledges the command named in the reply, then is routed as usual.
//   - Any other topic is plain MQTT.
func (b *Bridge) onPublish(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	if cl.Net.Inline {
		return pk, nil
	}
	if b.isClosing() {
		// Stop reading this connection now, from its own goroutine (which holds no read in progress, so the
		// close does not wait). A shutdown under a flood otherwise read and refused every device's socket
		// backlog, while the server disconnected clients one at a time, each close waiting for that
		// connection's reader, one of a thousand runnable ones, to be scheduled: it outlasted any deadline.
		// Nothing here was acknowledged; a QoS 1 device sends it again after reconnecting.
		cl.Stop(packets.ErrServerShuttingDown)
		return pk, packets.ErrRejectPacket
	}
	s := b.session(cl)
	if s == nil {
		return b.refuse(cl, pk, packets.ErrNotAuthorized)
	}
	route, err := b.mapper.Telemetry(pk.TopicName)
	switch {
	case err == nil:
		return b.ingest(cl, s, pk, route)
	case errors.Is(err, ErrBadQueue):
		b.count(cIngestRefused)
		b.log.Debug("telemetry refused", "topic", pk.TopicName, "queue", route.Queue, "reason", "invalid queue name")
		return b.refuse(cl, pk, codeBadQueue)
	}
	if cr, ok := b.mapper.CommandTopic(pk.TopicName); ok {
		return b.postCommand(cl, s, pk, cr)
	} else if b.mapper.IsCommandTopic(pk.TopicName) {
		return b.refuse(cl, pk, codeBadDevice)
	}
	if cr, ok := b.mapper.AckTopic(pk.TopicName); ok {
		return b.reply(cl, s, pk, cr)
	}
	return pk, nil
}

// refuse turns a failed publish into the answer its sender can act on. MQTT 5 QoS 1/2: a PUBACK (QoS 2: a
// PUBREC) with the reason code; nothing is routed. MQTT 3.1.1 QoS 1/2 has no negative
// acknowledgement, and acknowledging would claim the message was stored: the client is disconnected, keeps
// the message and sends it again when it reconnects. QoS 0: dropped (and counted), as QoS 0 allows.
func (b *Bridge) refuse(cl *mqtt.Client, pk packets.Packet, code packets.Code) (packets.Packet, error) {
	if pk.FixedHeader.Qos == 0 {
		return pk, packets.ErrRejectPacket
	}
	if cl.Properties.ProtocolVersion >= 5 {
		if pk.FixedHeader.Qos == 2 {
			// The server would answer a QoS 2 refusal with a PUBACK; QoS 2 needs a PUBREC, whose failure code
			// ends the exchange.
			_ = cl.WritePacket(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Pubrec},
				PacketID: pk.PacketID, ReasonCode: code.Code, Properties: packets.Properties{ReasonString: code.Reason}})
			return pk, packets.ErrRejectPacket
		}
		return pk, code
	}
	_ = b.srv.DisconnectClient(cl, code)
	return pk, packets.ErrRejectPacket
}

// ingest stores one telemetry publish. It runs on the publisher's connection goroutine, so a slow store slows
// that connection's reading (and nothing else); at most IngestConcurrency stores run at once.
func (b *Bridge) ingest(cl *mqtt.Client, s *session, pk packets.Packet, route TelemetryRoute) (packets.Packet, error) {
	if pk.FixedHeader.Retain && len(pk.Payload) == 0 {
		return pk, nil // clears the retained message; not a reading
	}
	if !s.operator && route.Device != "" && route.Device != s.device {
		b.count(cIngestRefused)
		return b.refuse(cl, pk, packets.ErrNotAuthorized) // the ACL denies it first; kept for safety
	}
	if s.claims != nil && !s.claims.AllowsQueue(route.Queue) {
		b.count(cIngestRefused)
		return b.refuse(cl, pk, codeQueueForbidden)
	}
	if !b.acquire(cl) {
		b.count(cIngestBusy)
		if b.isClosing() {
			return b.refuse(cl, pk, codeClosing)
		}
		return b.refuse(cl, pk, codeBusy)
	}
	err := b.store(s, route.Queue, route.TTL, pk, b.deviceOf(s, cl))
	<-b.ingestSlots
	if err != nil {
		b.count(cIngestRefused)
		b.log.Debug("telemetry refused", "topic", pk.TopicName, "queue", route.Queue, "error", err)
		return b.refuse(cl, pk, reasonFor(err))
	}
	b.count(cIngested)
	return pk, nil
}

// deviceOf names the publisher in an envelope: its device id, else its client id.
func (b *Bridge) deviceOf(s *session, cl *mqtt.Client) string {
	if s.device != "" {
		return s.device
	}
	return strings.TrimPrefix(cl.ID, s.ns)
}

// acquire takes an ingest slot. An MQTT 5 client waits up to IngestWait, then is refused; a 3.1.1 client,
// which has no way to be told, waits until a slot frees (or the bridge closes).
func (b *Bridge) acquire(cl *mqtt.Client) bool {
	select {
	case b.ingestSlots <- struct{}{}:
		return true
	default:
	}
	if cl.Properties.ProtocolVersion >= 5 {
		if b.cfg.IngestWait <= 0 {
			return false
		}
		t := time.NewTimer(b.cfg.IngestWait)
		defer t.Stop()
		select {
		case b.ingestSlots <- struct{}{}:
			return true
		case <-t.C:
			return false
		case <-b.closing:
			return false
		}
	}
	select {
	case b.ingestSlots <- struct{}{}:
		return true
	case <-b.closing:
		return false
	}
}

// store posts one publish, wrapped in its envelope, to queue (PostBodies: the Service checks the envelope as
// it would a REST post's message, without a {"messages": [...]} wrapper to build and parse). A payload the
// Service would refuse as a body (not JSON, or JSON it does not accept, such as an integer outside int64) is
// stored as base64 rather than lost.
func (b *Bridge) store(s *session, queue string, ttl int, pk packets.Packet, device string) error {
	meta := Meta{Topic: pk.TopicName, Device: device, ReceivedAt: b.now(), ContentType: pk.Properties.ContentType}
	if pk.Created > 0 && meta.ReceivedAt.Unix() > pk.Created+1 {
		// The publish waited for an ingest slot; the envelope says when it arrived (to the second).
		meta.ReceivedAt = time.Unix(pk.Created, 0)
	}
	asJSON := storableJSON(pk.Payload)
	bufp := b.bodies.Get().(*[]byte)
	defer b.bodies.Put(bufp)
	*bufp = appendEnvelope((*bufp)[:0], pk.Payload, meta, asJSON)
	msg := [1]broker.BodyMessage{{Body: *bufp, TTL: ttl, ClientID: s.caller.ClientID}}
	_, err := b.svc.PostBodies(b.ingestCtx, s.caller.Project, queue, msg[:])
	if err == nil && !asJSON && maybeJSON(pk.Payload) {
		b.count(cIngestBinaryFallback)
	}
	return err
}
