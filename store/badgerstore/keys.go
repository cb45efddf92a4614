package badgerstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/zedge-io/zedge/store/internal/engine"
)

// Key kinds (the first byte of a key). See doc.go for the layout.
const (
	kindMeta    = 0x00
	kindClaim   = 'c'
	kindMessage = 'm'
	kindQueue   = 'q'
	kindSub     = 's'
)

var (
	keyVersion = []byte{kindMeta, 'v'}
	keyLease   = []byte{kindMeta, 'l'}
	keyCompact = []byte{kindMeta, 'x'}
)

// formatVersion is the key and value layout version stored under keyVersion.
const formatVersion = 1

// valueVersion leads every record value, so a later layout can be told apart.
const valueVersion = 1

var errCorrupt = errors.New("badgerstore: corrupt record")

// appendScope appends kind | u16 len(project) | project | u16 len(queue) | queue. Length prefixes keep
// arbitrary project and queue strings from colliding ("a"+"b.c" vs "a.b"+"c").
func appendScope(b []byte, kind byte, project, queue string) []byte {
	b = append(b, kind)
	b = binary.BigEndian.AppendUint16(b, uint16(len(project)))
	b = append(b, project...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(queue)))
	return append(b, queue...)
}

func appendMessageKey(b []byte, project, queue string, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(appendScope(b, kindMessage, project, queue), seq)
}

// scopePrefix returns the prefix shared by every key of one kind.
func kindPrefix(kind byte) []byte { return []byte{kind} }

// parsedKey is a decoded key; project and queue alias the key bytes.
type parsedKey struct {
	kind    byte
	project []byte
	queue   []byte
	rest    []byte // the sequence (8 bytes) or the claim/subscription id
}

func parseKey(k []byte) (parsedKey, error) {
	var p parsedKey
	if len(k) < 1 {
		return p, fmt.Errorf("%w: empty key", errCorrupt)
	}
	p.kind = k[0]
	k = k[1:]
	var ok bool
	if p.project, k, ok = cutLen16(k); !ok {
		return p, fmt.Errorf("%w: key project", errCorrupt)
	}
	if p.queue, k, ok = cutLen16(k); !ok {
		return p, fmt.Errorf("%w: key queue", errCorrupt)
	}
	p.rest = k
	switch p.kind {
	case kindMessage:
		if len(p.rest) != 8 {
			return p, fmt.Errorf("%w: message key sequence", errCorrupt)
		}
	case kindQueue:
		if len(p.rest) != 0 {
			return p, fmt.Errorf("%w: queue key suffix", errCorrupt)
		}
	case kindClaim, kindSub:
		if len(p.rest) == 0 {
			return p, fmt.Errorf("%w: key id", errCorrupt)
		}
	default:
		return p, fmt.Errorf("%w: key kind %#x", errCorrupt, p.kind)
	}
	return p, nil
}

func cutLen16(b []byte) (field, rest []byte, ok bool) {
	if len(b) < 2 {
		return nil, nil, false
	}
	n := int(binary.BigEndian.Uint16(b))
	b = b[2:]
	if len(b) < n {
		return nil, nil, false
	}
	return b[:n], b[n:], true
}

// expiresAt converts a unix-nano expiry to Badger's whole seconds, rounding up so Badger never drops an entry
// before the engine considers it expired.
func expiresAt(ns int64) uint64 {
	if ns <= 0 {
		return 1 // already expired: Badger treats 0 as "never"
	}
	return uint64((ns + 1e9 - 1) / 1e9)
}

// --- values ---

type reader struct {
	b   []byte
	err bool
}

func (r *reader) u8() byte {
	if len(r.b) < 1 {
		r.err = true
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *reader) i64() int64 {
	if len(r.b) < 8 {
		r.err = true
		return 0
	}
	v := binary.LittleEndian.Uint64(r.b)
	r.b = r.b[8:]
	return int64(v)
}

func (r *reader) u32() uint32 {
	if len(r.b) < 4 {
		r.err = true
		return 0
	}
	v := binary.LittleEndian.Uint32(r.b)
	r.b = r.b[4:]
	return v
}

func (r *reader) bytes(n int) []byte {
	if n < 0 || len(r.b) < n {
		r.err = true
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) version() {
	if r.u8() != valueVersion {
		r.err = true
	}
}

func appendI64(b []byte, v int64) []byte { return binary.LittleEndian.AppendUint64(b, uint64(v)) }

func appendQueueValue(b []byte, rec *engine.QueueRec) []byte {
	b = append(b, valueVersion)
	b = appendI64(b, rec.Created)
	return append(b, rec.Metadata...)
}

func decodeQueueValue(v []byte) (engine.QueueRec, error) {
	r := reader{b: v}
	r.version()
	rec := engine.QueueRec{Created: r.i64()}
	if r.err {
		return rec, fmt.Errorf("%w: queue value", errCorrupt)
	}
	rec.Metadata = append([]byte{}, r.b...)
	return rec, nil
}

// Message value: version | created | expires | delayUntil | ttl | postedTTL | claimExpires | u32 claimCount |
// clientID[16] | u8 len(claimID) | claimID | body.
func appendMessageValue(b []byte, m *engine.Msg, body []byte) []byte {
	b = append(b, valueVersion)
	b = appendI64(b, m.Created)
	b = appendI64(b, m.Expires)
	b = appendI64(b, m.DelayUntil)
	b = appendI64(b, m.TTL)
	b = appendI64(b, m.PostedTTL)
	b = appendI64(b, m.ClaimExpires)
	b = binary.LittleEndian.AppendUint32(b, uint32(m.ClaimCount))
	b = append(b, m.ClientID[:]...)
	b = append(b, byte(len(m.ClaimID)))
	b = append(b, m.ClaimID...)
	return append(b, body...)
}

// decodeMessageValue decodes a message; the returned body aliases v.
func decodeMessageValue(v []byte, m *engine.Msg) (body []byte, err error) {
	r := reader{b: v}
	r.version()
	m.Created = r.i64()
	m.Expires = r.i64()
	m.DelayUntil = r.i64()
	m.TTL = r.i64()
	m.PostedTTL = r.i64()
	m.ClaimExpires = r.i64()
	count := r.u32()
	copy(m.ClientID[:], r.bytes(16))
	claimID := r.bytes(int(r.u8()))
	if r.err || count > math.MaxInt32 {
		return nil, fmt.Errorf("%w: message value", errCorrupt)
	}
	m.ClaimCount = int32(count)
	m.ClaimID = string(claimID)
	return r.b, nil
}

// messageBody returns the body part of a message value without decoding the rest.
func messageBody(v []byte) ([]byte, error) {
	const fixed = 1 + 6*8 + 4 + 16
	if len(v) < fixed+1 || v[0] != valueVersion {
		return nil, fmt.Errorf("%w: message value", errCorrupt)
	}
	n := int(v[fixed])
	if len(v) < fixed+1+n {
		return nil, fmt.Errorf("%w: message value", errCorrupt)
	}
	return v[fixed+1+n:], nil
}

// Claim value: version | ttl | grace | updated | expires.
func appendClaimValue(b []byte, c *engine.ClaimRec) []byte {
	b = append(b, valueVersion)
	b = appendI64(b, c.TTL)
	b = appendI64(b, c.Grace)
	b = appendI64(b, c.Updated)
	return appendI64(b, c.Expires)
}

func decodeClaimValue(v []byte, id string) (engine.ClaimRec, error) {
	r := reader{b: v}
	r.version()
	c := engine.ClaimRec{ID: id, TTL: r.i64(), Grace: r.i64(), Updated: r.i64(), Expires: r.i64()}
	if r.err || len(r.b) != 0 {
		return c, fmt.Errorf("%w: claim value", errCorrupt)
	}
	return c, nil
}

const (
	subConfirmed  = 1 << 0
	subHasOptions = 1 << 1
)

// Subscription value: version | ttl | created | expires | flags | u32 len(subscriber) | subscriber | options.
func appendSubValue(b []byte, s *engine.SubRec) []byte {
	b = append(b, valueVersion)
	b = appendI64(b, s.TTL)
	b = appendI64(b, s.Created)
	b = appendI64(b, s.Expires)
	var flags byte
	if s.Confirmed {
		flags |= subConfirmed
	}
	if s.Options != nil {
		flags |= subHasOptions
	}
	b = append(b, flags)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(s.Subscriber)))
	b = append(b, s.Subscriber...)
	return append(b, s.Options...)
}

func decodeSubValue(v []byte, queue, id string) (engine.SubRec, error) {
	r := reader{b: v}
	r.version()
	s := engine.SubRec{ID: id, Queue: queue, TTL: r.i64(), Created: r.i64(), Expires: r.i64()}
	flags := r.u8()
	sub := r.bytes(int(r.u32()))
	if r.err || flags&^(subConfirmed|subHasOptions) != 0 {
		return s, fmt.Errorf("%w: subscription value", errCorrupt)
	}
	s.Subscriber = string(sub)
	s.Confirmed = flags&subConfirmed != 0
	if flags&subHasOptions != 0 {
		s.Options = append([]byte{}, r.b...)
	} else if len(r.b) != 0 {
		return s, fmt.Errorf("%w: subscription value", errCorrupt)
	}
	return s, nil
}

// MessageRecordSize is the bytes an unclaimed message of bodyLen bytes takes as this store writes it: its key
// and its value (metadata and body), before Badger's own per-entry overhead. The bench states the live set
// with it.
func MessageRecordSize(project, queue string, bodyLen int) int {
	return len(appendMessageKey(nil, project, queue, 0)) + len(appendMessageValue(nil, &engine.Msg{}, nil)) + bodyLen
}
