// Package notify delivers the notifications of Zaqar subscriptions (spec §11): webhooks (http, https), email
// (mailto: over SMTP with github.com/wneessen/go-mail) and, beyond Zaqar, republishing on an MQTT topic of
// the embedded broker (mqtt:<topic>, through a Publisher the MQTT bridge can provide).
//
// The Notifier is a broker.Observer: every post, whatever its transport, is handed to a bounded queue served
// by Config.Workers goroutines, and never waits for them; when the queue is full the post's notifications are
// dropped, counted and logged (at most once a second). A worker lists the queue's live subscriptions through
// the Service (expired ones are not listed) and queues each subscriber's deliveries as a task of their own
// (running them itself when the queue is full), so that a slow subscriber does not hold back the others
// while workers are free. At most a quarter of the workers (at least one) deliver to one subscription at
// once; its other deliveries wait their turn (at most QueueSize in all, beyond which they are dropped and
// counted), so a subscriber that hangs holds only that many workers. One notification is sent per message
// and subscriber:
//
//	{"ttl": 300, "body": {"event": "BackupStarted"}, "Message_Type": "Notification", "queue_name": "sq"}
//
// written with Python's separators as Zaqar's json.dumps does ("delay" follows "body" for delayed messages).
// A webhook gets it as a POST with Content-Type: application/json and the subscription's
// options.post_headers; options.post_data, when set, is sent instead with every "$zaqar_message$" (quotes
// included) replaced by the notification. trust+http(s) subscribers are posted to without the trust+ prefix
// and without a Keystone token (zedge creates no trusts). An answer below 400 is delivered (redirects are not
// followed). Email goes to the address of mailto:addr?subject=..., with the subject parameter (else
// options.subject), from options.from (else Config.SMTP.From), the notification as a quoted-printable text
// body. Socket subscriptions (websocket:) are the websocket transport's and are skipped here.
//
// # Retries
//
// Unlike Zaqar, which retries only when the first POST raises, network errors, timeouts (Config.HTTPTimeout;
// Zaqar has none) and 5xx answers are retried; a 4xx answer or an unusable subscriber is final ("rejected").
// The schedule is §11.5's: the queue's _retry_policy wins when either policy says
// ignore_subscription_override, else the subscription's options._retry_policy, else the queue's, else the
// defaults; then retries_with_no_delay immediate attempts, minimum_delay_retries after minimum_delay each, one
// after each step of the back-off series (linear, arithmetic, geometric, exponential, step 5 s), and
// maximum_delay_retries after maximum_delay each. Immediate retries run in the worker; delayed ones wait on
// timers (at most Config.MaxPendingRetries) and go back through the queue. A notification still failing after
// the schedule is counted as undeliverable and logged; nothing blocks the queue. Delivery order between
// notifications is not guaranteed (workers run in parallel), as in Zaqar's thread pool.
//
// # Confirmation
//
// With Config.RequireConfirmation, the Notifier is also a broker.SubscriptionObserver: a new subscription,
// and an unconfirmed one posted again, is sent Zaqar's SubscriptionConfirmation notification, whose URL-*
// fields are a signed URL (the signing key ring's primary key) granting PUT on
// /v2/queues/{q}/subscriptions/{id}/confirm until the subscription expires; confirming with
// {"confirmed": false} sends the UnsubscribeConfirmation, valid for limits.default_subscription_ttl. Until it
// is confirmed a subscription receives nothing else, and posts made meanwhile are never delivered to it.
// Without a URL key no confirmation can be signed: it is not sent, and an error is logged once. A confirmation
// email links to Config.ConfirmationURL (Zaqar's external_confirmation_url) with the signed URL's parts as
// query parameters when it is set, and carries the JSON confirmation otherwise.
//
// Close stops taking notifications, drops waiting retries and lets the workers finish; close the Notifier
// before the store.
package notify
