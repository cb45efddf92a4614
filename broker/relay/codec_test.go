package relay

import (
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/zedge-io/zedge/broker"
)

var testNode = NodeID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}

func sampleMessages(n, bodySize int) []broker.Message {
	created := time.Date(2026, 11, 22, 6, 0, 0, 123456789, time.UTC)
	msgs := make([]broker.Message, n)
	for i := range msgs {
		body := fmt.Sprintf(`{"seq":%d,"pad":"%s"}`, i, strings.Repeat("x", bodySize))
		msgs[i] = broker.Message{ID: fmt.Sprintf("6740a1b2c3d4e5f6%08d", i), Body: []byte(body), TTL: 300 * time.Second,
			Created: created, Expires: created.Add(300 * time.Second), ClientID: broker.ClientID{0xde, 0xad, byte(i)}}
		if i%2 == 1 {
			msgs[i].DelayUntil = created.Add(30 * time.Second)
		}
	}
	return msgs
}

func TestEncodePostChoosesTheLargestFormThatFits(t *testing.T) {
	cases := []struct {
		name     string
		msgs     []broker.Message
		maxBytes int
		want     frameKind
	}{
		{"one small message", sampleMessages(1, 100), 64 << 10, kindPostFull},
		{"no messages", nil, 1024, kindPostFull},
		{"bodies too large, ids fit", sampleMessages(10, 2000), 4096, kindPostIDs},
		{"ids too many", sampleMessages(200, 10), 1024, kindPostWake},
		{"exactly at the limit with bodies", sampleMessages(3, 50), 0, kindPostFull}, // maxBytes set below
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev := broker.PostEvent{Project: "campus", Queue: "cmd-th-7", Messages: tc.msgs}
			max := tc.maxBytes
			if max == 0 {
				max = len(encodePost(nil, testNode, ev, 1<<20))
			}
			b := encodePost(nil, testNode, ev, max)
			if len(b) > max {
				t.Fatalf("frame of %d bytes exceeds the cap of %d", len(b), max)
			}
			f, err := decodeFrame(b)
			if err != nil {
				t.Fatal(err)
			}
			if f.kind != tc.want {
				t.Fatalf("kind %d, want %d", f.kind, tc.want)
			}
			if f.node != testNode || f.project != "campus" || f.queue != "cmd-th-7" ||
				f.post.Project != "campus" || f.post.Queue != "cmd-th-7" {
				t.Errorf("header: %+v", f)
			}
			switch tc.want {
			case kindPostFull:
				if len(tc.msgs) == 0 && len(f.post.Messages) == 0 {
					return
				}
				if !reflect.DeepEqual(f.post.Messages, tc.msgs) {
					t.Errorf("messages differ:\n got %+v\nwant %+v", f.post.Messages, tc.msgs)
				}
			case kindPostIDs:
				if len(f.ids) != len(tc.msgs) {
					t.Fatalf("%d ids, want %d", len(f.ids), len(tc.msgs))
				}
				for i, id := range f.ids {
					if id != tc.msgs[i].ID {
						t.Errorf("id %d = %q, want %q", i, id, tc.msgs[i].ID)
					}
				}
			case kindPostWake:
				if f.count != len(tc.msgs) {
					t.Errorf("count %d, want %d", f.count, len(tc.msgs))
				}
			}
		})
	}
}

func TestSubscriptionRoundTrip(t *testing.T) {
	created := time.Date(2026, 11, 22, 6, 0, 0, 0, time.UTC)
	for _, kind := range []broker.SubscriptionEventKind{broker.SubscriptionCreated, broker.SubscriptionUpdated,
		broker.SubscriptionConfirmed, broker.SubscriptionUnconfirmed, broker.SubscriptionDeleted, broker.SubscriptionsPurged} {
		ev := broker.SubscriptionEvent{Kind: kind, Project: "p", Existing: kind == broker.SubscriptionCreated,
			Subscription: broker.Subscription{ID: "sub-1", Queue: "q", Subscriber: "websocket:abc", TTL: time.Hour,
				Options: []byte(`{"a":1}`), Confirmed: true, Created: created, Expires: created.Add(time.Hour)}}
		f, err := decodeFrame(encodeSubscription(nil, testNode, ev))
		if err != nil {
			t.Fatal(err)
		}
		if f.kind != kindSubscription || !reflect.DeepEqual(f.sub, ev) {
			t.Errorf("kind %d: got %+v, want %+v", kind, f.sub, ev)
		}
	}
}

func TestDecodeRejectsMalformedFrames(t *testing.T) {
	good := encodePost(nil, testNode, broker.PostEvent{Project: "p", Queue: "q", Messages: sampleMessages(2, 10)}, 1<<20)
	cases := map[string][]byte{
		"empty":          nil,
		"other version":  append([]byte{2}, good[1:]...),
		"truncated":      good[:len(good)-3],
		"trailing bytes": append(append([]byte(nil), good...), 0),
		"unknown kind":   append(append(append([]byte{wireVersion}, testNode[:]...), 99), 0, 0),
		"huge count":     append(append(append([]byte{wireVersion}, testNode[:]...), byte(kindPostFull)), 0, 0, 0xff, 0xff, 0xff, 0x7f),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := decodeFrame(data); !errors.Is(err, ErrMalformed) {
				t.Errorf("decode: %v, want ErrMalformed", err)
			}
		})
	}
}

// FuzzDecodeFrame: any input decodes or fails with ErrMalformed, never panics or allocates beyond the frame,
// and what decodes encodes back to the same bytes.
func FuzzDecodeFrame(f *testing.F) {
	f.Add(encodePost(nil, testNode, broker.PostEvent{Project: "p", Queue: "q", Messages: sampleMessages(2, 10)}, 1<<20))
	f.Add(encodePost(nil, testNode, broker.PostEvent{Project: "p", Queue: "q", Messages: sampleMessages(20, 300)}, 2048))
	f.Add(encodePost(nil, testNode, broker.PostEvent{Project: "p", Queue: "q", Messages: sampleMessages(200, 1)}, 1024))
	f.Add(encodeSubscription(nil, testNode, broker.SubscriptionEvent{Kind: broker.SubscriptionDeleted, Project: "p",
		Subscription: broker.Subscription{ID: "s", Queue: "q"}}))
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, err := decodeFrame(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error does not wrap ErrMalformed: %v", err)
			}
			return
		}
		var again []byte
		switch fr.kind {
		case kindPostFull:
			again = encodePost(nil, fr.node, fr.post, 1<<30)
		case kindPostIDs:
			again = appendHeader(nil, fr.node, kindPostIDs, fr.project, fr.queue)
			again = appendUvarintList(again, fr.ids)
		case kindPostWake:
			return // the count is clamped on decode; nothing else to compare
		case kindSubscription:
			again = encodeSubscription(nil, fr.node, fr.sub)
		}
		if fr2, err := decodeFrame(again); err != nil || !reflect.DeepEqual(fr2, fr) {
			t.Fatalf("re-encoded frame decodes differently: %v\n got %+v\nwant %+v", err, fr2, fr)
		}
	})
}

func appendUvarintList(b []byte, ids []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(ids)))
	for _, id := range ids {
		b = appendString(b, id)
	}
	return b
}

func BenchmarkCodec(b *testing.B) {
	for _, n := range []int{1, 10} {
		ev := broker.PostEvent{Project: "campus", Queue: "telemetry-b1", Messages: sampleMessages(n, 100)}
		frame := encodePost(nil, testNode, ev, 64<<10)
		b.Run(fmt.Sprintf("encode/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(frame)))
			buf := make([]byte, 0, 4096)
			for b.Loop() {
				buf = encodePost(buf, testNode, ev, 64<<10)
			}
		})
		b.Run(fmt.Sprintf("decode/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(frame)))
			for b.Loop() {
				if _, err := decodeFrame(frame); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
