package redisstore

import (
	"encoding/binary"
	"math"
	"strings"
	"testing"
	"time"
)

// packMessage builds a message record the way lua/queue.lua does, for the decoder's tests.
func packMessage(created, expires, delay, ttl, pttl, cexp, count int64, client [16]byte, claimID, body string) string {
	var b strings.Builder
	for _, v := range []int64{created, expires, delay, ttl, pttl, cexp, count} {
		var d [8]byte
		binary.LittleEndian.PutUint64(d[:], math.Float64bits(float64(v)))
		b.Write(d[:])
	}
	b.Write(client[:])
	if claimID == "" {
		b.WriteString(noClaim)
	} else {
		b.WriteString(claimID)
	}
	b.WriteString(body)
	return b.String()
}

func TestDecodeMessage(t *testing.T) {
	now := time.Now().Truncate(time.Microsecond)
	us := now.UnixMicro()
	client := [16]byte{1, 2, 3}
	const claim = "0190a0b0-c0d0-7e0f-8000-000000000001"
	rec := packMessage(us, us+60e6, 0, 60e6, 30e6, us+10e6, 2, client, claim, `{"a":1}`)
	m, err := decodeMessage("00000000000000ab", "17", rec)
	if err != nil {
		t.Fatal(err)
	}
	if m.ID != "00000000000000ab0000000000000011" || string(m.Body) != `{"a":1}` || !m.Created.Equal(now) ||
		!m.Expires.Equal(now.Add(time.Minute)) || !m.DelayUntil.IsZero() || m.TTL != time.Minute ||
		m.ClaimID != claim || !m.ClaimExpires.Equal(now.Add(10*time.Second)) || m.ClaimCount != 2 || m.ClientID != client {
		t.Fatalf("decoded %+v", m)
	}
	if postedTTL(rec) != 30*time.Second {
		t.Fatalf("posted ttl %v", postedTTL(rec))
	}
	never, err := decodeMessage("00000000000000ab", "1", packMessage(us, us+1, us+5, 1, 1, 0, 0, client, "", ""))
	if err != nil || never.ClaimID != "" || !never.ClaimExpires.IsZero() || never.Body == nil || len(never.Body) != 0 {
		t.Fatalf("never claimed, empty body: %+v, %v", never, err)
	}
	if _, err := decodeMessage("00000000000000ab", "1", rec[:recBody-1]); err == nil {
		t.Fatal("a truncated record was accepted")
	}
}

// FuzzDecodeRecords feeds arbitrary bytes to the record decoders: they reject what is too short and never
// panic.
func FuzzDecodeRecords(f *testing.F) {
	f.Add("1", packMessage(1, 2, 0, 1, 1, 0, 0, [16]byte{}, "", "body"))
	f.Add("x", "")
	f.Add("18446744073709551615", strings.Repeat("\xff", 140))
	f.Fuzz(func(t *testing.T, seq, rec string) {
		if m, err := decodeMessage("00000000000000ab", seq, rec); err == nil && len(m.Body) != len(rec)-recBody {
			t.Fatalf("body of %d bytes from a %d-byte record", len(m.Body), len(rec))
		}
		_, _ = decodeClaim("c", rec)
		if s, err := decodeSubscription("id", "q", rec); err == nil && len(s.Subscriber)+len(s.Options)+29 != len(rec) {
			t.Fatalf("subscription fields do not add up to the record")
		}
	})
}
