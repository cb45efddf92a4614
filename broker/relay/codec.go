package relay

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/zedge-io/zedge/broker"
)

// wireVersion is the first byte of every frame; a node that reads another version drops the frame (counted)
// rather than guessing, so a rolling upgrade that changes the encoding costs wake-ups, never wrong pushes.
const wireVersion = 1

// NodeID identifies one relay (one zedge process) on the channel.
type NodeID [16]byte

// frameKind says what a frame carries.
type frameKind uint8

const (
	// kindPostFull: a post with every message as stored (id, body, ttl, times, client id).
	kindPostFull frameKind = iota + 1
	// kindPostIDs: a post too large to carry its bodies; receivers fetch the messages by id.
	kindPostIDs
	// kindPostWake: a post too large even for its ids; receivers only wake (the bridge re-claims, socket
	// subscribers get no push for it).
	kindPostWake
	// kindSubscription: a subscription change (websocket transports drop socket subscriptions deleted elsewhere).
	kindSubscription
)

// ErrMalformed: a frame that is not a relay frame of this version, or is truncated. Wrapped with the reason.
var ErrMalformed = errors.New("relay: malformed frame")

// frame is one decoded relay frame.
type frame struct {
	node    NodeID
	kind    frameKind
	post    broker.PostEvent // kindPostFull (Messages set), kindPostIDs (only IDs set), kindPostWake (no messages)
	ids     []string         // kindPostIDs
	count   int              // kindPostWake: how many messages the post held
	sub     broker.SubscriptionEvent
	project string
	queue   string
}

// kindOffset is where appendHeader puts the kind byte (after the version and the node id).
const kindOffset = 1 + len(NodeID{})

// appendHeader writes version, node, kind, project and queue.
func appendHeader(b []byte, node NodeID, kind frameKind, project, queue string) []byte {
	b = append(b, wireVersion)
	b = append(b, node[:]...)
	b = append(b, byte(kind))
	b = appendString(b, project)
	return appendString(b, queue)
}

// encodePost encodes ev within maxBytes if it can: with its messages, else with their ids only, else as a bare
// wake-up. buf is reused when large enough.
func encodePost(buf []byte, node NodeID, ev broker.PostEvent, maxBytes int) []byte {
	b := appendHeader(buf[:0], node, kindPostFull, ev.Project, ev.Queue)
	head := len(b)
	b = binary.AppendUvarint(b, uint64(len(ev.Messages)))
	for i := range ev.Messages {
		b = appendMessage(b, &ev.Messages[i])
		if len(b) > maxBytes {
			break
		}
	}
	if len(b) <= maxBytes {
		return b
	}
	b = b[:head]
	b[kindOffset] = byte(kindPostIDs)
	b = binary.AppendUvarint(b, uint64(len(ev.Messages)))
	for i := range ev.Messages {
		b = appendString(b, ev.Messages[i].ID)
		if len(b) > maxBytes {
			break
		}
	}
	if len(b) <= maxBytes {
		return b
	}
	b = b[:head]
	b[kindOffset] = byte(kindPostWake)
	return binary.AppendUvarint(b, uint64(len(ev.Messages)))
}

// encodeSubscription encodes a subscription change; subscriptions are small (options are bounded by the HTTP
// body limit), so there is no size fallback.
func encodeSubscription(buf []byte, node NodeID, ev broker.SubscriptionEvent) []byte {
	b := appendHeader(buf[:0], node, kindSubscription, ev.Project, ev.Subscription.Queue)
	s := &ev.Subscription
	b = append(b, byte(ev.Kind), boolByte(ev.Existing), boolByte(s.Confirmed))
	b = appendString(b, s.ID)
	b = appendString(b, s.Subscriber)
	b = binary.AppendVarint(b, int64(s.TTL))
	b = appendBytes(b, s.Options)
	b = appendTime(b, s.Created)
	return appendTime(b, s.Expires)
}

func appendMessage(b []byte, m *broker.Message) []byte {
	b = appendString(b, m.ID)
	b = appendBytes(b, m.Body)
	b = binary.AppendVarint(b, int64(m.TTL))
	b = appendTime(b, m.Created)
	b = appendTime(b, m.Expires)
	b = appendTime(b, m.DelayUntil)
	return append(b, m.ClientID[:]...)
}

// decodeFrame parses one frame. Byte slices in the result (bodies, options) are copies: the caller's buffer
// may be reused.
func decodeFrame(data []byte) (frame, error) {
	d := decoder{b: data}
	var f frame
	if v := d.byte(); v != wireVersion {
		if d.err != nil {
			return frame{}, d.err
		}
		return frame{}, fmt.Errorf("%w: version %d, want %d", ErrMalformed, v, wireVersion)
	}
	copy(f.node[:], d.take(len(f.node)))
	f.kind = frameKind(d.byte())
	f.project = d.string()
	f.queue = d.string()
	switch f.kind {
	case kindPostFull:
		n := d.count(minMessageSize)
		msgs := make([]broker.Message, n)
		for i := range msgs {
			m := &msgs[i]
			m.ID = d.string()
			m.Body = d.bytes()
			m.TTL = time.Duration(d.varint())
			m.Created = d.time()
			m.Expires = d.time()
			m.DelayUntil = d.time()
			copy(m.ClientID[:], d.take(len(m.ClientID)))
		}
		f.post = broker.PostEvent{Project: f.project, Queue: f.queue, Messages: msgs}
	case kindPostIDs:
		n := d.count(1)
		f.ids = make([]string, n)
		for i := range f.ids {
			f.ids[i] = d.string()
		}
		f.post = broker.PostEvent{Project: f.project, Queue: f.queue}
	case kindPostWake:
		f.count = int(min(d.uvarint(), 1<<31))
		f.post = broker.PostEvent{Project: f.project, Queue: f.queue}
	case kindSubscription:
		kind := broker.SubscriptionEventKind(d.byte())
		existing, confirmed := d.byte() != 0, d.byte() != 0
		s := broker.Subscription{Queue: f.queue, Confirmed: confirmed}
		s.ID = d.string()
		s.Subscriber = d.string()
		s.TTL = time.Duration(d.varint())
		s.Options = d.bytes()
		s.Created = d.time()
		s.Expires = d.time()
		f.sub = broker.SubscriptionEvent{Kind: kind, Project: f.project, Subscription: s, Existing: existing}
	default:
		if d.err == nil {
			return frame{}, fmt.Errorf("%w: unknown kind %d", ErrMalformed, f.kind)
		}
	}
	if d.err != nil {
		return frame{}, d.err
	}
	if len(d.b) != 0 {
		return frame{}, fmt.Errorf("%w: %d trailing bytes", ErrMalformed, len(d.b))
	}
	return f, nil
}

// minMessageSize is the fewest bytes one encoded message takes (empty strings, zero times, the client id); it
// bounds the count a frame may claim, so a forged count cannot make the decoder allocate more than the frame
// could hold.
const minMessageSize = 1 + 1 + 1 + 1 + 1 + 1 + 16

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendBytes(b, p []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(p)))
	return append(b, p...)
}

// appendTime writes t as Unix nanoseconds, the zero time as 0 (its UnixNano is not representable).
func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return binary.AppendVarint(b, 0)
	}
	return binary.AppendVarint(b, t.UnixNano())
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

// decoder reads a frame; the first error sticks and later reads return zero values.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: truncated %s", ErrMalformed, what)
	}
	d.b = nil
}

func (d *decoder) byte() byte {
	if d.err != nil || len(d.b) < 1 {
		d.fail("byte")
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) take(n int) []byte {
	if d.err != nil || n < 0 || len(d.b) < n {
		d.fail("field")
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail("uvarint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail("varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads an element count and checks that the rest of the frame can hold that many elements of at least
// minSize bytes each.
func (d *decoder) count(minSize int) int {
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.b)/minSize) {
		d.fail(fmt.Sprintf("list (%d elements announced)", n))
		return 0
	}
	return int(n)
}

func (d *decoder) string() string {
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.b)) {
		d.fail("string")
		return ""
	}
	return string(d.take(int(n)))
}

// bytes reads a length-prefixed byte string as a copy; an empty one is nil.
func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.b)) {
		d.fail("bytes")
		return nil
	}
	p := d.take(int(n))
	if len(p) == 0 {
		return nil
	}
	return append([]byte(nil), p...)
}

func (d *decoder) time() time.Time {
	ns := d.varint()
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}
