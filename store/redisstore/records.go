package redisstore

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/zedge-io/zedge/store"
)

// Times and durations cross into Lua as integer microseconds: Lua numbers are doubles, exact up to 2^53, and
// unix time in microseconds stays far below that (nanoseconds would not).
func micros(t time.Time) int64 { return t.UnixMicro() }

// maxDuration caps durations (100 years) so that now + d stays exact in a double.
const maxDuration = 100 * 365 * 24 * time.Hour

func durMicros(d time.Duration) int64 { return min(max(d, 0), maxDuration).Microseconds() }

func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us)
}

// newEpoch returns a random queue epoch (16 hex digits).
func newEpoch() string {
	var b [epochLen / 2]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}

// Message record layout (lua/queue.lua): seven little-endian doubles, the client id, the last claim id, the
// body.
const (
	recHeader  = 7 * 8
	recClient  = recHeader
	recClaimID = recClient + 16
	recBody    = recClaimID + 36
)

func f64(s string, i int) int64 {
	return int64(math.Float64frombits(binary.LittleEndian.Uint64([]byte(s[i*8 : i*8+8]))))
}

// decodeMessage decodes a message record.
func decodeMessage(epoch, seq, rec string) (store.Message, error) {
	n, err := strconv.ParseUint(seq, 10, 64)
	if err != nil || len(rec) < recBody {
		return store.Message{}, fmt.Errorf("%w: malformed message record %q (%d bytes)", store.ErrUnavailable, seq, len(rec))
	}
	m := store.Message{
		ID:           formatID(epoch, n),
		Body:         []byte(rec[recBody:]),
		Created:      fromMicros(f64(rec, 0)),
		Expires:      fromMicros(f64(rec, 1)),
		DelayUntil:   fromMicros(f64(rec, 2)),
		TTL:          time.Duration(f64(rec, 3)) * time.Microsecond,
		ClaimExpires: fromMicros(f64(rec, 5)),
		ClaimCount:   int(f64(rec, 6)),
	}
	copy(m.ClientID[:], rec[recClient:recClaimID])
	if cid := rec[recClaimID:recBody]; cid != noClaim {
		m.ClaimID = cid
	}
	return m, nil
}

// postedTTL returns the ttl a message record was posted with (kept for dead-lettering).
func postedTTL(rec string) time.Duration { return time.Duration(f64(rec, 4)) * time.Microsecond }

const noClaim = "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"

// decodeMessages decodes a script's {epoch, seq, record, ...} reply, starting at reply[from] for the pairs.
func decodeMessages(epoch string, pairs []any) ([]store.Message, error) {
	out := make([]store.Message, 0, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		m, err := decodeMessage(epoch, str(pairs[i]), str(pairs[i+1]))
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// decodeClaim decodes a claim header (four doubles: ttl, grace, updated, expires).
func decodeClaim(id, hdr string) (store.Claim, error) {
	if len(hdr) < 32 {
		return store.Claim{}, fmt.Errorf("%w: malformed claim record %q", store.ErrUnavailable, id)
	}
	return store.Claim{
		ID:      id,
		TTL:     time.Duration(f64(hdr, 0)) * time.Microsecond,
		Grace:   time.Duration(f64(hdr, 1)) * time.Microsecond,
		Updated: fromMicros(f64(hdr, 2)),
		Expires: fromMicros(f64(hdr, 3)),
	}, nil
}

// decodeSubscription decodes a subscription record (lua/sub.lua).
func decodeSubscription(id, queue, rec string) (store.Subscription, error) {
	const hdr = 3*8 + 1 + 4
	if len(rec) < hdr {
		return store.Subscription{}, fmt.Errorf("%w: malformed subscription record %q", store.ErrUnavailable, id)
	}
	n := int(binary.LittleEndian.Uint32([]byte(rec[25:29])))
	if len(rec) < hdr+n {
		return store.Subscription{}, fmt.Errorf("%w: malformed subscription record %q", store.ErrUnavailable, id)
	}
	sub := store.Subscription{
		ID:         id,
		Queue:      queue,
		Subscriber: rec[hdr : hdr+n],
		TTL:        time.Duration(f64(rec, 0)) * time.Microsecond,
		Confirmed:  rec[24] != 0,
		Created:    fromMicros(f64(rec, 1)),
		Expires:    fromMicros(f64(rec, 2)),
	}
	if opts := rec[hdr+n:]; opts != "" {
		sub.Options = []byte(opts)
	}
	return sub, nil
}

// str returns a reply element as a string (bulk strings and integers).
func str(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case []byte:
		return string(x)
	}
	return ""
}

// integer returns a reply element as an integer.
func integer(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case string:
		n, _ := strconv.ParseInt(x, 10, 64)
		return n
	}
	return 0
}

// array returns a reply as an array (nil for an empty or nil reply).
func array(v any) []any {
	a, _ := v.([]any)
	return a
}
