package broker

import (
	"encoding/json"
	"strconv"
)

// Reserved queue metadata keys (§7). The first seven are reported with defaults by GET, PATCH and detailed
// listing; replace/remove on them is accepted by PATCH even when they are not stored.
const (
	KeyMaxMessagesPostSize  = "_max_messages_post_size"
	KeyDefaultMessageTTL    = "_default_message_ttl"
	KeyDefaultMessageDelay  = "_default_message_delay"
	KeyDeadLetterQueue      = "_dead_letter_queue"
	KeyDeadLetterQueueTTL   = "_dead_letter_queue_messages_ttl"
	KeyMaxClaimCount        = "_max_claim_count"
	KeyEnableEncryptMessage = "_enable_encrypt_messages"
	KeyRetryPolicy          = "_retry_policy"
)

// reservedDefaults returns the reported defaults of the reserved keys, as raw JSON.
func reservedDefaults(l Limits) Metadata {
	return Metadata{
		KeyMaxMessagesPostSize:  json.RawMessage(strconv.Itoa(l.MaxMessagesPostSize)),
		KeyDefaultMessageTTL:    json.RawMessage(strconv.Itoa(l.DefaultMessageTTL)),
		KeyDefaultMessageDelay:  json.RawMessage(strconv.Itoa(l.DefaultMessageDelay)),
		KeyDeadLetterQueue:      json.RawMessage("null"),
		KeyDeadLetterQueueTTL:   json.RawMessage("null"),
		KeyMaxClaimCount:        json.RawMessage("null"),
		KeyEnableEncryptMessage: json.RawMessage("false"),
	}
}

// withDefaults fills in the reported default of every reserved key that is missing or falsy (Zaqar's
// `if not metadata.get(key)`), modifying md.
func (s *Service) withDefaults(md Metadata) Metadata {
	if md == nil {
		md = make(Metadata, len(s.defaults))
	}
	for k, v := range s.defaults {
		if cur, ok := md[k]; !ok || !truthy(cur) {
			md[k] = v
		}
	}
	return md
}

// validateReserved checks the reserved keys of metadata in Zaqar's order and with its texts: a type is checked only
// when the value is truthy, then the range whenever the value is not null (so 0 fails a range that excludes it).
// kind is ErrInvalid for PUT and ErrBadBody for PATCH, as in Zaqar.
func validateReserved(md Metadata, l Limits, kind error) error {
	if len(md) == 0 {
		return nil
	}
	fail := func(format string, args ...any) error { return Errorf(kind, format, args...) }

	// intKey checks an integer key; in range reports whether n is acceptable. A falsy value that is not a number
	// (``, [], {}) cannot be compared: Zaqar fails with a TypeError, we report the type text.
	intKey := func(key string, inRange func(n float64) bool, rangeErr func() error) error {
		v, ok := md[key]
		if !ok || isNull(v) {
			return nil
		}
		if truthy(v) && !isPyInt(v) {
			return fail("%s must be integer.", key)
		}
		if inRange == nil {
			return nil
		}
		n, ok := pyNumber(v)
		if !ok {
			return fail("%s must be integer.", key)
		}
		if !inRange(n) {
			return rangeErr()
		}
		return nil
	}

	if err := intKey(KeyDefaultMessageTTL,
		func(n float64) bool { return n >= float64(l.MinMessageTTL) && n <= float64(l.MaxMessageTTL) },
		func() error {
			return fail("_default_message_ttl can not exceed %d seconds, and must be at least %d seconds long.",
				l.MaxMessageTTL, l.MinMessageTTL)
		}); err != nil {
		return err
	}
	if err := intKey(KeyMaxMessagesPostSize,
		func(n float64) bool { return n > 0 && n <= float64(l.MaxMessagesPostSize) },
		func() error {
			// Two spaces after the comma, as in Zaqar.
			return fail("_max_messages_post_size can not exceed %d,  and must be at least greater than 0.",
				l.MaxMessagesPostSize)
		}); err != nil {
		return err
	}
	if err := intKey(KeyMaxClaimCount, nil, nil); err != nil {
		return err
	}
	if err := intKey(KeyDeadLetterQueueTTL,
		func(n float64) bool { return n >= float64(l.MinMessageTTL) && n <= float64(l.MaxMessageTTL) },
		func() error {
			return fail("The TTL for a message may not exceed %d seconds, and must be at least %d seconds long.",
				l.MaxMessageTTL, l.MinMessageTTL)
		}); err != nil {
		return err
	}
	if err := intKey(KeyDefaultMessageDelay,
		func(n float64) bool { return n >= 0 && n <= float64(l.MaxMessageDelay) },
		func() error {
			return fail("The TTL can not exceed %d seconds, and must be at least 0 seconds long.", l.MaxMessageDelay)
		}); err != nil {
		return err
	}
	if v, ok := md[KeyEnableEncryptMessage]; ok && truthy(v) && !isBool(v) {
		return fail("_enable_encrypt_messages must be boolean.")
	}
	if v, ok := md[KeyRetryPolicy]; ok {
		return validateRetryPolicy(v, kind)
	}
	return nil
}

// Retry policy defaults used by the validation (§11.5).
const (
	retryDefaultMinimumDelay = 5
	retryDefaultMaximumDelay = 30
	retryMinimumSpread       = 10 // two linear back-off steps of 5 s
)

// retryIntKeys are the integer keys of a retry policy, in Zaqar's checking order.
var retryIntKeys = [...]string{"retries_with_no_delay", "minimum_delay_retries", "minimum_delay", "maximum_delay",
	"maximum_delay_retries"}

// validateRetryPolicy checks a _retry_policy value (queue metadata or subscription options) with §11.5's rules.
func validateRetryPolicy(policy []byte, kind error) error {
	if !truthy(policy) {
		return nil
	}
	if !isObject(policy) {
		return Errorf(kind, "retry_policy must be a dict.")
	}
	get := func(key string) ([]byte, bool) { return lastMember(policy, key) }
	for _, key := range retryIntKeys {
		if v, ok := get(key); ok && truthy(v) && !isPyInt(v) {
			return Errorf(kind, "Retry policy: %s must be a integer.", key)
		}
	}
	if v, ok := get("retry_backoff_function"); ok && truthy(v) {
		if !isString(v) {
			return Errorf(kind, "retry_backoff_function must be a string.")
		}
		switch decodeString(v) {
		case "linear", "arithmetic", "exponential", "geometric":
		default:
			return Errorf(kind, "invalid retry_backoff_function.")
		}
	}
	if v, ok := get("ignore_subscription_override"); ok && truthy(v) && !isBool(v) {
		return Errorf(kind, "ignore_subscription_override must be a boolean.")
	}
	delay := func(key string, def float64) float64 {
		if v, ok := get(key); ok {
			if n, ok := pyNumber(v); ok {
				return n
			}
		}
		return def // absent, null or another falsy value
	}
	minDelay := delay("minimum_delay", retryDefaultMinimumDelay)
	maxDelay := delay("maximum_delay", retryDefaultMaximumDelay)
	if maxDelay < minDelay {
		return Errorf(kind, "minimum_delay must less than maximum_delay.")
	}
	if maxDelay-minDelay < retryMinimumSpread {
		return Errorf(kind, "invalid minimum_delay and maximum_delay.")
	}
	return nil
}

// queueSettings are the reserved values that steer posting and claiming, read from stored metadata.
type queueSettings struct {
	maxPostSize   int64 // 0: not set
	defaultTTL    int64 // 0: not set
	defaultDelay  int64 // 0: not a delay queue
	maxClaimCount int64
	deadLetter    string
	deadLetterTTL int64
}

// readSettings extracts the queue settings from stored metadata (a JSON object) without allocating. Values that are
// falsy or of the wrong type count as unset, as Zaqar's `if value:` tests do.
func readSettings(metadata []byte) queueSettings {
	var qs queueSettings
	if len(metadata) == 0 || checkStored(metadata) != nil {
		return qs
	}
	intOf := func(v []byte) int64 {
		if n, ok := pyInt(v); ok {
			return n
		}
		return 0
	}
	it := members(metadata[skipWS(metadata, 0):])
	for k, v, ok := it.next(); ok; k, v, ok = it.next() {
		if len(k) < 3 || k[1] != '_' { // only reserved keys matter here
			continue
		}
		switch {
		case keyIs(k, KeyMaxMessagesPostSize):
			qs.maxPostSize = intOf(v)
		case keyIs(k, KeyDefaultMessageTTL):
			qs.defaultTTL = intOf(v)
		case keyIs(k, KeyDefaultMessageDelay):
			qs.defaultDelay = intOf(v)
		case keyIs(k, KeyMaxClaimCount):
			qs.maxClaimCount = intOf(v)
		case keyIs(k, KeyDeadLetterQueueTTL):
			qs.deadLetterTTL = intOf(v)
		case keyIs(k, KeyDeadLetterQueue):
			if isString(v) {
				qs.deadLetter = decodeString(v)
			} else {
				qs.deadLetter = ""
			}
		}
	}
	return qs
}

// errCorruptMetadata marks stored metadata that is not a JSON object (written by something other than this
// service); it is treated as empty rather than failing every request on the queue.
var errCorruptMetadata = Errorf(ErrUnavailable, "stored queue metadata is not a JSON object")

// checkStored verifies that stored metadata is a JSON object.
func checkStored(metadata []byte) error {
	i := skipWS(metadata, 0)
	if i >= len(metadata) || metadata[i] != '{' {
		return errCorruptMetadata
	}
	// Stored metadata is written by this service, already validated; a full check costs little for the
	// rare paths and guards against a damaged store.
	if checkJSON(metadata) != jsonOK {
		return errCorruptMetadata
	}
	return nil
}

// storedMetadata decodes stored metadata into a map whose values are a private copy.
func storedMetadata(raw []byte) Metadata {
	if len(raw) == 0 || checkStored(raw) != nil {
		return Metadata{}
	}
	own := make([]byte, len(raw))
	copy(own, raw)
	i := skipWS(own, 0)
	return parseObject(own[i:])
}
