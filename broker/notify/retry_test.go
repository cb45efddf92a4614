package notify

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

func TestBackoffSeries(t *testing.T) {
	cases := map[string][]int{
		"linear":      {5, 10, 15, 20, 25},
		"arithmetic":  {5, 7, 12, 20, 30},
		"geometric":   {5, 7, 12, 19, 30},
		"exponential": {5, 7, 12, 19, 30},
	}
	for fn, want := range cases {
		if got := backoff(fn, 5, 30); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", fn, got, want)
		}
	}
}

func TestScheduleAndPrecedence(t *testing.T) {
	secs := func(ds []time.Duration) []int {
		out := make([]int, len(ds))
		for i, d := range ds {
			out[i] = int(d / time.Second)
		}
		return out
	}
	def := secs(retryPolicy{}.schedule())
	if want := []int{0, 0, 0, 5, 5, 5, 5, 10, 15, 20, 25, 30, 30, 30}; !slices.Equal(def, want) {
		t.Errorf("default schedule %v, want %v", def, want)
	}
	cases := []struct {
		name, sub, queue string
		want             []int
	}{
		{"subscription wins", `{"retries_with_no_delay": 1, "minimum_delay_retries": 0, "maximum_delay_retries": 0, "minimum_delay": 10, "maximum_delay": 20}`,
			`{"retries_with_no_delay": 5}`, []int{0, 10, 15}},
		{"queue when the subscription has none", ``, `{"retries_with_no_delay": 2, "minimum_delay_retries": 0, "maximum_delay_retries": 0}`,
			[]int{0, 0, 5, 10, 15, 20, 25}},
		{"queue forces its policy", `{"retries_with_no_delay": 9}`,
			`{"ignore_subscription_override": true, "retries_with_no_delay": 1, "minimum_delay_retries": 0, "maximum_delay_retries": 0, "retry_backoff_function": "arithmetic"}`,
			[]int{0, 5, 7, 12, 20, 30}},
		{"subscription asks to be ignored", `{"ignore_subscription_override": true, "retries_with_no_delay": 9}`, ``, def},
	}
	for _, tc := range cases {
		p := choosePolicy(json.RawMessage(tc.sub), json.RawMessage(tc.queue))
		if got := secs(p.schedule()); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestPythonJSON(t *testing.T) {
	cases := map[string]string{
		`{"a":1,"b":[1,2,{"c":"x, y: z"}]}`: `{"a": 1, "b": [1, 2, {"c": "x, y: z"}]}`,
		"{ \"a\" :\n 1 }":                   `{"a": 1}`,
		`"esc\"aped, :"`:                    `"esc\"aped, :"`,
	}
	for in, want := range cases {
		if got := string(pythonJSON(nil, []byte(in))); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
}
