package engine

import (
	"time"
	"unsafe"

	"github.com/zedge-io/zedge/store"
)

// Msg is the engine's record of one message. Times are unix nanoseconds; durations are nanoseconds.
type Msg struct {
	Seq        uint64
	Created    int64
	Expires    int64
	DelayUntil int64 // 0: not delayed
	TTL        int64 // as reported; grows when a claim extends the message's life
	PostedTTL  int64 // the ttl it was posted with, kept for dead-lettering
	ClientID   store.ClientID
	// ClaimID is the last claim that took the message; ClaimExpires is when that claim ends (0 when unknown
	// because the claim record is gone, which means it has ended).
	ClaimID      string
	ClaimExpires int64
	ClaimCount   int32

	heapIdx int32 // position in the queue's expiry heap; -1 when not in it

	// The body kept in memory, as a pointer and a length rather than a slice (the capacity is never needed):
	// that keeps Msg at 112 bytes rather than 128 (Go's size classes). bodyLen is the length plus one, so that
	// the zero Msg keeps no body.
	bodyLen  int32
	bodyData *byte
}

// Body returns the body kept in memory, or nil when the engine does not keep it (an empty kept body is
// non-nil).
func (m *Msg) Body() []byte {
	switch m.bodyLen {
	case 0:
		return nil
	case 1:
		return []byte{}
	}
	return unsafe.Slice(m.bodyData, m.bodyLen-1)
}

// SetBody keeps b (not copied) as the message's body in memory; nil keeps none. Bodies are at most a POST's
// size, far below 2 GiB.
func (m *Msg) SetBody(b []byte) {
	if b == nil {
		m.bodyLen, m.bodyData = 0, nil
		return
	}
	m.bodyLen, m.bodyData = int32(len(b))+1, unsafe.SliceData(b)
}

func (m *Msg) expired(now int64) bool   { return now >= m.Expires }
func (m *Msg) claimed(now int64) bool   { return m.ClaimID != "" && now < m.ClaimExpires }
func (m *Msg) delayed(now int64) bool   { return now < m.DelayUntil }
func (m *Msg) claimable(now int64) bool { return !m.expired(now) && !m.claimed(now) && !m.delayed(now) }

func (m *Msg) export(body []byte) store.Message {
	return store.Message{
		ID:           FormatID(m.Seq),
		Body:         body,
		TTL:          time.Duration(m.TTL),
		Created:      unixTime(m.Created),
		Expires:      unixTime(m.Expires),
		DelayUntil:   unixTime(m.DelayUntil),
		ClientID:     m.ClientID,
		ClaimID:      m.ClaimID,
		ClaimExpires: unixTime(m.ClaimExpires),
		ClaimCount:   int(m.ClaimCount),
	}
}

// QueueRec is the persisted part of a queue.
type QueueRec struct {
	Metadata []byte
	Created  int64
}

// ClaimRec is the persisted part of a claim.
type ClaimRec struct {
	ID      string
	TTL     int64
	Grace   int64
	Updated int64
	Expires int64
}

func (c *ClaimRec) export() store.Claim {
	return store.Claim{
		ID:      c.ID,
		TTL:     time.Duration(c.TTL),
		Grace:   time.Duration(c.Grace),
		Updated: unixTime(c.Updated),
		Expires: unixTime(c.Expires),
	}
}

// SubRec is a subscription.
type SubRec struct {
	ID         string
	Queue      string
	Subscriber string
	TTL        int64
	Options    []byte
	Confirmed  bool
	Created    int64
	Expires    int64
}

func (s *SubRec) export() store.Subscription {
	return store.Subscription{
		ID:         s.ID,
		Queue:      s.Queue,
		Subscriber: s.Subscriber,
		TTL:        time.Duration(s.TTL),
		Options:    s.Options,
		Confirmed:  s.Confirmed,
		Created:    unixTime(s.Created),
		Expires:    unixTime(s.Expires),
	}
}

// unixNano converts t, mapping the zero time to 0.
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// unixTime is the inverse of unixNano.
func unixTime(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// addDur adds a duration to a unix-nano time, saturating instead of overflowing.
func addDur(t int64, d int64) int64 {
	s := t + d
	if d > 0 && s < t {
		return 1<<63 - 1
	}
	return s
}

func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append(make([]byte, 0, len(b)), b...)
}
