package signing

import (
	"encoding/json"
	"github.com/zedge-io/zedge/internal/pyrepr"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// Zaqar's error texts embed Python reprs ("Invalid paths: {'foo'}", "Unable to parse date string 'x'"), so the
// few reprs those texts need are rebuilt here for values decoded from JSON.

// pyRepr renders a JSON-decoded value as Python would after json.loads: str, int, float, True/False/None,
// list, dict. Numbers are best given as json.Number (json.Decoder.UseNumber) so that 1 and 1.0 stay apart.
func pyRepr(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case bool:
		if x {
			return "True"
		}
		return "False"
	case string:
		return pyrepr.Str(x)
	case json.Number:
		if isJSONIntLiteral(string(x)) {
			return normaliseIntLiteral(string(x))
		}
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil && !math.IsInf(f, 0) {
			return string(x)
		}
		return pyrepr.Float(f)
	case float64:
		return pyrepr.Float(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = pyRepr(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		keys := sortedKeys(x)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = pyrepr.Str(k) + ": " + pyRepr(x[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	default:
		return "<unsupported>"
	}
}

// pySetRepr renders a Python set of the given elements. Python's order follows string hashes, which are
// randomised per process, so zedge sorts the reprs to stay deterministic.
func pySetRepr(elems []any) string {
	reprs := make([]string, 0, len(elems))
	for _, e := range elems {
		r := pyRepr(e)
		if !slices.Contains(reprs, r) {
			reprs = append(reprs, r)
		}
	}
	slices.Sort(reprs)
	return "{" + strings.Join(reprs, ", ") + "}"
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// isJSONIntLiteral reports whether a JSON number literal has neither fraction nor exponent, which is when
// Python's json module makes an int of it.
func isJSONIntLiteral(s string) bool { return s != "" && !strings.ContainsAny(s, ".eE") }

func normaliseIntLiteral(s string) string {
	if n, ok := new(big.Int).SetString(s, 10); ok {
		return n.String()
	}
	return s
}

// pyTruthy is Python's truth value of a JSON-decoded value: None, False, 0, 0.0, "", [] and {} are false.
func pyTruthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		return err != nil || f != 0
	case float64:
		return x != 0
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	default:
		return true
	}
}

// pyTypeName is Python's type(v).__name__ for a JSON-decoded value.
func pyTypeName(v any) string {
	switch x := v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case string:
		return "str"
	case json.Number:
		if isJSONIntLiteral(string(x)) {
			return "int"
		}
		return "float"
	case float64:
		return "float"
	case []any:
		return "list"
	case map[string]any:
		return "dict"
	default:
		return "object"
	}
}

// maxPyIntDigits is CPython's default limit for int(str) (sys.int_info.str_digits_check_threshold); past it
// int() raises ValueError, which Zaqar's integer check swallows.
const maxPyIntDigits = 4300

// pyIntText reports whether Python's int(s) accepts s and, if so, the decimal text of the value: surrounding
// Python whitespace, an optional sign, decimal digits of any script, and single underscores between digits.
func pyIntText(s string) (text string, ok bool) {
	s = strings.TrimFunc(s, isPySpace)
	negative := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		negative = s[0] == '-'
		s = s[1:]
	}
	if s == "" {
		return "", false
	}
	digits := make([]byte, 0, len(s))
	prevUnderscore := true // forbids a leading underscore
	for _, r := range s {
		if r == '_' {
			if prevUnderscore {
				return "", false
			}
			prevUnderscore = true
			continue
		}
		d, isDigit := decimalValue(r)
		if !isDigit {
			return "", false
		}
		digits = append(digits, '0'+d)
		prevUnderscore = false
	}
	if prevUnderscore || len(digits) > maxPyIntDigits {
		return "", false
	}
	trimmed := strings.TrimLeft(string(digits), "0")
	if trimmed == "" {
		return "0", true
	}
	if negative {
		return "-" + trimmed, true
	}
	return trimmed, true
}

// decimalValue is the value of a Unicode decimal digit (category Nd). Unicode encodes every decimal digit in
// contiguous runs of ten starting at zero, so the value is the offset from the start of the run, modulo ten
// (runs such as the mathematical digits sit back to back).
func decimalValue(r rune) (byte, bool) {
	if r >= '0' && r <= '9' {
		return byte(r - '0'), true
	}
	if !unicode.IsDigit(r) {
		return 0, false
	}
	start := r
	for start > 0 && unicode.IsDigit(start-1) {
		start--
	}
	return byte((r - start) % 10), true
}

// isPySpace is Python's str.isspace for one character: Go's unicode.IsSpace plus the ASCII separators
// U+001C..U+001F, which Python also strips.
func isPySpace(r rune) bool { return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f) }
