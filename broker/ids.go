package broker

import (
	"strings"
	"unicode/utf8"
)

// Identifier limits (§5 of the spec).
const (
	MaxQueueNameLength = 64
	MaxProjectIDLength = 256
)

// ValidQueueName reports whether name is a Zaqar queue name: 1..64 of ASCII letters, digits, '_', '-' and '.'.
// (The dot is accepted as the server accepts it, although Zaqar's error text leaves it out.)
func ValidQueueName(name string) bool {
	if len(name) == 0 || len(name) > MaxQueueNameLength {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-', c == '.':
		default:
			return false
		}
	}
	return true
}

// ValidProjectID reports whether project is an acceptable project ID: at most 256 bytes, any content. (The
// transports reject a missing or empty X-Project-ID header themselves, with their own titles.)
func ValidProjectID(project string) bool { return len(project) <= MaxProjectIDLength }

// errQueueIdentification is what every queue-scoped method returns for a bad queue name or project.
func errQueueIdentification() *Error {
	return &Error{Kind: ErrBadQueueName, Description: "The format of the submitted queue name or project id is not valid."}
}

// checkQueue validates the project and queue name of a queue-scoped call.
func checkQueue(project, queue string) error {
	if !ValidProjectID(project) || !ValidQueueName(queue) {
		return errQueueIdentification()
	}
	return nil
}

// ParseClientID parses a Client-ID with the semantics of Python's uuid.UUID(str), as Zaqar's strict mode does:
// every "urn:" and then every "uuid:" is removed, braces are stripped from both ends, all hyphens are removed, and
// exactly 32 characters must remain that Python's int(s, 16) accepts (hex digits in any case, optionally surrounded
// by whitespace, with an optional '+' sign, an optional 0x prefix and single underscores between digits). Non-ASCII
// input is rejected (Python would also accept Unicode digits and spaces; no client sends them).
// A rejection is an *Error of kind ErrBadClientID.
func ParseClientID(s string) (ClientID, error) {
	if id, ok := parseCanonicalUUID(s); ok {
		return id, nil
	}
	s = strings.ReplaceAll(s, "urn:", "")
	s = strings.ReplaceAll(s, "uuid:", "")
	s = strings.Trim(s, "{}")
	s = strings.ReplaceAll(s, "-", "")
	if utf8.RuneCountInString(s) != 32 {
		return ClientID{}, errBadClientID()
	}
	if id, ok := parsePyHex(s); ok {
		return id, nil
	}
	return ClientID{}, errBadClientID()
}

func errBadClientID() *Error {
	return &Error{Kind: ErrBadClientID, Description: "Malformed hexadecimal UUID."}
}

// parseCanonicalUUID is the fast path for the two spellings clients really send: 32 hex digits, or the dashed
// 8-4-4-4-12 form.
func parseCanonicalUUID(s string) (ClientID, bool) {
	var id ClientID
	switch len(s) {
	case 32:
		for i := 0; i < 16; i++ {
			hi, ok1 := hexVal(s[2*i])
			lo, ok2 := hexVal(s[2*i+1])
			if !ok1 || !ok2 {
				return ClientID{}, false
			}
			id[i] = hi<<4 | lo
		}
		return id, true
	case 36:
		if s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
			return ClientID{}, false
		}
		j := 0
		for i := 0; i < 16; i++ {
			if j == 8 || j == 13 || j == 18 || j == 23 {
				j++
			}
			hi, ok1 := hexVal(s[j])
			lo, ok2 := hexVal(s[j+1])
			if !ok1 || !ok2 {
				return ClientID{}, false
			}
			id[i] = hi<<4 | lo
			j += 2
		}
		return id, true
	}
	return ClientID{}, false
}

// parsePyHex parses s as Python's int(s, 16) would (ASCII only) into a 128-bit big-endian value.
func parsePyHex(s string) (ClientID, bool) {
	s = strings.Trim(s, " \t\n\v\f\r")
	if s != "" && s[0] == '+' {
		s = s[1:]
	}
	underscoreOK := false // an underscore may follow a digit, or the 0x prefix
	if len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		s = s[2:]
		underscoreOK = true
	}
	var id ClientID
	digits := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' {
			if !underscoreOK {
				return ClientID{}, false
			}
			underscoreOK = false
			continue
		}
		v, ok := hexVal(c)
		if !ok {
			return ClientID{}, false
		}
		// Shift the 128-bit value left by one nibble and add v; at most 32 digits can be present.
		for k := 0; k < 15; k++ {
			id[k] = id[k]<<4 | id[k+1]>>4
		}
		id[15] = id[15]<<4 | v
		digits++
		underscoreOK = true
	}
	if digits == 0 || digits > 32 || (len(s) > 0 && s[len(s)-1] == '_') {
		return ClientID{}, false
	}
	return id, true
}

func hexVal(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// ClientIDString formats a Client-ID in the canonical lower-case dashed form.
func ClientIDString(id ClientID) string {
	const digits = "0123456789abcdef"
	var b [36]byte
	j := 0
	for i, c := range id {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b[j] = '-'
			j++
		}
		b[j] = digits[c>>4]
		b[j+1] = digits[c&0xf]
		j += 2
	}
	return string(b[:])
}
