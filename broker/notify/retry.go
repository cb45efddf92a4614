package notify

import (
	"encoding/json"
	"math"
	"time"
)

// Retry policy defaults (spec §11.5).
const (
	defaultRetriesWithNoDelay  = 3
	defaultMinimumDelayRetries = 3
	defaultMinimumDelay        = 5
	defaultMaximumDelay        = 30
	defaultMaximumDelayRetries = 3
	backoffStep                = 5 // Zaqar's LINEAR_INTERVAL
)

// retryPolicy is a _retry_policy object; absent keys take the defaults.
type retryPolicy struct {
	RetriesWithNoDelay         *int    `json:"retries_with_no_delay"`
	MinimumDelayRetries        *int    `json:"minimum_delay_retries"`
	MinimumDelay               *int    `json:"minimum_delay"`
	MaximumDelay               *int    `json:"maximum_delay"`
	MaximumDelayRetries        *int    `json:"maximum_delay_retries"`
	RetryBackoffFunction       *string `json:"retry_backoff_function"`
	IgnoreSubscriptionOverride *bool   `json:"ignore_subscription_override"`
}

// parsePolicy reads a raw _retry_policy; anything that is not an object (or does not decode) counts as none,
// as a falsy policy does in Zaqar. The Service validated it when it was stored.
func parsePolicy(raw json.RawMessage) (retryPolicy, bool) {
	var p retryPolicy
	if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &p) != nil {
		return retryPolicy{}, false
	}
	return p, p != (retryPolicy{})
}

// choosePolicy applies Zaqar's precedence: the queue's policy when either one says
// ignore_subscription_override, else the subscription's, else the queue's, else the defaults.
func choosePolicy(sub, queue json.RawMessage) retryPolicy {
	sp, subSet := parsePolicy(sub)
	qp, _ := parsePolicy(queue)
	ignore := func(p retryPolicy) bool { return p.IgnoreSubscriptionOverride != nil && *p.IgnoreSubscriptionOverride }
	switch {
	case ignore(sp) || ignore(qp):
		return qp
	case subSet:
		return sp
	}
	return qp
}

// intOr is dict.get(key, def): a present value wins, even 0.
func intOr(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}

// schedule is the delay before each retry after a failed first attempt: retries_with_no_delay immediate
// ones, minimum_delay_retries after minimum_delay each, one after each step of the back-off series from
// minimum_delay towards maximum_delay, then maximum_delay_retries after maximum_delay each.
func (p retryPolicy) schedule() []time.Duration {
	minDelay := intOr(p.MinimumDelay, defaultMinimumDelay)
	maxDelay := intOr(p.MaximumDelay, defaultMaximumDelay)
	fn := "linear"
	if p.RetryBackoffFunction != nil && *p.RetryBackoffFunction != "" {
		fn = *p.RetryBackoffFunction
	}
	var out []time.Duration
	add := func(n int, seconds int) {
		for range max(n, 0) {
			out = append(out, time.Duration(seconds)*time.Second)
		}
	}
	add(intOr(p.RetriesWithNoDelay, defaultRetriesWithNoDelay), 0)
	add(intOr(p.MinimumDelayRetries, defaultMinimumDelayRetries), minDelay)
	for _, d := range backoff(fn, minDelay, maxDelay) {
		add(1, d)
	}
	add(intOr(p.MaximumDelayRetries, defaultMaximumDelayRetries), maxDelay)
	return out
}

// backoff is Zaqar's back-off series between minDelay and maxDelay (zaqar/notification/tasks/webhook.py):
// with the defaults linear 5 10 15 20 25, arithmetic 5 7 12 20 30, geometric and exponential 5 7 12 19 30.
func backoff(fn string, minDelay, maxDelay int) []int {
	if fn == "linear" {
		var out []int
		for d := minDelay; d < maxDelay; d += backoffStep {
			out = append(out, d)
		}
		return out
	}
	xMax := (maxDelay - minDelay) / backoffStep
	if xMax < 2 || minDelay <= 0 {
		return []int{minDelay} // the validation keeps policies away from here; stay sane anyway
	}
	out := make([]int, 0, xMax)
	// A tiny epsilon: Python's int() of 5*6**(4/4) computed in floats lands on 30, as the spec's table says.
	floor := func(f float64) int { return int(math.Floor(f + 1e-9)) }
	switch fn {
	case "arithmetic":
		d := 2.0 * float64(maxDelay-minDelay) / float64(xMax*(xMax-1))
		for a := 1; a <= xMax; a++ {
			out = append(out, floor(float64(minDelay)+float64((a-1)*a)*d/2))
		}
	default: // geometric and exponential give the same series
		k := math.Pow(float64(maxDelay)/float64(minDelay), 1/float64(xMax-1))
		for a := 1; a <= xMax; a++ {
			out = append(out, floor(float64(minDelay)*math.Pow(k, float64(a-1))))
		}
	}
	return out
}
