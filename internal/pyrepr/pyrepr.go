// Package pyrepr renders values as Python's repr() does. Zaqar's error texts embed Python reprs ("Invalid paths:
// {'foo'}", "No messages with IDs: ['a'] found ..."), and wire compatibility means reproducing them exactly, so
// the broker and signing packages share this one rendering.
package pyrepr

import (
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Str renders s the way Python's repr(str) does: single quotes unless the text holds a single quote and no
// double quote, backslash escapes for the quote, backslash, \t \n \r, and \x.. \u.... \U........ for characters
// Python does not print. Bytes that are not UTF-8 come out as \x.. (Python never sees them).
func Str(s string) string {
	quote := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		quote = '"'
	}
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte(quote)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteString(`\x`)
			b.WriteString(hex2(s[i]))
			i++
			continue
		}
		i += size
		switch {
		case r == rune(quote) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			b.WriteString(`\x`)
			b.WriteString(hex2(byte(r)))
		case unicode.IsPrint(r):
			// Go's IsPrint (L, M, N, P, S and the ASCII space) is Python's str.isprintable.
			b.WriteRune(r)
		case r < 0x100:
			b.WriteString(`\x`)
			b.WriteString(hex2(byte(r)))
		case r < 0x10000:
			b.WriteString(`\u`)
			b.WriteString(leftPad(strconv.FormatInt(int64(r), 16), 4))
		default:
			b.WriteString(`\U`)
			b.WriteString(leftPad(strconv.FormatInt(int64(r), 16), 8))
		}
	}
	b.WriteByte(quote)
	return b.String()
}

// Float is Python's repr(float): the shortest round-trip digits, positional for exponents -4..15 with at least
// one fractional digit, otherwise d.ddde+XX.
func Float(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // e.g. -1.2345e+17; Go pads the exponent to two digits as Python does
	exp, _ := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:])
	if exp < -4 || exp >= 16 {
		return e
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}

func hex2(c byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[c>>4], digits[c&15]})
}

func leftPad(s string, n int) string {
	if len(s) >= n {
		return s
	}
	return strings.Repeat("0", n-len(s)) + s
}
