// Package broker is zedge's domain: the Zaqar v2 rules for queues, messages, claims and subscriptions, in one
// place. Service is built over a store.Store; the REST and websocket transports and the MQTT bridge all call it,
// so validation, defaults, limits, echo, claim rules, reserved queue metadata and dead-lettering are written once.
//
// # Errors
//
// Errors returned by the Service wrap one of the kind sentinels in errors.go and carry Zaqar's description text;
// each transport maps kinds to its own status codes in one table. Store failures become ErrUnavailable with
// Zaqar's wording ("Messages could not be enqueued. Please try again in a few seconds.") and wrap the cause;
// store.ErrNotFound becomes ErrNotFound with Zaqar's storage text where a 404 is due.
//
// # What the Service checks and what the transports check
//
//   - Queue names and project IDs: every queue-scoped method validates them (ValidQueueName, ValidProjectID) and
//     returns ErrBadQueueName ("Invalid queue identification") before anything else, so a transport need not; one
//     that checks earlier (Zaqar does it in a hook) gets the same answer.
//   - Client-IDs: transports parse the header with ParseClientID (Python uuid.UUID semantics) and pass the
//     canonical value in Caller; its rejection is ErrBadClientID.
//   - Bodies: methods that take a raw body parse it themselves with Zaqar's errors ("Request body could not be
//     parsed.", "JSON contains integer that is too large.", type checks where 60.0 is not an int). A transport
//     checks only presence where a body is mandatory (RequireBody) and the request size against Limits where it
//     wants to refuse before reading. Message bodies and metadata values are kept raw, byte for byte.
//   - Query shapes: CheckDeleteQuery gives the "both ids and pop" / "neither" errors of DELETE .../messages; the
//     counts of ids and pop are checked by DeleteMessages and PopMessages.
//   - Limits: a Limit field of 0 means "not given" (the page size defaults to 10); a transport that receives an
//     explicit limit=0 passes ZeroLimit (any negative value) to get Zaqar's range error.
//
// # Observers
//
// Observers are called synchronously, in registration order, after the store has accepted a post and before
// PostMessages returns; they must not block (hand the event to a bounded worker). The event's messages do not
// alias the request buffer. A panicking observer is logged and skipped. An observer that also implements
// SubscriptionObserver is told the same way about successful subscription changes (created, updated, confirmed,
// unconfirmed, deleted, purged), so confirmations and socket subscriptions work whatever the transport.
//
// WithTransportSubscriberScheme lets a transport own a subscriber scheme (the websocket transport's sockets)
// that passes validation without appearing in the configured subscriber types; StoredQueue gives the stored
// metadata and the existence of a queue, which the websocket protocol reports where REST fills in defaults.
//
// # Deliberate differences from Zaqar 15
//
// The spec (§14) lists the upstream quirks; besides those it asks to fix, the Service:
//   - does not create the queue when a message post fails validation (Zaqar creates it first);
//   - treats null claim ttl/grace as the defaults, and range-checks grace on renewal too;
//   - rejects NaN/Infinity in bodies, and non-ASCII Client-IDs that Python would accept;
//   - rejects a subscription subscriber that is not a non-empty string, treats a falsy subscription ttl as the
//     default (create) or "unchanged" (PATCH), and does not create Keystone trusts for trust+ subscribers;
//   - filters queue names by plain substring, not by regular expression;
//   - skips dead-lettering, with a warning in the log, when _dead_letter_queue is not a valid queue name;
//   - stores _enable_encrypt_messages but does not encrypt.
package broker
