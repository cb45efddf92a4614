package broker

import (
	"math"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/zedge-io/zedge/store"
)

// Body decoders. Each one reproduces the order of Zaqar's checks, because the first failing check decides the
// error text a client sees. They work on the raw bytes (see jsonscan.go) and never re-encode values.

// parseBody validates a request body as Zaqar's read_json does and returns its top-level value, trimmed.
func parseBody(body []byte) ([]byte, error) {
	top, _, _, err := parseBodyCapture(body, "")
	return top, err
}

// parseBodyCapture is parseBody that also returns the last top-level member named key (see checkJSONCapture).
func parseBodyCapture(body []byte, key string) (top, member []byte, found bool, err error) {
	problem, member, found := checkJSONCapture(body, key)
	switch problem {
	case jsonMalformed:
		return nil, nil, false, Errorf(ErrBadBody, "Request body could not be parsed.")
	case jsonIntTooLarge:
		return nil, nil, false, Errorf(ErrBadBody, "JSON contains integer that is too large.")
	}
	return trimJSON(body), member, found, nil
}

// trimJSON trims JSON white space around a value.
func trimJSON(body []byte) []byte {
	end := len(body)
	for end > 0 && (body[end-1] == ' ' || body[end-1] == '\t' || body[end-1] == '\n' || body[end-1] == '\r') {
		end--
	}
	return body[skipWS(body, 0):end]
}

func errDocumentType() error { return Errorf(ErrBadBody, "Document type not supported.") }

// --- messages ---

// postSpec holds what a queue's metadata says about posting to it.
type postSpec struct {
	defaultTTL   int64
	delayQueue   bool // the queue has a truthy _default_message_delay: per-message delay is honoured
	defaultDelay int64
}

// message member names, classified once per key.
const (
	msgKeyOther = iota
	msgKeyTTL
	msgKeyBody
	msgKeyDelay
)

func classifyMessageKey(raw []byte) int {
	inner := raw[1 : len(raw)-1]
	for _, c := range inner {
		if c == '\\' {
			switch decodeString(raw) {
			case "ttl":
				return msgKeyTTL
			case "body":
				return msgKeyBody
			case "delay":
				return msgKeyDelay
			}
			return msgKeyOther
		}
	}
	switch string(inner) {
	case "ttl":
		return msgKeyTTL
	case "body":
		return msgKeyBody
	case "delay":
		return msgKeyDelay
	}
	return msgKeyOther
}

// decodeMessages turns a post body into messages ready for the store, in Zaqar's order: parse, find "messages",
// type-check every message (ttl, body, delay), then range-check every message. The message bodies are copied into
// one fresh buffer, so the result does not alias body.
func decodeMessages(body []byte, spec postSpec, l *Limits, client ClientID) ([]store.NewMessage, error) {
	if len(body) == 0 {
		return nil, Errorf(ErrBadBody, "Request body can not be empty")
	}
	_, list, found, err := parseBodyCapture(body, "messages")
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, Errorf(ErrInvalid, "No messages were found in the request body.")
	}
	if !isArray(list) {
		return nil, errDocumentType()
	}

	// Pass 1: types. TTL and Delay hold whole seconds until the range pass converts them. Small posts collect
	// into a stack buffer so the result is a single exact-size allocation.
	var small [16]store.NewMessage
	out := small[:0]
	total := 0
	// The elements are walked in place, each object once (no separate skip over it).
	for i := skipWS(list, 1); i < len(list) && list[i] != ']'; i = skipWS(list, i) {
		if list[i] == ',' {
			i = skipWS(list, i+1)
		}
		if list[i] != '{' {
			return nil, errDocumentType()
		}
		var ttlV, bodyV, delayV []byte
		hasTTL, hasBody, hasDelay := false, false, false
		mi := membersAt(list, i)
		for k, v, ok := mi.next(); ok; k, v, ok = mi.next() {
			switch classifyMessageKey(k) {
			case msgKeyTTL:
				ttlV, hasTTL = v, true
			case msgKeyBody:
				bodyV, hasBody = v, true
			case msgKeyDelay:
				delayV, hasDelay = v, true
			}
		}
		i = mi.pos()
		ttl := spec.defaultTTL
		if hasTTL {
			v, ok := pyInt(ttlV)
			if !ok {
				return nil, Errorf(ErrBadBody, `The value of the "ttl" field must be a int.`)
			}
			ttl = v
		}
		if !hasBody {
			return nil, Errorf(ErrBadBody, `Missing "body" field.`)
		}
		var delay int64
		if spec.delayQueue {
			delay = spec.defaultDelay
			if hasDelay {
				v, ok := pyInt(delayV)
				if !ok {
					return nil, Errorf(ErrBadBody, `The value of the "delay" field must be a int.`)
				}
				delay = v
			}
		}
		out = append(out, store.NewMessage{Body: bodyV, TTL: time.Duration(ttl), Delay: time.Duration(delay), ClientID: client})
		total += len(bodyV)
	}
	if len(out) == 0 {
		return nil, Errorf(ErrInvalid, "No messages to enqueu.")
	}
	msgs := make([]store.NewMessage, len(out))
	copy(msgs, out)

	// Pass 2: ranges.
	for i := range msgs {
		ttl := int64(msgs[i].TTL)
		if ttl < int64(l.MinMessageTTL) || ttl > int64(l.MaxMessageTTL) {
			return nil, Errorf(ErrInvalid,
				"The TTL for a message may not exceed %d seconds, and must be at least %d seconds long.",
				l.MaxMessageTTL, l.MinMessageTTL)
		}
		delay := int64(msgs[i].Delay)
		if spec.delayQueue && (delay < 0 || delay > int64(l.MaxMessageDelay)) {
			return nil, Errorf(ErrInvalid,
				"The Delay TTL for a message may not exceed %d seconds,and must be at least 0 seconds long.",
				l.MaxMessageDelay)
		}
		msgs[i].TTL = seconds(ttl)
		msgs[i].Delay = seconds(delay)
	}

	arena := make([]byte, total)
	off := 0
	for i := range msgs {
		b := msgs[i].Body
		copy(arena[off:], b)
		msgs[i].Body = arena[off : off+len(b) : off+len(b)]
		off += len(b)
	}
	return msgs, nil
}

// --- claims ---

// DecodeClaimOptions parses a raw claim body ({"ttl": N, "grace": G}, both optional). An empty body means the
// defaults; a body must be a JSON object; ttl and grace must be JSON integers, and null means the default (a
// superset of Zaqar, which rejects the {"ttl": null, "grace": null} python-zaqarclient sends, spec §14 #4).
// Ranges are checked by CreateClaim and UpdateClaim. A "limit" member is ignored: over HTTP the limit is a query
// parameter, and a transport that takes it from the body (websocket) sets ClaimOptions.Limit itself.
func DecodeClaimOptions(body []byte) (ClaimOptions, error) {
	var opt ClaimOptions
	if len(body) == 0 {
		return opt, nil
	}
	top, err := parseBody(body)
	if err != nil {
		return opt, err
	}
	if !isObject(top) {
		return opt, errDocumentType()
	}
	field := func(name string) (*int, error) {
		v, ok := lastMember(top, name)
		if !ok || isNull(v) {
			return nil, nil
		}
		n, ok := pyInt(v)
		if !ok {
			return nil, Errorf(ErrBadBody, `The value of the "%s" field must be a int.`, name)
		}
		i := int(n)
		return &i, nil
	}
	if opt.TTL, err = field("ttl"); err != nil {
		return ClaimOptions{}, err
	}
	if opt.Grace, err = field("grace"); err != nil {
		return ClaimOptions{}, err
	}
	return opt, nil
}

// --- queues ---

// decodeQueueMetadata parses a PUT body: optional, at most MaxQueueMetadata bytes, a JSON object whose reserved
// keys are valid.
func decodeQueueMetadata(body []byte, l *Limits) (Metadata, error) {
	if len(body) > l.MaxQueueMetadata {
		return nil, Errorf(ErrInvalid, "Queue metadata is too large. Max size: %d", l.MaxQueueMetadata)
	}
	if len(body) == 0 {
		return Metadata{}, nil
	}
	top, err := parseBody(body)
	if err != nil {
		return nil, err
	}
	if !isObject(top) {
		return nil, errDocumentType()
	}
	md := parseObject(top)
	if err := validateReserved(md, *l, ErrInvalid); err != nil {
		return nil, err
	}
	return md, nil
}

// patchOp is one validated operation of a queue PATCH.
type patchOp struct {
	op    string // add, remove or replace
	key   string // the metadata key (second path segment, unescaped and trimmed)
	value []byte // raw; nil for remove
}

const patchOps = "add, remove, replace"

// decodePatch validates a queue PATCH body (Zaqar's restricted JSON-patch, draft 10) and returns its operations.
// Every error is ErrBadBody, as Zaqar reports them.
func decodePatch(body []byte, l *Limits) ([]patchOp, error) {
	bad := func(format string, args ...any) error { return Errorf(ErrBadBody, format, args...) }
	if len(body) > l.MaxQueueMetadata {
		return nil, bad("Queue metadata is too large. Max size: %d", l.MaxQueueMetadata)
	}
	if len(body) == 0 {
		return nil, bad("PATCH body could not be empty for update.")
	}
	top, err := parseBody(body)
	if err != nil {
		return nil, err
	}
	if !isArray(top) {
		// Zaqar answers 503 here (a caught exception); spec §14 #5 asks for this 400 instead.
		return nil, errDocumentType()
	}
	var ops []patchOp
	it := elements(top)
	for raw, ok := it.next(); ok; raw, ok = it.next() {
		if !isObject(raw) {
			return nil, bad("Operations must be JSON objects.")
		}
		opV, hasOp := lastMember(raw, "op")
		if !hasOp || isNull(opV) {
			return nil, bad("Unable to find `op` in JSON Schema change. It must be one of the following: %s.", patchOps)
		}
		op := ""
		if isString(opV) {
			op = decodeString(opV)
		}
		if op != "add" && op != "remove" && op != "replace" {
			return nil, bad("Invalid operation: `%s`. It must be one of the following: %s.", pyStr(opV), patchOps)
		}
		pathV, hasPath := lastMember(raw, "path")
		if !hasPath {
			return nil, bad("Unable to find 'path' in JSON Schema change")
		}
		if !isString(pathV) {
			// Zaqar fails on a non-string path with an internal error; the pointer text is the closest rule.
			return nil, bad("Pointer `%s` does not start with \"/\".", pyStr(pathV))
		}
		segments, err := decodePointer(decodeString(pathV))
		if err != nil {
			return nil, err
		}
		if len(segments) != 2 {
			return nil, bad("Invalid JSON pointer for this resource: '/%s, e.g /metadata/key'", strings.Join(segments, "/"))
		}
		p := patchOp{op: op, key: segments[1]}
		if op != "remove" {
			v, ok := lastMember(raw, "value")
			if !ok {
				return nil, bad("Operation \"%s\" requires a member named \"value\".", op)
			}
			p.value = v
			if strings.ToLower(segments[0]) != "metadata" {
				return nil, bad("The root of path must be metadata, e.g /metadata/key.")
			}
		}
		ops = append(ops, p)
	}
	return ops, nil
}

// decodePointer validates and splits a JSON pointer as Zaqar does (its limited form, with its texts).
func decodePointer(pointer string) ([]string, error) {
	bad := func(format string) error { return Errorf(ErrBadBody, format, pointer) }
	if !strings.HasPrefix(pointer, "/") {
		return nil, bad("Pointer `%s` does not start with \"/\".")
	}
	if hasAdjacentSlashes(pointer[1:]) {
		return nil, bad("Pointer `%s` contains adjacent \"/\".")
	}
	if len(pointer) > 1 && strings.HasSuffix(pointer, "/") {
		return nil, bad("Pointer `%s` end with \"/\".")
	}
	if strings.TrimFunc(pointer[1:], isPySpace) == "/" {
		return nil, bad("Pointer `%s` does not contains valid token.")
	}
	if badTilde(pointer) {
		return nil, bad("Pointer `%s` contains \"~\" not part of a recognized escape sequence.")
	}
	parts := strings.Split(strings.TrimLeft(pointer, "/"), "/")
	for i, part := range parts {
		part = strings.ReplaceAll(part, "~1", "/")
		part = strings.ReplaceAll(part, "~0", "~")
		parts[i] = strings.TrimFunc(part, isPySpace)
	}
	return parts, nil
}

// hasAdjacentSlashes mirrors re.search(r'/\s*?/', s).
func hasAdjacentSlashes(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '/' {
			continue
		}
		rest := strings.TrimLeftFunc(s[i+1:], isPySpace)
		if strings.HasPrefix(rest, "/") {
			return true
		}
	}
	return false
}

// badTilde mirrors re.search('~[^01]', s) or s.endswith('~').
func badTilde(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '~' && (i+1 == len(s) || (s[i+1] != '0' && s[i+1] != '1')) {
			return true
		}
	}
	return false
}

// isPySpace mirrors Python's str.isspace: Unicode white space plus the ASCII separators \x1c-\x1f.
func isPySpace(r rune) bool { return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f) }

// purgeTargets is what a purge body asks for.
type purgeTargets struct{ messages, subscriptions bool }

// decodePurge parses a purge body: optional (both kinds), else {"resource_types": [...]} with a subset of
// {"messages", "subscriptions"}.
func decodePurge(body []byte) (purgeTargets, error) {
	if len(body) == 0 {
		return purgeTargets{messages: true, subscriptions: true}, nil
	}
	top, err := parseBody(body)
	if err != nil {
		return purgeTargets{}, err
	}
	var types []byte
	found := false
	if isObject(top) {
		types, found = lastMember(top, "resource_types")
	}
	if !found {
		return purgeTargets{}, Errorf(ErrInvalid, `Post body must contain key "resource_types".`)
	}
	subsetErr := Errorf(ErrInvalid, "Resource types must be a sub set of {'messages', 'subscriptions'}.")
	if !isArray(types) {
		return purgeTargets{}, subsetErr
	}
	var t purgeTargets
	it := elements(types)
	for v, ok := it.next(); ok; v, ok = it.next() {
		if !isString(v) {
			return purgeTargets{}, subsetErr
		}
		switch decodeString(v) {
		case "messages":
			t.messages = true
		case "subscriptions":
			t.subscriptions = true
		default:
			return purgeTargets{}, subsetErr
		}
	}
	return t, nil
}

// --- subscriptions ---

// subscriptionFields are the validated members of a subscription body.
type subscriptionFields struct {
	subscriber    string
	hasSubscriber bool
	ttl           int64 // seconds
	hasTTL        bool
	options       []byte // raw, copied
	hasOptions    bool
}

// maxSubscriptionTTL bounds a subscription ttl: Zaqar refuses one that overflows Python's datetime (year 9999);
// ours must also fit a time.Duration (about 292 years), which is the tighter bound.
func maxSubscriptionTTL(now time.Time) int64 {
	untilYear9999 := time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).Unix() - now.Unix()
	return min(untilYear9999, math.MaxInt64/int64(time.Second))
}

// decodeSubscriptionCreate validates a POST body: "subscriber" is required, then the shared field rules apply.
// An empty body counts as {}.
func decodeSubscriptionCreate(body []byte, l *Limits, now time.Time) (subscriptionFields, error) {
	top := []byte("{}")
	if len(body) > 0 {
		var err error
		if top, err = parseBody(body); err != nil {
			return subscriptionFields{}, err
		}
	}
	if !isObject(top) {
		return subscriptionFields{}, Errorf(ErrInvalid, "Subscriptions must be a dict.")
	}
	if _, ok := lastMember(top, "subscriber"); !ok {
		return subscriptionFields{}, Errorf(ErrInvalid, "Missing parameter subscriber in body.")
	}
	f, err := subscriptionBodyFields(top, l, now, true)
	if err != nil {
		return f, err
	}
	return f, nil
}

// decodeSubscriptionPatch validates a PATCH body. An empty body, {} or [] is "No subscription to create.".
func decodeSubscriptionPatch(body []byte, l *Limits, now time.Time) (subscriptionFields, error) {
	top := []byte("{}")
	if len(body) > 0 {
		var err error
		if top, err = parseBody(body); err != nil {
			return subscriptionFields{}, err
		}
	}
	if !truthy(top) {
		return subscriptionFields{}, Errorf(ErrInvalid, "No subscription to create.")
	}
	if !isObject(top) {
		return subscriptionFields{}, Errorf(ErrInvalid, "Subscriptions must be a dict.")
	}
	return subscriptionBodyFields(top, l, now, false)
}

// subscriptionBodyFields applies Zaqar's subscription_patching rules in order: subscriber scheme, options type,
// options._retry_policy, ttl. Deliberate differences from Zaqar, which stores whatever passes:
//   - a subscriber that is present but not a non-empty string is rejected with the scheme text on create, and
//     on PATCH unless it is null (null means "unchanged", as Zaqar drops None fields);
//   - a falsy ttl (0, false, null) means the default on create and "unchanged" on PATCH, where Zaqar would store
//     a subscription that expires at once.
func subscriptionBodyFields(top []byte, l *Limits, now time.Time, create bool) (subscriptionFields, error) {
	var f subscriptionFields
	if v, ok := lastMember(top, "subscriber"); ok && (create || !isNull(v)) {
		scheme := ""
		if isString(v) {
			f.subscriber = decodeString(v)
			scheme = subscriberScheme(f.subscriber)
		}
		supported := scheme != "" && (slices.Contains(l.SubscriberTypes, scheme) || slices.Contains(l.transportSchemes, scheme))
		if !supported {
			return f, Errorf(ErrInvalid, "The subscriber type of subscription must be supported in the list %s.",
				pyStringList(l.SubscriberTypes))
		}
		f.hasSubscriber = true
	}
	if v, ok := lastMember(top, "options"); ok {
		if truthy(v) && !isObject(v) {
			return f, Errorf(ErrInvalid, "Options must be a dict.")
		}
		if isObject(v) {
			if rp, ok := lastMember(v, KeyRetryPolicy); ok {
				if err := validateRetryPolicy(rp, ErrInvalid); err != nil {
					return f, err
				}
			}
		}
		if !isNull(v) || create {
			f.options = append([]byte(nil), v...)
			f.hasOptions = true
		}
	}
	if v, ok := lastMember(top, "ttl"); ok && truthy(v) {
		n, ok := pyInt(v)
		if !ok {
			return f, Errorf(ErrInvalid, "TTL must be an integer.")
		}
		if n < int64(l.MinSubscriptionTTL) {
			return f, Errorf(ErrInvalid, "The TTL for a subscription must be at least %d seconds long.", l.MinSubscriptionTTL)
		}
		if n > maxSubscriptionTTL(now) {
			return f, Errorf(ErrInvalid,
				"The TTL seconds for a subscription plus current time must be less than 9999-12-31 23:59:59.999999.")
		}
		f.ttl, f.hasTTL = n, true
	}
	return f, nil
}

// unsafeURLBytes removes what urlsplit removes before it splits (built once: a Replacer costs kilobytes).
var unsafeURLBytes = strings.NewReplacer("\t", "", "\r", "", "\n", "")

// subscriberScheme returns the URI scheme as Python's urllib.parse.urlsplit finds it (lower-cased), or "".
func subscriberScheme(uri string) string {
	uri = strings.TrimLeft(uri, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\r\x0e\x0f"+
		"\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f ")
	uri = unsafeURLBytes.Replace(uri)
	i := strings.IndexByte(uri, ':')
	if i <= 0 {
		return ""
	}
	c := uri[0]
	if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
		return ""
	}
	for j := 1; j < i; j++ {
		c := uri[j]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
			return ""
		}
	}
	return strings.ToLower(uri[:i])
}

// decodeConfirm parses a confirm body: {"confirmed": true|false}. A body that is not an object fails inside
// Zaqar's handler and is reported as "could not be confirmed".
func decodeConfirm(body []byte, id string) (bool, error) {
	top := []byte("{}")
	if len(body) > 0 {
		var err error
		if top, err = parseBody(body); err != nil {
			return false, err
		}
	}
	if !isObject(top) {
		return false, Errorf(ErrCannotConfirmSub, "Subscription %s could not be confirmed.", id)
	}
	v, ok := lastMember(top, "confirmed")
	if !ok || !isBool(v) {
		return false, Errorf(ErrInvalid, "The 'confirmed' should be boolean.")
	}
	return v[0] == 't', nil
}
