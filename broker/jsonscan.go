package broker

import (
	"bytes"
	"encoding/json"
	"github.com/zedge-io/zedge/internal/jsonw"
	"github.com/zedge-io/zedge/internal/pyrepr"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file is a small JSON toolkit shaped by Zaqar's read_json: one validating pass that reports problems the way
// Python's json.loads (with Zaqar's int hook) does, then allocation-free walkers over the validated bytes that hand
// out raw sub-slices. Values are never re-encoded, so message bodies and metadata values stay byte-faithful.

// jsonProblem is what checkJSON found wrong with a body.
type jsonProblem uint8

const (
	jsonOK          jsonProblem = iota
	jsonMalformed               // not UTF-8, not JSON, or a top level that is neither object nor array
	jsonIntTooLarge             // an integer literal outside int64
)

// maxJSONDepth bounds nesting like Python's recursion limit does (it raises instead of parsing deeper).
const maxJSONDepth = 1000

// checkJSON validates a whole request body. Like Python, the first problem met in reading order wins, except that
// the UTF-8 check comes first (Zaqar decodes the bytes before parsing). NaN and Infinity, which Python accepts,
// are rejected: no JSON client can read them back.
func checkJSON(data []byte) jsonProblem {
	problem, _, _ := checkJSONCapture(data, "")
	return problem
}

// checkJSONCapture is checkJSON that also returns the raw value of the last top-level member named key (when the
// top level is an object and key is not ""), saving callers a second walk over the body.
func checkJSONCapture(data []byte, key string) (jsonProblem, []byte, bool) {
	if !utf8.Valid(data) {
		return jsonMalformed, nil, false
	}
	p := jsonParser{data: data, captureKey: key}
	p.i = skipWS(data, 0)
	if p.i >= len(data) {
		return jsonMalformed, nil, false
	}
	first := data[p.i]
	if !p.value(0) {
		return p.problem, nil, false
	}
	if skipWS(data, p.i) != len(data) {
		return jsonMalformed, nil, false
	}
	if first != '{' && first != '[' {
		return jsonMalformed, nil, false
	}
	return jsonOK, p.captured, p.found
}

type jsonParser struct {
	data    []byte
	i       int
	problem jsonProblem

	captureKey string
	captured   []byte
	found      bool
}

func (p *jsonParser) fail(pr jsonProblem) bool {
	p.problem = pr
	return false
}

func (p *jsonParser) value(depth int) bool {
	if p.i >= len(p.data) {
		return p.fail(jsonMalformed)
	}
	switch c := p.data[p.i]; {
	case c == '{':
		return p.object(depth + 1)
	case c == '[':
		return p.array(depth + 1)
	case c == '"':
		return p.str()
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	case c == 't':
		return p.literal("true")
	case c == 'f':
		return p.literal("false")
	case c == 'n':
		return p.literal("null")
	}
	return p.fail(jsonMalformed)
}

func (p *jsonParser) literal(lit string) bool {
	if len(p.data)-p.i < len(lit) || string(p.data[p.i:p.i+len(lit)]) != lit {
		return p.fail(jsonMalformed)
	}
	p.i += len(lit)
	return true
}

func (p *jsonParser) object(depth int) bool {
	if depth > maxJSONDepth {
		return p.fail(jsonMalformed)
	}
	p.i = skipWS(p.data, p.i+1)
	if p.i < len(p.data) && p.data[p.i] == '}' {
		p.i++
		return true
	}
	for {
		keyStart := p.i
		if p.i >= len(p.data) || p.data[p.i] != '"' || !p.str() {
			return p.fail(jsonMalformed)
		}
		capture := depth == 1 && p.captureKey != "" && keyIs(p.data[keyStart:p.i], p.captureKey)
		p.i = skipWS(p.data, p.i)
		if p.i >= len(p.data) || p.data[p.i] != ':' {
			return p.fail(jsonMalformed)
		}
		p.i = skipWS(p.data, p.i+1)
		valueStart := p.i
		if !p.value(depth) {
			return false
		}
		if capture {
			p.captured, p.found = p.data[valueStart:p.i], true
		}
		p.i = skipWS(p.data, p.i)
		if p.i >= len(p.data) {
			return p.fail(jsonMalformed)
		}
		switch p.data[p.i] {
		case ',':
			p.i = skipWS(p.data, p.i+1)
		case '}':
			p.i++
			return true
		default:
			return p.fail(jsonMalformed)
		}
	}
}

func (p *jsonParser) array(depth int) bool {
	if depth > maxJSONDepth {
		return p.fail(jsonMalformed)
	}
	p.i = skipWS(p.data, p.i+1)
	if p.i < len(p.data) && p.data[p.i] == ']' {
		p.i++
		return true
	}
	for {
		if !p.value(depth) {
			return false
		}
		p.i = skipWS(p.data, p.i)
		if p.i >= len(p.data) {
			return p.fail(jsonMalformed)
		}
		switch p.data[p.i] {
		case ',':
			p.i = skipWS(p.data, p.i+1)
		case ']':
			p.i++
			return true
		default:
			return p.fail(jsonMalformed)
		}
	}
}

// str checks a string starting at its opening quote. Control characters must be escaped (Python's strict mode);
// lone surrogate escapes are accepted, as Python does.
func (p *jsonParser) str() bool {
	d := p.data
	i := p.i + 1
	for i < len(d) {
		c := d[i]
		switch {
		case c == '"':
			p.i = i + 1
			return true
		case c == '\\':
			if i+1 >= len(d) {
				return p.fail(jsonMalformed)
			}
			switch d[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(d) || !isHex(d[i+2]) || !isHex(d[i+3]) || !isHex(d[i+4]) || !isHex(d[i+5]) {
					return p.fail(jsonMalformed)
				}
				i += 6
			default:
				return p.fail(jsonMalformed)
			}
		case c < 0x20:
			return p.fail(jsonMalformed)
		default:
			i++
		}
	}
	return p.fail(jsonMalformed)
}

// number scans a number the way Python's scanner does: the integer part, then a fraction only if a digit follows
// the dot and an exponent only if digits follow; anything else ends the number and is judged by the caller. An
// integer literal (no fraction, no exponent) must fit in int64.
func (p *jsonParser) number() bool {
	d := p.data
	start := p.i
	i := p.i
	if d[i] == '-' {
		i++
	}
	if i >= len(d) || d[i] < '0' || d[i] > '9' {
		return p.fail(jsonMalformed)
	}
	if d[i] == '0' {
		i++
	} else {
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	integer := true
	if i+1 < len(d) && d[i] == '.' && d[i+1] >= '0' && d[i+1] <= '9' {
		integer = false
		i += 2
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		j := i + 1
		if j < len(d) && (d[j] == '+' || d[j] == '-') {
			j++
		}
		if j < len(d) && d[j] >= '0' && d[j] <= '9' {
			integer = false
			for j < len(d) && d[j] >= '0' && d[j] <= '9' {
				j++
			}
			i = j
		}
	}
	p.i = i
	if integer && !fitsInt64(d[start:i]) {
		return p.fail(jsonIntTooLarge)
	}
	return true
}

// fitsInt64 reports whether a JSON integer literal (no leading zeros) is within int64.
func fitsInt64(lit []byte) bool {
	limit := "9223372036854775807"
	digits := lit
	if lit[0] == '-' {
		limit = "9223372036854775808"
		digits = lit[1:]
	}
	if len(digits) != len(limit) {
		return len(digits) < len(limit)
	}
	return string(digits) <= limit
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// --- walkers over validated JSON ---

func skipWS(d []byte, i int) int {
	for i < len(d) {
		switch d[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skipString returns the index just after the string opening at d[i]. Short strings are scanned inline; past
// that it jumps from quote to quote (IndexByte is vectorised) and counts the backslashes before each one to tell an
// escaped quote from the closing one.
func skipString(d []byte, i int) int {
	i++
	for n := 0; n < 16 && i < len(d); n++ {
		switch d[i] {
		case '\\':
			i += 2
			continue
		case '"':
			return i + 1
		}
		i++
	}
	if i > len(d) {
		return len(d)
	}
	for {
		j := bytes.IndexByte(d[i:], '"')
		if j < 0 {
			return len(d)
		}
		q := i + j
		k := q - 1
		for k >= i && d[k] == '\\' {
			k--
		}
		if (q-1-k)%2 == 0 {
			return q + 1
		}
		i = q + 1
	}
}

// skipValue returns the index just after the value starting at d[i].
func skipValue(d []byte, i int) int {
	switch d[i] {
	case '"':
		return skipString(d, i)
	case '{', '[':
		depth := 0
		for i < len(d) {
			switch d[i] {
			case '"':
				i = skipString(d, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return len(d)
	default:
		for i < len(d) {
			switch d[i] {
			case ',', ']', '}', ' ', '\t', '\n', '\r':
				return i
			}
			i++
		}
		return i
	}
}

// memberIter walks the members of a validated object. Keys are raw (quotes included).
type memberIter struct {
	d   []byte
	i   int
	end bool
}

func members(obj []byte) memberIter { return memberIter{d: obj, i: 1} }

// membersAt walks the object that opens at d[i]; after the walk, pos reports the index just after it.
func membersAt(d []byte, i int) memberIter { return memberIter{d: d, i: i + 1} }

// pos is the walker's position: after a completed walk, the index just after the object.
func (m *memberIter) pos() int { return m.i }

func (m *memberIter) next() (key, val []byte, ok bool) {
	if m.end {
		return nil, nil, false
	}
	d := m.d
	i := skipWS(d, m.i)
	if i < len(d) && d[i] == ',' {
		i = skipWS(d, i+1)
	}
	if i >= len(d) || d[i] != '"' {
		m.end = true
		if i < len(d) && d[i] == '}' {
			m.i = i + 1 // just after the object, for callers walking a sequence of objects
		}
		return nil, nil, false
	}
	ks := i
	i = skipString(d, i)
	key = d[ks:i]
	i = skipWS(d, i) + 1 // the colon
	i = skipWS(d, i)
	vs := i
	i = skipValue(d, i)
	m.i = i
	return key, d[vs:i], true
}

// elementIter walks the elements of a validated array.
type elementIter struct {
	d   []byte
	i   int
	end bool
}

func elements(arr []byte) elementIter { return elementIter{d: arr, i: 1} }

func (e *elementIter) next() (val []byte, ok bool) {
	if e.end {
		return nil, false
	}
	d := e.d
	i := skipWS(d, e.i)
	if i < len(d) && d[i] == ',' {
		i = skipWS(d, i+1)
	}
	if i >= len(d) || d[i] == ']' {
		e.end = true
		return nil, false
	}
	vs := i
	i = skipValue(d, i)
	e.i = i
	return d[vs:i], true
}

// lastMember returns the value of the last member named name (Python dicts keep the last duplicate).
func lastMember(obj []byte, name string) ([]byte, bool) {
	var found []byte
	ok := false
	it := members(obj)
	for k, v, more := it.next(); more; k, v, more = it.next() {
		if keyIs(k, name) {
			found, ok = v, true
		}
	}
	return found, ok
}

// keyIs compares a raw JSON string with name without allocating unless the string holds escapes.
func keyIs(raw []byte, name string) bool {
	inner := raw[1 : len(raw)-1]
	for _, c := range inner {
		if c == '\\' {
			return decodeString(raw) == name
		}
	}
	return string(inner) == name
}

// decodeString decodes a raw, validated JSON string.
func decodeString(raw []byte) string {
	inner := raw[1 : len(raw)-1]
	escaped := false
	for _, c := range inner {
		if c == '\\' {
			escaped = true
			break
		}
	}
	if !escaped {
		return string(inner)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return string(inner)
	}
	return s
}

// --- Python-flavoured views of a raw value ---

func isNull(v []byte) bool   { return len(v) > 0 && v[0] == 'n' }
func isBool(v []byte) bool   { return len(v) > 0 && (v[0] == 't' || v[0] == 'f') }
func isString(v []byte) bool { return len(v) > 0 && v[0] == '"' }
func isObject(v []byte) bool { return len(v) > 0 && v[0] == '{' }
func isArray(v []byte) bool  { return len(v) > 0 && v[0] == '[' }
func isNumber(v []byte) bool { return len(v) > 0 && (v[0] == '-' || (v[0] >= '0' && v[0] <= '9')) }

// isIntLiteral reports a number without fraction or exponent.
func isIntLiteral(v []byte) bool {
	if !isNumber(v) {
		return false
	}
	for _, c := range v {
		if c == '.' || c == 'e' || c == 'E' {
			return false
		}
	}
	return true
}

// isPyInt mirrors isinstance(x, int): integers and booleans.
func isPyInt(v []byte) bool { return isIntLiteral(v) || isBool(v) }

// pyInt returns the value of an integer literal or boolean (true is 1).
func pyInt(v []byte) (int64, bool) {
	switch {
	case isBool(v):
		if v[0] == 't' {
			return 1, true
		}
		return 0, true
	case isIntLiteral(v):
		neg := v[0] == '-'
		digits := v
		if neg {
			digits = v[1:]
		}
		var n uint64
		for _, c := range digits {
			n = n*10 + uint64(c-'0')
		}
		if neg {
			return -int64(n), true // the literal was checked to fit, so -2^63 wraps correctly
		}
		return int64(n), true
	}
	return 0, false
}

// pyNumber returns a number or boolean as float64 (for comparisons with values that may be floats).
func pyNumber(v []byte) (float64, bool) {
	if n, ok := pyInt(v); ok {
		return float64(n), true
	}
	if isNumber(v) {
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil { // out of range: Python gives inf
			if v[0] == '-' {
				return math.Inf(-1), true
			}
			return math.Inf(1), true
		}
		return f, true
	}
	return 0, false
}

// truthy mirrors Python truthiness of the decoded value.
func truthy(v []byte) bool {
	switch {
	case len(v) == 0, isNull(v):
		return false
	case isBool(v):
		return v[0] == 't'
	case isString(v):
		return len(v) > 2
	case isObject(v), isArray(v):
		j := skipWS(v, 1)
		return j < len(v) && v[j] != '}' && v[j] != ']'
	default:
		f, _ := pyNumber(v)
		return f != 0
	}
}

// pyStr renders a raw value as Python's str() of the decoded value (used inside error texts).
func pyStr(v []byte) string {
	if isString(v) {
		return decodeString(v)
	}
	return pyRepr(v)
}

// pyRepr renders a raw value as Python's repr() of the decoded value.
func pyRepr(v []byte) string {
	var b strings.Builder
	appendPyRepr(&b, v)
	return b.String()
}

func appendPyRepr(b *strings.Builder, v []byte) {
	switch {
	case len(v) == 0:
	case isNull(v):
		b.WriteString("None")
	case isBool(v):
		if v[0] == 't' {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case isString(v):
		b.WriteString(pyrepr.Str(decodeString(v)))
	case isIntLiteral(v):
		b.Write(v)
	case isNumber(v):
		f, _ := pyNumber(v)
		b.WriteString(pyrepr.Float(f))
	case isObject(v):
		b.WriteByte('{')
		it := members(v)
		first := true
		for k, val, ok := it.next(); ok; k, val, ok = it.next() {
			if !first {
				b.WriteString(", ")
			}
			first = false
			b.WriteString(pyrepr.Str(decodeString(k)))
			b.WriteString(": ")
			appendPyRepr(b, val)
		}
		b.WriteByte('}')
	case isArray(v):
		b.WriteByte('[')
		it := elements(v)
		first := true
		for val, ok := it.next(); ok; val, ok = it.next() {
			if !first {
				b.WriteString(", ")
			}
			first = false
			appendPyRepr(b, val)
		}
		b.WriteByte(']')
	}
}

// pyStringList renders strings as Python's repr of a list, e.g. ['a', 'b'].
func pyStringList(items []string) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, s := range items {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(pyrepr.Str(s))
	}
	b.WriteByte(']')
	return b.String()
}

// --- encoding ---

// parseObject decodes a validated JSON object into a Metadata map, keeping values raw (later duplicates win).
func parseObject(obj []byte) Metadata {
	md := Metadata{}
	it := members(obj)
	for k, v, ok := it.next(); ok; k, v, ok = it.next() {
		md[decodeString(k)] = json.RawMessage(v)
	}
	return md
}

// encodeObject encodes metadata as a JSON object with sorted keys and raw values.
func encodeObject(md Metadata) []byte {
	keys := make([]string, 0, len(md))
	size := 2
	for k, v := range md {
		keys = append(keys, k)
		size += len(k) + len(v) + 4
	}
	sort.Strings(keys)
	b := make([]byte, 0, size)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonw.AppendString(b, k)
		b = append(b, ':')
		b = append(b, md[k]...)
	}
	return append(b, '}')
}
