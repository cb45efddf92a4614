package httpapi

import (
	"bytes"
	"math"

	"github.com/valyala/fasthttp"

	"github.com/zedge-io/zedge/broker"
)

// Query parsing follows Falcon 3 as Zaqar configures it (auto_parse_qs_csv=True, keep_blank_qs_values=False):
// every value is split on commas, blank pieces are dropped, repeated keys accumulate, and a scalar parameter
// takes the last piece. So ?ids=a,b and ?ids=a&ids=b are the same list, and ?marker= is no marker at all.

// paramError is Falcon's "Invalid parameter" 400.
func paramError(name, must string) *Error {
	return &Error{Status: fasthttp.StatusBadRequest, Title: "Invalid parameter",
		Description: `The "` + name + `" parameter is invalid. ` + must}
}

const (
	mustBeBool = `The value of the parameter must be "true" or "false".`
	mustBeInt  = "The value must be an integer."
)

// lastPiece returns the last non-blank comma-separated piece of value, or nil.
func lastPiece(value []byte) []byte {
	for len(value) > 0 {
		i := bytes.LastIndexByte(value, ',')
		piece := value[i+1:]
		if len(piece) > 0 {
			return piece
		}
		if i < 0 {
			return nil
		}
		value = value[:i]
	}
	return nil
}

// queryScalar returns the last non-blank value of name in args, or nil when the parameter is absent or blank.
// The result aliases fasthttp's buffers: copy it to keep it.
func queryScalar(args *fasthttp.Args, name string) []byte {
	var last []byte
	for k, v := range args.All() {
		if string(k) != name {
			continue
		}
		if p := lastPiece(v); p != nil {
			last = p
		}
	}
	return last
}

// appendPieces appends the non-blank comma-separated pieces of value to dst as strings.
func appendPieces(dst []string, value []byte) []string {
	for len(value) > 0 {
		i := bytes.IndexByte(value, ',')
		if i < 0 {
			return append(dst, string(value))
		}
		if i > 0 {
			dst = append(dst, string(value[:i]))
		}
		value = value[i+1:]
	}
	return dst
}

// queryList returns every non-blank piece of every occurrence of name, in order; nil when there is none.
func queryList(args *fasthttp.Args, name string) []string {
	var out []string
	for k, v := range args.All() {
		if string(k) == name {
			out = appendPieces(out, v)
		}
	}
	return out
}

// parseBool accepts exactly Falcon's spellings.
func parseBool(v []byte) (value, ok bool) {
	switch string(v) {
	case "true", "True", "t", "yes", "y", "1", "on":
		return true, true
	case "false", "False", "f", "no", "n", "0", "off":
		return false, true
	}
	return false, false
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// parseInt follows Python's int(str) for ASCII input: surrounding whitespace, an optional sign, and digits
// with single underscores between them. Values beyond the int range saturate, so a range check still fails
// as it would with Python's unbounded integers.
func parseInt(v []byte) (int, bool) {
	for len(v) > 0 && isSpace(v[0]) {
		v = v[1:]
	}
	for len(v) > 0 && isSpace(v[len(v)-1]) {
		v = v[:len(v)-1]
	}
	neg := false
	if len(v) > 0 && (v[0] == '+' || v[0] == '-') {
		neg = v[0] == '-'
		v = v[1:]
	}
	if len(v) == 0 || v[0] == '_' || v[len(v)-1] == '_' {
		return 0, false
	}
	var n uint64
	overflow := false
	prevUnderscore := false
	for _, c := range v {
		if c == '_' {
			if prevUnderscore {
				return 0, false
			}
			prevUnderscore = true
			continue
		}
		prevUnderscore = false
		if c < '0' || c > '9' {
			return 0, false
		}
		if n > (math.MaxUint64-9)/10 {
			overflow = true
			continue
		}
		n = n*10 + uint64(c-'0')
	}
	if neg {
		if overflow || n > uint64(math.MaxInt64)+1 {
			return math.MinInt, true
		}
		return int(-int64(n)), true // n == MaxInt64+1 wraps to MinInt64 exactly
	}
	if overflow || n > math.MaxInt64 {
		return math.MaxInt, true
	}
	return int(n), true
}

// queryBool reads a boolean parameter: present reports whether it was given.
func queryBool(args *fasthttp.Args, name string) (value, present bool, err error) {
	v := queryScalar(args, name)
	if v == nil {
		return false, false, nil
	}
	b, ok := parseBool(v)
	if !ok {
		return false, true, paramError(name, mustBeBool)
	}
	return b, true, nil
}

// queryInt reads an integer parameter: present reports whether it was given.
func queryInt(args *fasthttp.Args, name string) (value int, present bool, err error) {
	v := queryScalar(args, name)
	if v == nil {
		return 0, false, nil
	}
	n, ok := parseInt(v)
	if !ok {
		return 0, true, paramError(name, mustBeInt)
	}
	return n, true, nil
}

// queryString reads a scalar string parameter ("" when absent or blank).
func queryString(args *fasthttp.Args, name string) string {
	return string(queryScalar(args, name))
}

// limitParam turns a parsed limit into the Service's Limit field, where 0 means "not given": an explicit 0
// becomes broker.ZeroLimit so it gets Zaqar's range error instead of the default page size.
func limitParam(limit int, present bool) int {
	if present && limit == 0 {
		return broker.ZeroLimit
	}
	return limit
}
