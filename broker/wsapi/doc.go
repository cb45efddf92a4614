// Package wsapi is zedge's Zaqar v2 websocket transport (github.com/fasthttp/websocket). It speaks the
// protocol of OpenStack Zaqar 15's websocket server (spec §10) over the same *broker.Service as the REST
// transport; it holds no domain rule of its own.
//
// # Frames
//
// A text frame carries JSON, a binary frame MessagePack of the same structure; every answer goes out in the
// type its request came in. Binary frames are transcoded to JSON on the way in, keeping map order, and the
// answer back to MessagePack (integers stay integers, floats floats), so message bodies reach the Service as
// raw JSON either way. A request is
//
//	{"action": "message_post", "headers": {"Client-ID": ..., "X-Project-ID": ...}, "body": {...}}
//
// and its answer, one frame per request in request order,
//
//	{"request": {"action", "body", "headers", "api": "v2"}, "body": ..., "headers": {"status": 201}}
//
// where request echoes the client's action, body and headers (authenticate echoes none of them). A frame is
// handled in Zaqar's order: decode (400 "Can't decode text (JSON) request. ..." or "binary (MessagePack)"),
// envelope (400 "Unexpected body type. Expected dict or dict like."), action (400 "x is not a valid
// action"), the action's JSON schema (400 "Schema validation failed."; Client-ID and X-Project-ID are required
// for every data action, and types are JSON-Schema draft 4's: 60.0 is not an integer), authentication, then
// the action, which calls the Service. Domain errors become {"exception": description, "error": summary} with
// the status of one table (errors.go); the summary is null for validation failures, as in Zaqar.
//
// Every action of spec §10 is implemented with Zaqar's bodies and statuses, including its quirks: queue_create
// answers the text "Queue q created." with 201 or 204, queue_get the stored metadata without reserved
// defaults ({} for a missing queue), queue_get_stats the zero stats with status 404 for a missing queue,
// message_list 404 for a missing queue, message_get {"messages": {one message}}, message_get_many an empty
// list where REST says 404, claim_create {"claim_id": null} with 204 when nothing is claimed, and
// subscription_create a 409 with the text "Subscription q not created." for any duplicate. Message objects
// are {"id", "claim_id", "ttl", "age", "body"}: no href, and claim_id is the live claim (null when none).
// Where Zaqar sends no answer at all — get_home_doc, check_node_health, ping_node, pool_* and flavor_*, and
// authenticate on a server without auth — zedge answers: 400 "x is not implemented by this server." and 200
// with a message (spec §14 #16).
//
// Deliberate differences: a websocket post honours per-message delay on delay queues as REST does (Zaqar's
// websocket endpoint drops it); the size limit of a post counts the characters of its messages list as JSON
// text (Zaqar counts its Python text rendering); message_ids and claim_ids must be lists of strings (schema
// failure otherwise); the Client-ID is always parsed as a UUID.
//
// # Authentication
//
// With Auth.Mode "jwt", a socket must send authenticate with a zedge token in X-Auth-Token valid for its
// X-Project-ID (401 {"error": "Authentication failed."} otherwise); until then every other action gets 403
// {"error": "Not authentified."}. The socket then acts in the token's project and queues (403 {"error": "Not
// authenticated."} otherwise; the admin role may act in any project) and is closed with 4003 "Authentication
// expired." when the token expires. A frame for a message action may instead carry signed-URL headers, with
// URL-Methods and URL-Paths as JSON arrays (spec §9.3); zedge checks them against the queue's messages path,
// so a grant never reaches another queue. Signed-URL headers must verify in every mode, and the revocation
// list is consulted per frame and per push: a socket whose token is revoked is pushed nothing more, and its
// next request gets 403 {"error": "Not authentified."} and ends its socket subscriptions. A socket that
// authenticates again is pushed only what its new token grants.
//
// # Socket subscriptions
//
// subscription_create without a subscriber subscribes the socket itself: the stored subscriber is
// "websocket:<socket id>" (the Service accepts the scheme through broker.WithTransportSubscriberScheme), and
// the Server, registered as a broker.Observer, pushes every message posted to the queue, whatever the
// transport, as a bare frame {"body", "ttl", "queue_name", "Message_Type": "Notification"} (msgpack when the
// subscription was made by a binary frame). Frames are built once per message and queued to each socket
// without blocking; a socket whose send queue (Config.SendQueue) is full is a slow consumer and is closed
// with 1008 and a reason instead of slowing posts. Subscriptions die with their socket (deleted from the
// store when it ends, or at Shutdown); one deleted, purged or re-pointed over REST stops pushing at once; one
// past its ttl stops too. Socket subscriptions need no confirmation: the socket asked for them itself. After a
// crash, the subscriptions of sockets that were open stay in the store, inert, until their ttl.
//
// # Connections
//
// Each socket has one long-lived goroutine, its reader (frames are answered one at a time, in order). A
// writer goroutine runs only while frames wait in the socket's send queue, pings are sent from a timer, and
// write buffers come from a pool while a frame is written, so an idle socket holds its read buffer, its
// reader's stack and a few small structs. Requests read ahead of their handling take at most
// Config.MaxFrameSize bytes of a socket's queue (or one frame): beyond that the reader waits, so a client
// that floods large frames holds a few frames' worth of memory, not SendQueue of them. Frames larger than
// Config.MaxFrameSize close the socket with 1009; a
// socket silent for two ping intervals is closed; writes are bounded by WriteTimeout. Shutdown closes every
// socket, from both listeners, with 1001 "Server shutting down.".
//
// Measured on 2 cores (2026-11-22), an idle subscribed socket cost 45.8 KB of Go heap and stacks
// (BenchmarkIdleSocket) and 46.7 KiB of server RSS (zedge-bench ws-idle, 1000 sockets) with a writer goroutine,
// a 256-frame channel, its own 4 KiB read and write buffers, fasthttp's 8 KiB reader kept under it and the
// request context held by fasthttp's hijack goroutine. With one goroutine (4 KiB of stack), a queue grown on
// demand, pooled write buffers, fasthttp's ReduceMemoryUsage and KeepHijackedConns (the socket served apart
// from the hijack goroutine when it reads the bare connection) and a 1 KiB read buffer it costs 6.5–8.1 KB
// (8–14 KiB live in zedge on Badger) and 22.5–23.3 KiB RSS, the rest of the RSS being connection-storm garbage
// not yet collected.
package wsapi
