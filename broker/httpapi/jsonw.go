package httpapi

import (
	"strconv"
	"time"
)

// The JSON written here follows Python's json.dumps(ensure_ascii=False), as Zaqar does: ", " and ": "
// separators, non-ASCII characters written as UTF-8, and only '"', '\\' and control characters escaped.

const hexDigits = "0123456789abcdef"

// appendKey appends `"key": ` for a key that needs no escaping.
func appendKey(b []byte, key string) []byte {
	b = append(b, '"')
	b = append(b, key...)
	return append(b, '"', ':', ' ')
}

// appendRaw appends a raw JSON value; an empty value is written as null.
func appendRaw(b, raw []byte) []byte {
	if len(raw) == 0 {
		return append(b, "null"...)
	}
	return append(b, raw...)
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, "true"...)
	}
	return append(b, "false"...)
}

// seconds reports d in whole seconds, as Zaqar's integer ttl fields.
func seconds(d time.Duration) int64 { return int64(d / time.Second) }

func appendInt(b []byte, v int64) []byte { return strconv.AppendInt(b, v, 10) }

// appendQueryValue appends v percent-encoded for a query string; Zaqar's values (markers, names, booleans)
// are left as they are.
func appendQueryValue(b []byte, v string) []byte {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') ||
			c == '-' || c == '_' || c == '.' || c == '~' {
			b = append(b, c)
			continue
		}
		b = append(b, '%', "0123456789ABCDEF"[c>>4], "0123456789ABCDEF"[c&0xf])
	}
	return b
}
