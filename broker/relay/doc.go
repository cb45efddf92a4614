// Package relay carries wake-ups between zedge nodes that share one Redis (store kind redis), so that a post
// accepted by node A wakes the MQTT bridge and pushes to the websocket subscribers connected to node B.
//
// A Relay is a broker.Observer (and broker.SubscriptionObserver) registered on each node's Service. Every
// local post is encoded, tagged with the node's random id, queued (MessagesPosted never blocks) and published
// by one goroutine, several frames per pipelined round trip, on one Redis pub/sub channel (Config.Channel,
// which zedge derives from the store's key prefix). Each relay subscribes to the same channel and hands the
// frames of other nodes to its targets: in zedge the bridge and the websocket transport, which the app passes
// to New directly. The notification dispatcher is deliberately not a target (webhooks and emails are sent
// once, by the node that accepted the post), nor is the metrics observer (a post is counted once), nor the
// relay itself (nothing is published twice). A node ignores its own frames.
//
// # Frames
//
// A frame is binary (version byte, node id, kind, project, queue, then the kind's fields as varints and
// length-prefixed strings). A post travels with its messages as stored (id, body, ttl, created, expires,
// delay, client id) when the frame fits Config.MaxFrameBytes (64 KiB); otherwise with its ids only, and the
// receiving node reads the messages back through the Service (messages deleted meanwhile are skipped);
// otherwise (ids alone too many) as a bare wake-up, which wakes the bridge but pushes nothing to socket
// subscribers. The cap keeps a burst of large posts from filling Redis's pub/sub output buffers, which
// disconnect a slow subscriber (client-output-buffer-limit pubsub). Subscription changes travel too, so a
// socket subscription deleted over REST on node A stops pushing on node B.
//
// # One channel, classic pub/sub
//
// Every node wants every queue's events: which queues matter lives inside the bridge (connected devices) and
// the websocket transport (socket subscriptions), and a relay cannot know it in advance. Per-queue channels
// would therefore need PSUBSCRIBE on a pattern, which costs Redis a pattern match per message and buys no
// filtering. Sharded pub/sub (SPUBLISH/SSUBSCRIBE, Redis 7.0) would need one subscription per shard channel
// on the master owning its slot (Redis refuses SSUBSCRIBE across slots with CROSSSLOT), each to be moved by
// hand when slots migrate or a replica is promoted; the events of all shards would still reach every node.
// Classic PUBLISH on one channel works the same on a single Redis and on a cluster (where Redis forwards it
// to every node over the cluster bus), and go-redis resubscribes on whichever node it reconnects to. The
// relay routes PUBLISH by the channel's slot (go-redis would otherwise spread a keyless command over the
// masters round robin), which is also where go-redis subscribes, so one node's frames arrive everywhere in
// the order they were published.
//
// # Delivery
//
// Exactly once per delivery attempt: a frame reaches each other node once per subscription (pub/sub neither
// repeats nor persists), and the attempt itself is decided elsewhere: a command is delivered by the bridge
// only under a claim it won, so two woken nodes never deliver the same attempt; a socket lives on one node,
// which pushes it the message once (locally for its own posts, through the relay for others').
//
// What a missed wake-up costs: pub/sub is at most once. A frame is lost when the publish queue is full
// (Config.QueueSize, counted as PublishDropped), when Redis is unreachable at publish time (PublishFailed), or
// while a subscription is being re-established (after a Redis failover or a dropped connection; the relay
// retries with a doubling back-off from Config.BackoffMin to BackoffMax and logs the outage once). Nothing is
// lost from the queues: the message is stored before the frame is sent. A command waits until the bridge's
// deliverer runs for another reason: the device subscribing again (reconnecting), an acknowledgement making
// room in its window, a later post to the same queue (any node), or a claim of that queue expiring (see the
// bridge's "Delivery guarantees"); until then it is listed over REST as queued. A socket subscriber does not
// get the notification at all (Zaqar's websocket notifications are best effort too); it still finds the
// message by listing or claiming.
//
// One gap is not a lost frame: claim expiry is a timer on the node whose deliverer took the claim. A device
// that moves from node B to node A while B holds unacknowledged commands under claims gets them from A only
// when something wakes A's deliverer after those claims expire (another post to the queue, an acknowledgement,
// the device subscribing again); B's timer fires where the device no longer is, and no frame tells A.
//
// The relay costs each post one encoded frame and a share of a pipelined PUBLISH; in a CPU profile of a
// post-heavy load on one node it was about 7 % of zedge's CPU, most of it the socket reads and writes.
package relay
