package bridge

import (
	"bytes"
	"strings"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// hook connects the MQTT server to the bridge. It is the only hook, so every authentication and ACL decision
// is the bridge's (mochi's allow-all hook, which would make every deny moot, is never added).
type hook struct {
	mqtt.HookBase
	b *Bridge
}

var provided = []byte{
	mqtt.OnConnect,
	mqtt.OnConnectAuthenticate,
	mqtt.OnACLCheck,
	mqtt.OnSessionEstablished,
	mqtt.OnDisconnect,
	mqtt.OnPublish,
	mqtt.OnPacketRead,
	mqtt.OnPacketProcessed,
	mqtt.OnUnsubscribed,
	mqtt.OnPacketEncode,
	mqtt.OnSubscribe,
	mqtt.OnUnsubscribe,
}

func (h *hook) ID() string { return "zedge-bridge" }

func (h *hook) Provides(b byte) bool { return bytes.IndexByte(provided, b) >= 0 }

// OnConnect bounds the keepalive before the server first sets the connection's read deadline. An MQTT 5
// client is told the value (Server Keep Alive in CONNACK); a 3.1.1 client asking for none, or for more than
// the maximum, is held to the maximum.
func (h *hook) OnConnect(cl *mqtt.Client, pk packets.Packet) error {
	lo, hi := uint16(h.b.cfg.KeepaliveMin.Seconds()), uint16(h.b.cfg.KeepaliveMax.Seconds())
	ka := cl.State.Keepalive
	switch {
	case cl.Properties.ProtocolVersion >= 5 && (ka < lo || ka > hi):
		cl.State.Keepalive = min(max(ka, lo), hi)
		if ka == 0 {
			cl.State.Keepalive = hi
		}
		cl.State.ServerKeepalive = true
	case ka == 0 || ka > hi:
		cl.State.Keepalive = hi
	}
	return nil
}

func (h *hook) OnConnectAuthenticate(cl *mqtt.Client, pk packets.Packet) bool {
	detachConnect(cl)
	s, code := h.b.authenticate(cl, pk)
	if s == nil {
		if code != packets.ErrBadUsernameOrPassword {
			// The server answers every refusal of this hook with 0x86; give the precise code instead and
			// close, so its own CONNACK finds the connection closed.
			_ = h.b.srv.SendConnack(cl, connackCode(cl, code), false, nil)
			cl.Stop(code)
		}
		return false
	}
	if h.b.counters[cConnectOK].Add(1)%sweepEvery == 0 {
		h.b.sweepSessions()
	}
	h.b.sessions.Store(cl, s)
	return true
}

// detachConnect gives a connecting client its own copies of what it keeps from its CONNECT packet. The MQTT
// server decodes strings and byte fields without copying, so the client id, username, will and connect
// properties it keeps point into the packet's buffer, and would hold all of it, the token in the password
// included (~0.3-1 KB), for as long as the connection lasts.
func detachConnect(cl *mqtt.Client) {
	cl.ID = strings.Clone(cl.ID)
	p := &cl.Properties
	p.Username = bytes.Clone(p.Username)
	p.Props.AuthenticationMethod = strings.Clone(p.Props.AuthenticationMethod)
	p.Props.User = cloneUserProperties(p.Props.User)
	p.Will.TopicName = strings.Clone(p.Will.TopicName)
	p.Will.Payload = bytes.Clone(p.Will.Payload)
	p.Will.User = cloneUserProperties(p.Will.User)
}

func cloneUserProperties(props []packets.UserProperty) []packets.UserProperty {
	if props == nil {
		return nil
	}
	out := make([]packets.UserProperty, len(props))
	for i, u := range props {
		out[i] = packets.UserProperty{Key: strings.Clone(u.Key), Val: strings.Clone(u.Val)}
	}
	return out
}

// sweepEvery is how many accepted connections pass between sweeps of stale sessions.
const sweepEvery = 1024

// sweepSessions forgets the sessions of closed connections. OnDisconnect does that for every connection that
// got as far as its CONNACK; one that broke between authentication and CONNACK never reaches it.
func (b *Bridge) sweepSessions() {
	b.sessions.Range(func(k, _ any) bool {
		if cl := k.(*mqtt.Client); cl.Closed() {
			b.sessions.Delete(cl)
		}
		return true
	})
}

func (h *hook) OnACLCheck(cl *mqtt.Client, topic string, write bool) bool {
	s := h.b.session(cl)
	if s == nil {
		return false
	}
	if write {
		if h.b.mayPublish(s, topic) {
			return true
		}
		h.b.count(cDeniedPublish)
		h.b.log.Debug("mqtt publish denied", "client", cl.ID, "topic", topic)
		return false
	}
	// A filter being subscribed, or the topic of a publish being delivered: either is in s's namespace.
	if inNamespace(s.ns, topic) && h.b.maySubscribe(s, outerFilter(s.ns, topic)) {
		return true
	}
	h.b.count(cDeniedSubscribe)
	h.b.log.Debug("mqtt subscribe denied", "client", cl.ID, "filter", topic)
	return false
}

// OnSessionEstablished: a resumed session may already hold the command subscription.
func (h *hook) OnSessionEstablished(cl *mqtt.Client, pk packets.Packet) {
	h.b.cmd.refresh(cl)
}

func (h *hook) OnDisconnect(cl *mqtt.Client, err error, expire bool) {
	h.b.cmd.gone(cl)
	h.b.sessions.Delete(cl)
}

// OnPublish stores telemetry and MQTT-posted commands (see Bridge.onPublish), then moves the publish into
// its project's namespace for routing and retaining (namespace.go).
func (h *hook) OnPublish(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	pk, err := h.b.onPublish(cl, pk)
	if err == nil && !cl.Net.Inline {
		if s := h.b.session(cl); s != nil {
			pk.TopicName = s.ns + pk.TopicName
		}
	}
	return pk, err
}

// OnSubscribe moves a client's filters into its project's namespace; the ACL check that follows sees them
// there (OnACLCheck takes them out again).
func (h *hook) OnSubscribe(cl *mqtt.Client, pk packets.Packet) packets.Packet {
	h.b.innerFilters(cl, pk.Filters)
	return pk
}

// OnUnsubscribe: as OnSubscribe.
func (h *hook) OnUnsubscribe(cl *mqtt.Client, pk packets.Packet) packets.Packet {
	h.b.innerFilters(cl, pk.Filters)
	return pk
}

func (b *Bridge) innerFilters(cl *mqtt.Client, filters packets.Subscriptions) {
	if cl.Net.Inline {
		return
	}
	if s := b.session(cl); s != nil {
		for i := range filters {
			filters[i].Filter = innerFilter(s.ns, filters[i].Filter)
		}
	}
}

// OnPacketRead sees a device's PUBACK while the acknowledged command is still in the client's inflight store,
// and a publish to a $ topic before the MQTT server drops it unanswered.
func (h *hook) OnPacketRead(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	switch pk.FixedHeader.Type {
	case packets.Puback:
		h.b.cmd.puback(cl, pk.PacketID)
	case packets.Publish:
		if strings.HasPrefix(pk.TopicName, "$") && !cl.Net.Inline {
			return h.b.refuseReserved(cl, pk)
		}
	}
	return pk, nil
}

// refuseReserved answers a client's publish to a $ topic, which the MQTT server drops without a word for $SYS
// (a QoS 1 publisher would wait for its PUBACK forever) and which mayPublish refuses for any other: MQTT 5
// gets "topic name invalid", MQTT 3.1.1 is disconnected (refuse). The packet goes on to the server as a $SYS
// publish, which it drops.
func (b *Bridge) refuseReserved(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	b.count(cDeniedPublish)
	b.log.Debug("mqtt publish to a reserved topic refused", "client", cl.ID, "topic", pk.TopicName)
	if pk.FixedHeader.Qos > 0 {
		if cl.Properties.ProtocolVersion < 5 {
			_ = b.srv.DisconnectClient(cl, codeReservedTopic) // 3.1.1 has no negative PUBACK
			return pk, packets.ErrRejectPacket
		}
		ack := packets.Puback
		if pk.FixedHeader.Qos == 2 {
			ack = packets.Pubrec
		}
		_ = cl.WritePacket(packets.Packet{FixedHeader: packets.FixedHeader{Type: ack}, PacketID: pk.PacketID,
			ReasonCode: codeReservedTopic.Code, Properties: packets.Properties{ReasonString: codeReservedTopic.Reason}})
	}
	pk.TopicName = mqtt.SysPrefix
	return pk, nil
}

// OnPacketProcessed starts command delivery once a SUBSCRIBE has been answered, so that the SUBACK precedes
// the first command.
func (h *hook) OnPacketProcessed(cl *mqtt.Client, pk packets.Packet, err error) {
	if err == nil && pk.FixedHeader.Type == packets.Subscribe && !cl.Net.Inline {
		h.b.cmd.refresh(cl)
	}
}

func (h *hook) OnUnsubscribed(cl *mqtt.Client, pk packets.Packet) {
	if !cl.Net.Inline {
		h.b.cmd.refresh(cl)
	}
}

// OnPacketEncode announces the packet size and topic alias limits in a successful MQTT 5 CONNACK (the server
// enforces them but does not say so).
//
// A publish leaves its project's namespace on the way out: the client sees its own topic names.
func (h *hook) OnPacketEncode(cl *mqtt.Client, pk packets.Packet) packets.Packet {
	if pk.FixedHeader.Type == packets.Publish && pk.TopicName != "" {
		if s := h.b.session(cl); s != nil {
			pk.TopicName = strings.TrimPrefix(pk.TopicName, s.ns)
		}
		return pk
	}
	if pk.FixedHeader.Type == packets.Connack && pk.ReasonCode == packets.CodeSuccess.Code &&
		cl.Properties.ProtocolVersion >= 5 {
		pk.Properties.MaximumPacketSize = uint32(h.b.cfg.MaxPacketSize)
		pk.Properties.TopicAliasMaximum = uint16(h.b.cfg.TopicAliasMaximum)
	}
	return pk
}

// connackCode gives an MQTT 3.1.1 client the return code that stands for a refusal: 3.1.1 knows only
// "identifier rejected" and "not authorized" of the reasons the bridge has.
func connackCode(cl *mqtt.Client, code packets.Code) packets.Code {
	if cl.Properties.ProtocolVersion >= 5 {
		return code
	}
	if code.Code == packets.ErrClientIdentifierNotValid.Code {
		return packets.Err3ClientIdentifierNotValid
	}
	return packets.Err3NotAuthorized
}
