package badgerstore

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/zedge-io/zedge/store/internal/engine"
)

func TestKeyLayout(t *testing.T) {
	cases := []struct {
		name string
		got  []byte
		want []byte
	}{
		{"queue", appendScope(nil, kindQueue, "p", "q"), []byte("q\x00\x01p\x00\x01q")},
		{"message", appendMessageKey(nil, "p", "q", 0x0102), []byte("m\x00\x01p\x00\x01q\x00\x00\x00\x00\x00\x00\x01\x02")},
		{"empty project", appendScope(nil, kindQueue, "", "q"), []byte("q\x00\x00\x00\x01q")},
	}
	for _, c := range cases {
		if !bytes.Equal(c.got, c.want) {
			t.Errorf("%s key = %q, want %q", c.name, c.got, c.want)
		}
	}
	// Scopes whose concatenations collide get different keys.
	pairs := [][2][2]string{{{"a", "b.c"}, {"a.b", "c"}}, {{"", "ab"}, {"a", "b"}}, {{"ab", ""}, {"a", "b"}}}
	for _, p := range pairs {
		a := appendScope(nil, kindQueue, p[0][0], p[0][1])
		b := appendScope(nil, kindQueue, p[1][0], p[1][1])
		if bytes.Equal(a, b) {
			t.Errorf("%q and %q share key %q", p[0], p[1], a)
		}
	}
	// Message keys of one queue sort by sequence.
	if bytes.Compare(appendMessageKey(nil, "p", "q", 255), appendMessageKey(nil, "p", "q", 256)) >= 0 {
		t.Error("message keys do not sort by sequence")
	}
}

func TestParseKey(t *testing.T) {
	long := string(bytes.Repeat([]byte{'x'}, 256))
	good := [][]byte{
		appendScope(nil, kindQueue, long, "q"),
		appendMessageKey(nil, "p", "q", 7),
		append(appendScope(nil, kindClaim, "p", "q"), "claim-id"...),
		append(appendScope(nil, kindSub, "", "q"), "sub-id"...),
	}
	for _, k := range good {
		p, err := parseKey(k)
		if err != nil {
			t.Fatalf("parseKey(%q): %v", k, err)
		}
		if p.kind != k[0] {
			t.Fatalf("kind %q", p.kind)
		}
	}
	p, _ := parseKey(good[0])
	if string(p.project) != long || string(p.queue) != "q" {
		t.Fatalf("parsed %q/%q", p.project, p.queue)
	}
	bad := [][]byte{
		nil,
		{kindQueue},
		[]byte("q\x00\x05ab"),
		append(appendScope(nil, kindQueue, "p", "q"), 'x'),
		appendScope(nil, kindMessage, "p", "q"),
		appendScope(nil, kindClaim, "p", "q"),
		append(appendScope(nil, 'z', "p", "q"), 'x'),
	}
	for _, k := range bad {
		if _, err := parseKey(k); !errors.Is(err, errCorrupt) {
			t.Errorf("parseKey(%q) = %v, want errCorrupt", k, err)
		}
	}
}

func TestValueRoundTrip(t *testing.T) {
	m := engine.Msg{Created: 1, Expires: 2, DelayUntil: 3, TTL: 4, PostedTTL: 5, ClientID: [16]byte{1, 2},
		ClaimID: "0f2c6b0e-3d4f-4b1a-9c1e-2a5b6c7d8e9f", ClaimExpires: 6, ClaimCount: 7}
	v := appendMessageValue(nil, &m, []byte(`{"b":1}`))
	var got engine.Msg
	body, err := decodeMessageValue(v, &got)
	if err != nil || string(body) != `{"b":1}` || fmt.Sprint(got) != fmt.Sprint(m) {
		t.Fatalf("message round trip: %+v %q %v", got, body, err)
	}
	if b, err := messageBody(v); err != nil || string(b) != `{"b":1}` {
		t.Fatalf("messageBody = %q, %v", b, err)
	}

	q := engine.QueueRec{Metadata: []byte(`{"a":1}`), Created: 9}
	gq, err := decodeQueueValue(appendQueueValue(nil, &q))
	if err != nil || string(gq.Metadata) != `{"a":1}` || gq.Created != 9 {
		t.Fatalf("queue round trip: %+v %v", gq, err)
	}

	c := engine.ClaimRec{ID: "c", TTL: 1, Grace: 2, Updated: 3, Expires: 4}
	if gc, err := decodeClaimValue(appendClaimValue(nil, &c), "c"); err != nil || gc != c {
		t.Fatalf("claim round trip: %+v %v", gc, err)
	}

	for _, s := range []engine.SubRec{
		{ID: "s", Queue: "q", Subscriber: "http://h", TTL: 1, Options: []byte(`{}`), Confirmed: true, Created: 2, Expires: 3},
		{ID: "s", Queue: "q", Subscriber: "mailto:x", TTL: 1, Created: 2, Expires: 3},
	} {
		gs, err := decodeSubValue(appendSubValue(nil, &s), "q", "s")
		if err != nil || fmt.Sprint(gs) != fmt.Sprint(s) {
			t.Fatalf("subscription round trip: %+v %v", gs, err)
		}
	}
}

func TestExpiresAt(t *testing.T) {
	cases := []struct {
		ns   int64
		want uint64
	}{{1e9, 1}, {1e9 + 1, 2}, {2e9 - 1, 2}, {0, 1}, {-5, 1}}
	for _, c := range cases {
		if got := expiresAt(c.ns); got != c.want {
			t.Errorf("expiresAt(%d) = %d, want %d", c.ns, got, c.want)
		}
	}
}

// FuzzDecode feeds arbitrary bytes to every decoder: they must fail cleanly, never panic, and re-encode what
// they accept to the same bytes.
func FuzzDecode(f *testing.F) {
	m := engine.Msg{Created: 1, Expires: 2, ClaimID: "x", ClaimCount: 3}
	f.Add(appendMessageValue(nil, &m, []byte(`1`)))
	f.Add(appendQueueValue(nil, &engine.QueueRec{Metadata: []byte(`{}`)}))
	f.Add(appendClaimValue(nil, &engine.ClaimRec{TTL: 1}))
	f.Add(appendSubValue(nil, &engine.SubRec{Subscriber: "http://h", Options: []byte(`[]`)}))
	f.Add(appendMessageKey(nil, "p", "q", 1))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = parseKey(b) // must not panic
		var got engine.Msg
		if body, err := decodeMessageValue(b, &got); err == nil {
			if again := appendMessageValue(nil, &got, body); !bytes.Equal(again, b) {
				t.Fatalf("message %x re-encodes as %x", b, again)
			}
			if mb, err := messageBody(b); err != nil || !bytes.Equal(mb, body) {
				t.Fatalf("messageBody disagrees: %q %v", mb, err)
			}
		}
		if q, err := decodeQueueValue(b); err == nil {
			if again := appendQueueValue(nil, &q); !bytes.Equal(again, b) {
				t.Fatalf("queue %x re-encodes as %x", b, again)
			}
		}
		if c, err := decodeClaimValue(b, "c"); err == nil {
			if again := appendClaimValue(nil, &c); !bytes.Equal(again, b) {
				t.Fatalf("claim %x re-encodes as %x", b, again)
			}
		}
		if s, err := decodeSubValue(b, "q", "s"); err == nil {
			if again := appendSubValue(nil, &s); !bytes.Equal(again, b) {
				t.Fatalf("subscription %x re-encodes as %x", b, again)
			}
		}
	})
}

func TestMessageRecordSize(t *testing.T) {
	body := []byte(`{"sensor":"s-1","value":21.5}`)
	m := &engine.Msg{Seq: 77, Created: 1, Expires: 2, TTL: 3}
	want := len(appendMessageKey(nil, "proj", "sensor-1", m.Seq)) + len(appendMessageValue(nil, m, body))
	if got := MessageRecordSize("proj", "sensor-1", len(body)); got != want {
		t.Errorf("MessageRecordSize = %d, want %d", got, want)
	}
}
