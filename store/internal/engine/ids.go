package engine

import (
	"strconv"
	"unsafe"
)

// Message IDs are the message's sequence as 16 lowercase hex digits: fixed width, so they sort like the
// sequence, and they match Zaqar's [a-zA-Z0-9_-]+. Markers are the sequence in decimal (as in Zaqar's MongoDB
// driver). Both are opaque to clients.

const idLen = 16

// FormatID returns the message ID of a sequence number.
func FormatID(seq uint64) string {
	var b [idLen]byte
	const hex = "0123456789abcdef"
	for i := idLen - 1; i >= 0; i-- {
		b[i] = hex[seq&0xf]
		seq >>= 4
	}
	return string(b[:])
}

// formatIDs returns the IDs of msgs, all backed by one allocation (a post returns them together).
func formatIDs(msgs []Msg) []string {
	buf := make([]byte, len(msgs)*idLen)
	ids := make([]string, len(msgs))
	for i := range msgs {
		b := buf[i*idLen : (i+1)*idLen]
		seq := msgs[i].Seq
		const hex = "0123456789abcdef"
		for j := idLen - 1; j >= 0; j-- {
			b[j] = hex[seq&0xf]
			seq >>= 4
		}
		// buf is never written again, so the strings stay immutable.
		ids[i] = unsafe.String(&b[0], idLen)
	}
	return ids
}

// ParseID parses a message ID strictly (exactly 16 lowercase hex digits).
func ParseID(id string) (uint64, bool) {
	if len(id) != idLen {
		return 0, false
	}
	var seq uint64
	for i := 0; i < idLen; i++ {
		c := id[i]
		switch {
		case c >= '0' && c <= '9':
			seq = seq<<4 | uint64(c-'0')
		case c >= 'a' && c <= 'f':
			seq = seq<<4 | uint64(c-'a'+10)
		default:
			return 0, false
		}
	}
	return seq, true
}

// FormatMarker returns the listing marker that resumes after seq.
func FormatMarker(seq uint64) string { return strconv.FormatUint(seq, 10) }

// ParseMarker parses a marker strictly: a canonical decimal uint64 (digits only, no sign, no leading zeros).
// Anything else is malformed, so that every accepted marker formats back to itself.
func ParseMarker(s string) (uint64, bool) {
	if len(s) == 0 || len(s) > 20 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, false
	}
	return v, true
}
