package signing

import (
	"encoding/json"
	"github.com/zedge-io/zedge/internal/pyrepr"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"time"
)

// ExpiresLayout is the one form in which an expiry is signed and returned: UTC, whole seconds, no zone.
const ExpiresLayout = "2006-01-02T15:04:05"

// DefaultExpiry is how long a share grant lives when the request names no expiry (Zaqar: one day).
const DefaultExpiry = 24 * time.Hour

// FormatExpires renders t in UTC as YYYY-MM-DDTHH:MM:SS, dropping any fraction (Python's strftime).
func FormatExpires(t time.Time) string {
	t = t.UTC()
	var buf [19]byte
	return string(appendExpires(buf[:0], t))
}

// appendExpires appends the ExpiresLayout form of a UTC time with years 1..9999.
func appendExpires(b []byte, t time.Time) []byte {
	year, month, day := t.Date()
	hour, minute, second := t.Clock()
	b = append4(b, year)
	b = append(b, '-')
	b = append2(b, int(month))
	b = append(b, '-')
	b = append2(b, day)
	b = append(b, 'T')
	b = append2(b, hour)
	b = append(b, ':')
	b = append2(b, minute)
	b = append(b, ':')
	return append2(b, second)
}

func append2(b []byte, v int) []byte { return append(b, byte('0'+v/10), byte('0'+v%10)) }
func append4(b []byte, v int) []byte { return append2(append2(b, v/100), v%100) }

// ParseExpires applies Zaqar's expiry rules to a client-supplied string and returns the expiry in UTC with the
// fraction dropped:
//   - a value Python's int() accepts and that is not zero is refused ("`expires` should be date format, for
//     example 2016-01-01T00:00:00, not integer value: N");
//   - the value must be ISO 8601 as the iso8601 package reads it: YYYY, YYYY-MM, YYYY-MM-DD, then optionally
//     T or space, HH[[:]MM][[:]SS[(.|,)fraction]] and Z or ±HH[[:]MM]; no zone means UTC; otherwise "Unable to
//     parse date string 'x'" (or Python's range message such as "month must be in 1..12");
//   - the instant, fraction included, must be strictly after now ("`expires` is lower than the current time").
//
// Every failure is a *ValidationError wrapping ErrExpiresInteger, ErrExpiresUnparsable or ErrExpiresPast.
func ParseExpires(s string, now time.Time) (time.Time, error) {
	// The canonical form, which every signed request carries, is no integer: skip the int() emulation.
	exact, ok := parseExpiresFast(s)
	if !ok {
		if n, isInt := pyIntText(s); isInt && n != "0" {
			return time.Time{}, integerExpires(n)
		}
		var err error
		if exact, err = parseISO8601(s); err != nil {
			return time.Time{}, err
		}
	}
	if !exact.After(now) {
		return time.Time{}, invalid(ErrExpiresPast, "`expires` is lower than the current time")
	}
	return exact.Truncate(time.Second), nil
}

// parseExpiresValue applies Zaqar's rules to an expires value decoded from a JSON body: strings go through
// ParseExpires; numbers and booleans meet Python's int(), so a non-zero one is refused as an integer (a
// fraction truncated) and a zero one as unparsable; lists and objects are unparsable too (Zaqar: a 500).
func parseExpiresValue(v any, now time.Time) (time.Time, error) {
	if s, ok := v.(string); ok {
		return ParseExpires(s, now)
	}
	if n, ok := pyIntOfNumber(v); ok && n != "0" {
		return time.Time{}, integerExpires(n)
	}
	return time.Time{}, invalid(ErrExpiresUnparsable, "expected string or bytes-like object, got '"+pyTypeName(v)+"'")
}

func integerExpires(n string) error {
	return invalid(ErrExpiresInteger,
		"`expires` should be date format, for example 2016-01-01T00:00:00, not integer value: "+n)
}

// pyIntOfNumber is the decimal text of Python's int(v) for a JSON number or boolean: floats truncate toward
// zero. Infinite and NaN floats fail (Python raises, Zaqar answers 500; zedge treats them as unparsable).
func pyIntOfNumber(v any) (string, bool) {
	var f float64
	switch x := v.(type) {
	case bool:
		if x {
			return "1", true
		}
		return "0", true
	case json.Number:
		if isJSONIntLiteral(string(x)) {
			return normaliseIntLiteral(string(x)), true
		}
		parsed, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return "", false
		}
		f = parsed
	case float64:
		f = x
	default:
		return "", false
	}
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return "", false
	}
	return new(big.Float).SetFloat64(math.Trunc(f)).Text('f', 0), true
}

// iso8601Pattern is the iso8601 package's pattern in RE2 form. Go's regexp picks the submatches a backtracking
// engine would (leftmost-first), as Python's re does. The package's one lookahead, "(?!$)" after a month
// without a dash (refusing YYYYMM), is handled in parseISO8601; its "$" also matches before a final newline.
var iso8601Pattern = regexp.MustCompile(`^([0-9]{4})(?:(?:-([0-9]{1,2})|([0-9]{2}))(?:(?:-([0-9]{1,2})|([0-9]{2}))` +
	`(?:[ T]([0-9]{2})(?::?([0-9]{2}))?(?::?([0-9]{1,2})(?:[.,]([0-9]+))?)?` +
	`(Z|([-+])([0-9]{2}):?([0-9]{2})?)?)?)?)?\n?$`)

// Submatch indexes of iso8601Pattern.
const (
	isoYear = 1 + iota
	isoMonthDash
	isoMonth
	isoDayDash
	isoDay
	isoHour
	isoMinute
	isoSecond
	isoFraction
	isoZone
	isoZoneSign
	isoZoneHour
	isoZoneMinute
)

var yyyymm = regexp.MustCompile(`^[0-9]{6}\n?$`)

// parseISO8601 is iso8601.parse_date followed by oslo's normalize_time: the instant in UTC, fraction kept to
// the microsecond (truncated, as Decimal arithmetic does).
func parseISO8601(s string) (time.Time, error) {
	m := iso8601Pattern.FindStringSubmatch(s)
	if m == nil || yyyymm.MatchString(s) {
		return time.Time{}, invalid(ErrExpiresUnparsable, "Unable to parse date string "+pyrepr.Str(s))
	}
	num := func(i, def int) int {
		if m[i] == "" {
			return def
		}
		n, _ := strconv.Atoi(m[i])
		return n
	}
	// Python evaluates the zone before building the datetime, so a bad offset is reported first.
	offset := 0
	if m[isoZone] != "" && m[isoZone] != "Z" {
		offset = (num(isoZoneHour, 0)*60 + num(isoZoneMinute, 0)) * 60
		if m[isoZoneSign] == "-" {
			offset = -offset
		}
		if offset <= -86400 || offset >= 86400 {
			return time.Time{}, invalid(ErrExpiresUnparsable,
				"offset must be a timedelta strictly between -timedelta(hours=24) and timedelta(hours=24), not "+
					pyTimedeltaRepr(offset)+".")
		}
	}
	year := num(isoYear, 0)
	month := num(isoMonth, num(isoMonthDash, 1))
	day := num(isoDay, num(isoDayDash, 1))
	hour, minute, second := num(isoHour, 0), num(isoMinute, 0), num(isoSecond, 0)
	micro := 0
	if f := m[isoFraction]; f != "" {
		micro, _ = strconv.Atoi((f + "000000")[:6])
	}
	if msg := pyDatetimeRangeError(year, month, day, hour, minute, second); msg != "" {
		return time.Time{}, invalid(ErrExpiresUnparsable, msg)
	}
	t := time.Date(year, time.Month(month), day, hour, minute, second, micro*1000, time.UTC).
		Add(-time.Duration(offset) * time.Second)
	if t.Year() < 1 || t.Year() > 9999 {
		return time.Time{}, invalid(ErrExpiresUnparsable, "date value out of range")
	}
	return t, nil
}

// parseExpiresFast reads the canonical YYYY-MM-DDTHH:MM:SS form, which every signed request carries, without
// the regexp; the pattern would read it the same way. Anything else is left to the full parser.
func parseExpiresFast(s string) (time.Time, bool) {
	if len(s) != len(ExpiresLayout) || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	var v [6]int
	for i, pos := range [6][2]int{{0, 4}, {5, 7}, {8, 10}, {11, 13}, {14, 16}, {17, 19}} {
		for j := pos[0]; j < pos[1]; j++ {
			c := s[j]
			if c < '0' || c > '9' {
				return time.Time{}, false
			}
			v[i] = v[i]*10 + int(c-'0')
		}
	}
	if pyDatetimeRangeError(v[0], v[1], v[2], v[3], v[4], v[5]) != "" {
		return time.Time{}, false
	}
	return time.Date(v[0], time.Month(v[1]), v[2], v[3], v[4], v[5], 0, time.UTC), true
}

// pyDatetimeRangeError is the message Python's datetime constructor raises for out-of-range fields, in the
// order it checks them, or "".
func pyDatetimeRangeError(year, month, day, hour, minute, second int) string {
	switch {
	case year < 1 || year > 9999:
		return "year " + strconv.Itoa(year) + " is out of range"
	case month < 1 || month > 12:
		return "month must be in 1..12"
	case day < 1 || day > daysIn(year, month):
		return "day is out of range for month"
	case hour > 23:
		return "hour must be in 0..23"
	case minute > 59:
		return "minute must be in 0..59"
	case second > 59:
		return "second must be in 0..59"
	}
	return ""
}

func daysIn(year, month int) int {
	if month == 2 && year%4 == 0 && (year%100 != 0 || year%400 == 0) {
		return 29
	}
	return int([13]byte{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[month])
}

// pyTimedeltaRepr is repr(datetime.timedelta(seconds=s)) for whole seconds: days floor-divided, seconds
// non-negative, zero fields left out.
func pyTimedeltaRepr(s int) string {
	days := s / 86400
	rem := s % 86400
	if rem < 0 {
		days--
		rem += 86400
	}
	switch {
	case days == 0 && rem == 0:
		return "datetime.timedelta(0)"
	case rem == 0:
		return "datetime.timedelta(days=" + strconv.Itoa(days) + ")"
	case days == 0:
		return "datetime.timedelta(seconds=" + strconv.Itoa(rem) + ")"
	}
	return "datetime.timedelta(days=" + strconv.Itoa(days) + ", seconds=" + strconv.Itoa(rem) + ")"
}
