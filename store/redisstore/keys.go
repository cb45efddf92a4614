package redisstore

import (
	"strconv"
	"strings"
)

// nameEscaper makes a project or queue name safe inside a hash tag: '{' and '}' would end or restart the tag,
// '/' separates the project from the queue, and '%' escapes itself, so distinct (project, queue) pairs always
// give distinct tags ("a"+"b/c" and "a/b"+"c" do not collide).
var nameEscaper = strings.NewReplacer("%", "%25", "{", "%7B", "}", "%7D", "/", "%2F")

// queueTag is the hash tag of a queue: every key of the queue contains it, so they all live in one slot.
func queueTag(project, queue string) string {
	return "{" + nameEscaper.Replace(project) + "/" + nameEscaper.Replace(queue) + "}"
}

// projectTag is the hash tag of a project's catalogue. It never equals a queue tag (those contain '/').
func projectTag(project string) string {
	return "{" + nameEscaper.Replace(project) + "}"
}

// Indexes of the queue keys, in the order of the KEYS of every queue script (lua/queue.lua).
const (
	kMeta = iota
	kMsgs
	kOrd
	kExp
	kFree
	kHeld
	kDly
	kClaims
	kCexp
	numQueueKeys
)

var queueKeySuffixes = [numQueueKeys]string{"meta", "msgs", "ord", "exp", "free", "held", "dly", "claims", "cexp"}

// queueKeys returns the keys of a queue in script order.
func (s *Store) queueKeys(project, queue string) []string {
	base := s.prefix + queueTag(project, queue) + ":"
	keys := make([]string, numQueueKeys)
	for i, suffix := range queueKeySuffixes {
		keys[i] = base + suffix
	}
	return keys
}

// subKeys returns the keys of a queue's subscriptions in script order (lua/sub.lua): the queue's meta first.
func (s *Store) subKeys(project, queue string) []string {
	base := s.prefix + queueTag(project, queue) + ":"
	return []string{base + "meta", base + "subs", base + "subk", base + "subl", base + "sube"}
}

// catalogueKey is the project's sorted set of queue names.
func (s *Store) catalogueKey(project string) string {
	return s.prefix + projectTag(project) + ":queues"
}

// Message IDs are the queue's epoch (16 hex digits, random per queue incarnation) followed by the message's
// sequence in the queue (16 hex digits): sequences are per queue, so the epoch keeps IDs of other queues,
// projects and earlier incarnations of the same queue from ever naming a message. Markers are the sequence in
// decimal, as in the engine; both are opaque to clients.
const (
	epochLen = 16
	idLen    = 2 * epochLen
)

func formatID(epoch string, seq uint64) string {
	var b [idLen]byte
	copy(b[:], epoch)
	const hex = "0123456789abcdef"
	for i := idLen - 1; i >= epochLen; i-- {
		b[i] = hex[seq&0xf]
		seq >>= 4
	}
	return string(b[:])
}

// parseID splits an ID strictly (32 lowercase hex digits) into its epoch and its sequence in decimal.
func parseID(id string) (epoch, seq string, ok bool) {
	if len(id) != idLen {
		return "", "", false
	}
	for i := 0; i < idLen; i++ {
		if c := id[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return "", "", false
		}
	}
	n, err := strconv.ParseUint(id[epochLen:], 16, 64)
	if err != nil || n == 0 {
		return "", "", false
	}
	return id[:epochLen], strconv.FormatUint(n, 10), true
}
