// Package bridge embeds an MQTT broker (github.com/mochi-mqtt/server/v2) in zedge and bridges device topics
// onto Zaqar queues through *broker.Service, so the same data is reachable over MQTT, REST and websocket. It
// holds no domain rule of its own: names, sizes, ttls, claims and dead-lettering are the Service's.
//
// zedge is also a plain MQTT 3.1.1 and 5 broker: a topic that matches no rule is ordinary pub/sub (retained
// messages, wills, shared subscriptions), subject only to the ACL.
//
// # Rules
//
// Rules (YAML, see Rules and DefaultRules) map topics to queues with named wildcards. A telemetry rule such
// as sensors/{building}/{room}/{kind} → telemetry-{building} stores every publish on a matching topic in the
// derived queue of the publisher's project; a command rule such as cmd-{device} ↔ devices/{device}/commands,
// with ack topic devices/{device}/acks, delivers a device's command queue to its command topic. The first
// matching telemetry rule wins. A derived queue name that is not a valid queue name refuses the publish.
//
// A stored publish is wrapped in an envelope (AppendEnvelope):
//
//	{"topic": "sensors/b1/r101/temp", "device": "s-17", "received_at": "2026-11-22T02:12:47.120Z",
//	 "payload": {"value": 21.5}}
//
// A JSON payload is kept byte for byte under "payload"; any other payload is carried as base64 under
// "payload_base64" with a "content_type" (the MQTT 5 content type, else application/octet-stream).
//
// A command reaches the device as the message Zaqar would list, without href or checksum (AppendCommand):
//
//	{"id": "<message id>", "body": <body as posted>, "ttl": 300, "age": 0}
//
// MQTT 5 devices also get the id as the user property zedge-message-id. A reply on the ack topic is a JSON
// object naming the command, {"id": "<message id>", ...}; the rest is the device's (a result, a status).
//
// # Identity and access
//
// With auth jwt the MQTT password is a zedge token (signing.Claims): its project_id is the client's project
// and its subject the device id. The username is ignored, but MQTT 3.1.1 sends a password only with a
// username, so a 3.1.1 client sets one (its device id, say). A refused CONNECT gets 0x86 (bad token; 3.1.1:
// return code 5), 0x85 (client id; 3.1.1: 2) or 0x87 (will; 3.1.1: 5). A device token (role device only) must connect with its device id as client
// id (an empty client id is assigned it), so that no device can take over another's session. It may publish
// to telemetry rule topics (where the rule names {device}, only with its own id; the token's queues claim
// must cover the derived queue), to its own ack topics and within acl.device_publish (default
// devices/{device}/#), never to a command topic; it may subscribe within its own command topics and
// acl.device_subscribe. Operators (role member or admin) may publish and subscribe anywhere, and their
// publishes on a command topic become commands. Wills are checked like publishes at CONNECT. With auth none
// every client is an operator in the configured default project, and its device id is its username, or its
// client id when it gives no username. Refusals and denials are counted (Counters). The client id "inline"
// is the MQTT server's own and is refused.
//
// Projects do not share the MQTT topic space (namespace.go): inside the MQTT server every topic, will, filter
// and client id of a client is prefixed with its project's namespace, and publishes leave it on the way out.
// Two projects may use the same topic names and device ids; neither sees the other's publishes, retained
// messages or shared subscriptions, nor takes over the other's sessions, and each sees only its own names.
// $SYS topics are the server's and stay global. No client publishes to a topic beginning with $: MQTT 5 gets
// 0x90 "topic name invalid", an MQTT 3.1.1 publisher at QoS 1 or 2 is disconnected (the MQTT server alone
// would drop a $SYS publish without acknowledging it, leaving the publisher waiting).
//
// A token is checked again while its connection lasts: every credential_check (1 s) the bridge asks the
// Verifier (CredentialChecker) about the token of each connected client, and a client whose token has expired
// (past the verifier's leeway) or been revoked since it connected is disconnected, with DISCONNECT 0xA0
// "token expired" or 0x87 "token revoked" for MQTT 5 (3.1.1 has no server DISCONNECT: the connection is
// closed). Its will is published, as for any connection the server ends. Counted as
// connection.dropped.token_expired and connection.dropped.token_revoked.
//
// # Delivery guarantees
//
// Telemetry in, at least once. The store write happens in the publish hook, before the MQTT server sends
// the PUBACK (through broker.Service.PostBodies: the envelope is checked by the Service's own rules, as a
// REST post's message would be, without a {"messages": [...]} wrapper to build and parse): a PUBACK (QoS 1)
// means the reading is in its queue with the same durability as a REST 201. With ingest_shared_commits (the
// default) the write may wait up to the store's commit_defer (5 ms) to share an fsync with other writes, so
// under light traffic a PUBACK may come that much later; at a fixed 12k msgs/s that cut the broker's CPU per
// message from 75-76 to 59-68 µs. If it cannot be stored (invalid derived queue name, body too large, store failing) an MQTT 5 publisher gets a
// PUBACK with a reason code (0x90 topic name invalid, 0x87 not authorized, 0x99 payload format invalid,
// 0x80 unspecified error) and a reason string; an MQTT 3.1.1 publisher, which has no negative PUBACK, is
// disconnected without a PUBACK and sends the message again after reconnecting. Nothing is dropped silently:
// every refusal is counted. QoS 2 is handled as QoS 1 (stored before the PUBREC; a refusal is a PUBREC with
// the reason code). QoS 0 is best effort: a refused QoS 0 publish is counted and dropped. A will is plain
// MQTT: it is routed to subscribers but never stored.
// Backpressure: at most ingest_concurrency store writes run at once; each runs on the publisher's own
// connection goroutine, which reads nothing more meanwhile. When every slot is busy an MQTT 5 publisher waits
// up to ingest_wait and then gets 0x97 (quota exceeded); a 3.1.1 publisher waits (it is throttled). No
// buffer grows without bound. A reading stored but not acknowledged (the connection broke between the store
// write and the PUBACK) is sent again by the device and stored twice: at least once, not exactly once.
//
// Loop guard. The bridge publishes commands as the MQTT server's inline client, and the publish hook passes
// the inline client's publishes through untouched, so nothing the bridge publishes is stored again.
//
// Commands out, at least once, acknowledged. A post to a command queue, from any transport, reaches the
// bridge as a broker.Observer event and wakes that queue's deliverer when its device is connected and
// subscribed to its command topic; so does the device subscribing (its backlog is delivered), an
// acknowledgement (room in the window) and a claim expiring. A fixed pool of workers runs deliverers; nothing
// polls. The deliverer claims up to commands.window messages on the device's behalf (claim ttl
// commands.claim_ttl) and publishes each at QoS 1 to the command topic. A command just posted, when the
// queue held nothing older unclaimed and the window has room, is published from the post's observer event
// before it is claimed (the post is durable already; publishing only queues the packet on the connection),
// and the claim that follows covers it without publishing it again; its PUBACK deletes it at once while it
// is still unclaimed, and otherwise is applied under the claim when the claim returns. Should another
// consumer claim it first, the device's acknowledgement deletes nothing and the delivery lapses like an
// unacknowledged one. The device's PUBACK of that publish
// (or, with ack: reply, only its reply on the ack topic) deletes the message under the claim and posts a
// status record to the rule's results queue. A command that is not acknowledged before its claim expires
// (device offline, PUBACK lost, connection's queue full) is claimed and published again once the device is
// connected; each claim counts towards the queue's _max_claim_count, after which the Service moves it to
// _dead_letter_queue. So a command may arrive more than once (MQTT 5 devices can tell by the message id),
// and its state is visible over REST: queued (unclaimed message), delivered (claimed), acknowledged (gone,
// with a record in the results queue), dead-lettered (in the dead-letter queue). A results queue is never a
// command queue, even where a device id would make it one (the device "results" under the default rules,
// whose cmd-results holds every device's records): such a device gets no commands.
//
// A device should subscribe to its command topic at QoS 1: at QoS 0 nothing acknowledges a command except a
// reply, and it is redelivered at every claim expiry until it is dead-lettered.
//
// # Performance
//
// Measured with cmd/zedge-bench against the real binary on a 2-core machine shared with other work (figures
// in docs/performance.md). QoS 1 ingest: of the broker's CPU per message about a third is the system calls
// of the one-in-flight-per-device exchange (the PUBACK's write, ~11-16 µs, and the publish's read, ~6 µs),
// which no setting of ours removes; the Service post was ~11 µs of it (a re-parse of the body the bridge had
// just built: 2.6 µs, an observer event, the store) and is ~1.5-9 µs with PostBodies. Server CPU per message
// depends more on the rate and the machine's load than on that: 45-110 µs/msg for the same binary, from
// ~22k msgs/s closed loop down to a fixed 5k msgs/s (zedge-bench -mqtt-rate), where wake-ups are not
// amortised. Rejected: a per-queue combiner that stored the publishes waiting for one queue in one post
// (flat combining; all PUBACKs still after the store write). At a fixed 5k msgs/s it used the same CPU per
// message as direct posts (104-106 vs 102-106 µs), closed loop it lowered throughput (one post in flight per
// queue, and handing the lead on waits for a CPU), and a QoS 0 flood stored 6.1k/s instead of 7.8k/s.
//
// Command round trip: a stage trace at 1k commands/s showed the path post→receipt as the REST post's store
// write (p50 ~1 ms, p99 12-40 ms on this disk), a worker hand-off (p99 up to 48 ms when every worker waited
// on a claim's fsync) and the claim's store write (p50 ~1 ms, p99 15-30 ms); publishing took 15 µs. Early
// delivery leaves the post's write alone on that path; the p99 that remains is the store's fsync tail.
// The writes no device waits for (an acknowledgement's delete and status record, a claim that covers commands
// delivered early) are made with store.WithDeferredCommit: they ride on the next post's fsync instead of
// each starting its own. At 1k commands/s that took the store from ~2.9 commits per command to ~0.9 (the
// committer was busy ~90% of the time, now ~35%), server CPU per command from 0.58-0.64 ms to 0.48-0.55 ms,
// and the round trip's p99 from 9.7-11.7 ms to 3.3-7.1 ms in four of five alternating runs (17.8 in one).
//
// # Resources
//
// The MQTT server is bounded by Config: packet size, keepalive, receive maximum, inflight messages, session
// expiry, clients, topic aliases, and a per-client write queue of write_queue slots (the server's default of
// 8192 slots costs 64 KiB per connection even when idle). Its log records are passed on a level lower,
// without packet dumps. Retained messages have no forced expiry.
//
// An idle device (token checked, subscribed to its command topic) costs the broker about 27 KiB of Go memory
// (BenchmarkIdleDevice/subscribed): 20 KiB of goroutine stacks and about 7 KiB of heap; one that has received a
// message about 31 KiB (24 KiB of stacks; BenchmarkIdleDevice/delivered). The target of 12 KiB is out
// of reach with the MQTT server as it is: its two goroutines per connection hold 20-24 KiB of stack whatever
// the bridge does (measured alike with the server and its allow-all hook alone, without the bridge).
//
//   - The reading goroutine keeps 16 KiB. Blocked in its read it uses ~5.6 KiB, most of it the server's
//     attachClient (2.9 KiB) and Client.Read (1.6 KiB) frames, which hold whole packets by value (816 bytes
//     each). Reading the CONNECT (ReadPacket 2.5 KiB, the OnPacketRead dispatcher 3.4 KiB) takes it past
//     8 KiB and handling the SUBSCRIBE (processPacket 3.4 KiB, processSubscribe 2.6 KiB, hook dispatchers
//     1.7-3.4 KiB each) past 16 KiB, in the server's own frames, before any hook of ours runs. The collector
//     halves a stack only while less than a quarter of it is in use, so it comes back to 16 KiB and never to
//     8. Moving the bridge's work (the token check, ACL, command refresh) to other goroutines would not lower
//     it: the token check starts 5.6 KiB deep, in a stack that is already 16 KiB. A PUBLISH reaches the
//     publish hook 18.6 KiB deep (processPublish 3.2 KiB, the OnPublish dispatcher 2.7 KiB and 1.6 KiB of
//     packet arguments), so a device that has published since the last collection holds 32 KiB there until a
//     collection halves it again (the store write below the hook stayed within those 32 KiB over the
//     in-memory store).
//   - The writing goroutine has 4 KiB until its first write, which grows it to 8 KiB for good (blocked, it
//     uses ~2.2 KiB plus the runtime's 0.8 KiB allowance, more than a quarter of 8). With the runtime's
//     adaptive initial stack size (GODEBUG adaptivestackstart, on by default) a broker holding many devices
//     starts new goroutines at 8 KiB already, since the average stack in use is ~4-5 KiB:
//     GODEBUG=adaptivestackstart=0 in the environment keeps never-written connections at 4 KiB (a //go:debug
//     line cannot set it).
//   - Heap: the server's client (the Client 0.6 KiB, a write queue of write_queue slots 0.6 KiB, the
//     read_buffer 0.6 KiB, two goroutine descriptors 1 KiB, context, inflight and alias maps 0.6 KiB), the
//     subscription (held twice, by the client and the topic index, 1.4 KiB, and ~1 KiB of topic index nodes
//     for the device's topic levels), the socket (0.3 KiB), and the bridge's ~0.9 KiB: the session and its
//     sync.Map entry (0.2 KiB), the command deliverer and its index entries (0.7 KiB). The bridge keeps
//     nothing of the CONNECT packet (the server decodes strings without copying, so the client id and
//     username held the whole packet, token included) and nothing of the token but its queues claim: 0.6 KiB
//     less per device.
package bridge
