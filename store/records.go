package store

import "time"

// Queue is a queue record.
type Queue struct {
	Name string
	// Metadata is the stored metadata, a JSON object ("{}" when empty), without reserved defaults filled in.
	Metadata []byte
	Created  time.Time
}

// ClientID is the canonical 16-byte form of a Zaqar Client-ID (a UUID).
type ClientID [16]byte

// NewMessage is a message to post.
type NewMessage struct {
	Body     []byte // raw JSON
	TTL      time.Duration
	Delay    time.Duration // zero for no delay
	ClientID ClientID      // the poster, for echo filtering
}

// Message is a stored message as seen at some instant.
type Message struct {
	ID         string
	Body       []byte        // raw JSON
	TTL        time.Duration // as reported: grows when a claim extends the message's life
	Created    time.Time
	Expires    time.Time
	DelayUntil time.Time // zero or not after Created when not delayed
	ClientID   ClientID
	// ClaimID is the last claim that took the message ("" if never claimed); it stays after that claim ends,
	// so use Claimed to know whether the message is under a live claim.
	ClaimID      string
	ClaimExpires time.Time
	ClaimCount   int
}

// Claimed reports whether the message is under a live claim at now.
func (m *Message) Claimed(now time.Time) bool {
	return m.ClaimID != "" && now.Before(m.ClaimExpires)
}

// Delayed reports whether the message is still delayed at now.
func (m *Message) Delayed(now time.Time) bool {
	return now.Before(m.DelayUntil)
}

// MessageQuery selects messages for listing.
type MessageQuery struct {
	Marker         string // opaque; "" starts at the head
	Limit          int
	Echo           bool     // include messages posted by ClientID
	ClientID       ClientID // the caller
	IncludeClaimed bool
	IncludeDelayed bool
}

// MessagePage is one page of a listing.
type MessagePage struct {
	Messages []Message
	// Marker resumes the listing after the last message of this page; "" when the page is empty.
	Marker string
}

// QueueStats counts the live messages of a queue.
type QueueStats struct {
	Total   int // every live message, claimed and delayed included
	Claimed int // messages under a live claim
	Oldest  *MessageRef
	Newest  *MessageRef
}

// MessageRef names a message and when it was posted.
type MessageRef struct {
	ID      string
	Created time.Time
}

// ClaimSpec says what to claim.
type ClaimSpec struct {
	TTL   time.Duration
	Grace time.Duration
	Limit int
	// Dead-lettering is active when MaxClaimCount > 0 and DeadLetterQueue != "".
	MaxClaimCount   int
	DeadLetterQueue string
	DeadLetterTTL   time.Duration // zero keeps the message's original ttl
}

// Claim is a claim record.
type Claim struct {
	ID      string
	TTL     time.Duration
	Grace   time.Duration
	Updated time.Time // creation or last renewal; age is measured from here
	Expires time.Time
}

// ClaimResult is the outcome of CreateClaim.
type ClaimResult struct {
	Claim    Claim     // zero when Messages is empty
	Messages []Message // the claimed messages, in post order
	// DeadLettered counts the messages moved to the dead-letter queue by this call.
	DeadLettered int
}

// Subscription is a notification subscription of a queue.
type Subscription struct {
	ID         string
	Queue      string // the source queue
	Subscriber string // URI
	TTL        time.Duration
	Options    []byte // raw JSON as sent
	Confirmed  bool
	Created    time.Time
	Expires    time.Time
}

// SubscriptionUpdate lists the fields to change; nil means unchanged.
type SubscriptionUpdate struct {
	Subscriber *string
	TTL        *time.Duration
	Options    []byte // nil: unchanged
	Confirmed  *bool
}
