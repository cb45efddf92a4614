package broker

import (
	"encoding/json"
	"testing"
	"time"
)

func TestAgeSeconds(t *testing.T) {
	now := time.Unix(1_000_000, 500_000_000)
	cases := []struct {
		name string
		t    time.Time
		want int64
	}{
		{"zero time", time.Time{}, 0},
		{"in the future (clock skew)", now.Add(3 * time.Second), 0},
		{"same second", now.Add(-400 * time.Millisecond), 0},
		{"whole seconds", now.Add(-61 * time.Second), 61},
	}
	for _, c := range cases {
		if got := AgeSeconds(now, c.t); got != c.want {
			t.Errorf("%s: AgeSeconds = %d, want %d", c.name, got, c.want)
		}
	}
}

func TestAppendSubscriptionJSON(t *testing.T) {
	now := time.Unix(1_000_100, 0)
	sub := Subscription{ID: "5f0c", Queue: "alerts", Subscriber: `http://example.test/"hook"`, TTL: 3600 * time.Second,
		Created: time.Unix(1_000_000, 0), Options: json.RawMessage(`{"a": 1}`), Confirmed: true}
	want := `{"id": "5f0c", "source": "alerts", "subscriber": "http://example.test/\"hook\"", "ttl": 3600, "age": 100, ` +
		`"options": {"a": 1}, "confirmed": true}`
	if got := string(AppendSubscriptionJSON([]byte("x"), &sub, now)); got != "x"+want {
		t.Errorf("got  %s\nwant x%s", got, want)
	}
	sub.Options, sub.Confirmed = nil, false
	got := AppendSubscriptionJSON(nil, &sub, now)
	var v struct {
		Options   map[string]any
		Confirmed *bool
	}
	if err := json.Unmarshal(got, &v); err != nil || v.Options == nil || len(v.Options) != 0 || v.Confirmed == nil || *v.Confirmed {
		t.Errorf("no options, unconfirmed: %s (%v)", got, err)
	}
}
