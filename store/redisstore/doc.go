// Package redisstore is zedge's scale-out store: store.Store on Redis or Redis Cluster
// (github.com/redis/go-redis/v9), so that any number of stateless zedge processes serve the same queues. It
// passes the same conformance suite as memstore and badgerstore (storetest.Run), on a single Redis and on a
// 3-master Redis Cluster.
//
// # Key layout
//
// Every key starts with Config.KeyPrefix and ':'. P and Q are the project and the queue name with '%', '{', '}'
// and '/' percent-escaped, so any names give exactly one hash tag and distinct (project, queue) pairs never
// share one. All keys of a queue carry the hash tag {P/Q}, so a queue lives in one slot (one node of a
// cluster) and every operation on it runs as one Lua script there:
//
//	prefix:{P/Q}:meta    HASH  created, metadata, epoch, seq (last message sequence), c (catalogued)
//	prefix:{P/Q}:msgs    HASH  sequence -> message record (times, ttl, claim state, client id, body)
//	prefix:{P/Q}:ord     ZSET  sequences by sequence: every stored message, in post order (listing, stats)
//	prefix:{P/Q}:exp     ZSET  sequences by expiry (trimming expired messages)
//	prefix:{P/Q}:free    ZSET  sequences by sequence: neither claimed nor delayed (claims and pops take here)
//	prefix:{P/Q}:held    ZSET  sequences by the end of their claim (back to free when it passes)
//	prefix:{P/Q}:dly     ZSET  sequences by the end of their delay (to free when it passes)
//	prefix:{P/Q}:claims  HASH  claim id -> ttl, grace, updated, expires, the claimed sequences
//	prefix:{P/Q}:cexp    ZSET  claim ids by expiry
//	prefix:{P/Q}:subs    HASH  subscription id -> ttl, created, expires, confirmed, subscriber, options
//	prefix:{P/Q}:subk    HASH  subscriber -> subscription id (duplicate check)
//	prefix:{P/Q}:subl    ZSET  subscription ids, all scored 0 (listing in id order with ZRANGEBYLEX)
//	prefix:{P/Q}:sube    ZSET  subscription ids by expiry
//	prefix:{P}:queues    ZSET  the project's catalogue: queue names, all scored 0 (ListQueues in byte order)
//
// The record formats are described in lua/queue.lua and lua/sub.lua. Times are integer microseconds of the
// callers' now (never Redis's TIME), which Lua's doubles hold exactly.
//
// Message sequences come from the queue's meta (HINCRBY in the post script), so a marker is the sequence in
// decimal, as in the engine. A message ID is the queue's epoch (16 random hex digits drawn when the queue is
// created) followed by the sequence (16 hex digits): IDs of other queues, other projects and earlier
// incarnations of a deleted and re-created queue never name a message.
//
// # Expiry without scans
//
// Nothing runs in the background and nothing scans a queue. Each script first trims what expired by its now:
// ZRANGEBYSCORE exp -inf now, at most 1000 per call. Claims and pops also move back to free what held and dly
// say has ended, and drop ended claims from cexp (again at most 1000 per index and call). Reads never rely on
// trimming: every record they return is checked against now, and Stats counts with ZCARD ord minus ZCOUNT exp
// up to now and ZCOUNT held after now, which are exact whatever is left to trim.
//
// # Script contracts
//
// One .lua file per operation (lua/), the queue ones prefixed with lua/queue.lua and the subscription ones with
// lua/sub.lua. Every key a script touches is passed in KEYS and shares the queue's hash tag. They run with
// EVALSHA, falling back to EVAL the first time a node lacks one (NOSCRIPT), so nothing is loaded up front and a
// failover or SCRIPT FLUSH is harmless; on a cluster, go-redis sends each call to the node holding its slot
// and follows MOVED/ASK redirects. Each script is atomic on its node; a missing queue reads as empty and
// is never created except by post, create and sub_create.
//
//   - post: create the queue if missing, trim, append the batch in order (sequences first+0..n-1), return the
//     epoch and first sequence. One round trip; four more when the post created the queue (recording it in
//     the catalogue, see below).
//   - list, get, stats, claim_get: read with the filters of the store interface, after trimming.
//   - claim: settle, take up to limit messages from the head of free, checking every candidate (expired ones
//     are removed, claimed or delayed ones refiled), count the claim and extend each message's life to at least
//     the claim's end plus grace; messages at the dead-letter count are leased instead (see below). One round
//     trip without dead-lettering.
//   - delete: the claim rules of DeleteMessage, decided on the record; delete_many, pop, renew, release and
//     dead_lettered as their names say; purge and queue deletion are one DEL of the queue's keys.
//   - create, update (compare-and-set of the metadata, retried by UpdateQueue), catalogued.
//   - sub_create (duplicate subscriber check and insert, creating the queue), sub_update, sub_list, sub_delete.
//
// # What is not atomic across slots
//
// A cluster cannot run one script over two slots, so three things take more than one step:
//
//   - Dead-lettering moves a message from its queue to the dead-letter queue, in general another slot. The claim
//     script leases the messages due to move (hidden under a lease id for a minute of the callers' time, claim
//     counts unchanged), the store then appends copies to the dead-letter queue (post script there), then
//     removes the originals if they are still under the lease (dead_lettered). A message is never lost: if the
//     process dies before the copy, the lease ends and a later claim moves it again. If it dies after the copy
//     and before the removal, the message is moved twice (at least once, not exactly once). Between the steps
//     (milliseconds) a listing with include_claimed may show the original as claimed and the copy at once.
//   - The queue catalogue lives in the project's slot, a queue in its own. Creating a queue (also implicitly by
//     a post or a subscription) writes the queue first, then its catalogue entry; deleting deletes the queue's
//     keys first (one DEL), then the entry. After each change the store reconciles: it records in the catalogue
//     what it sees in the queue's slot and looks again until both agree, which keeps them right under any
//     interleaving of concurrent creators and deleters. A process that dies in between leaves a queue missing
//     from ListQueues until the next post or create on it (the queue's c field says whether it was recorded),
//     or a name counted by CountQueues until a listing or deletion passes by (listings skip and remove names
//     whose queue is gone).
//   - ListQueues reads names from the catalogue, then the queues' records from their slots (a second, pipelined
//     round trip per page), so a page is not a snapshot.
//
// # Durability
//
// A script's writes are in Redis memory when PostMessages returns, and visible to every node at once. Whether
// they survive a Redis crash is Redis's persistence configuration: with appendonly yes and appendfsync
// everysec (Redis's default for AOF) a 201 is on disk within about a second; with appendfsync always it is on
// disk before the reply; with RDB snapshots only, writes since the last snapshot are lost. Capabilities().Durable
// reports whether every master had appendonly yes when the store was opened. TestAOFRestart kills Redis
// (SIGKILL) right after a run of posts and a claim and finds all of them after the restart: Redis writes the
// AOF before it replies, so only a crash of the machine, not of the Redis process, can take the last second
// under everysec. Replicas are asynchronous: a failover can lose the last writes a master acknowledged (WAIT
// is not used).
//
// Script calls are never re-sent by the client (MaxRetries -1, and a NoRetry command, since go-redis's cluster
// client otherwise re-sends after a timeout or a broken connection): a post whose reply is lost may or may not
// have been applied, and the caller sees store.ErrUnavailable rather than the driver silently appending the
// batch twice. Clients that retry get at-least-once delivery, as with Zaqar. Replies that prove a script did
// not run are retried by the store, a few times over about half a second: no connection, TRYAGAIN,
// CLUSTERDOWN, MASTERDOWN and LOADING. TRYAGAIN is what a queue's scripts meet while its slot is migrated
// between masters: a script declares all nine keys of its queue, some of which may not exist, and Redis
// refuses a multi-key call with missing keys in a migrating slot until the migration ends. TestSlotMigration
// migrates a queue's slot under a stream of posts: with the retries none failed (433 acknowledged in one run),
// without them 578 of about 1,550 attempts in a run were refused.
//
// # Memory
//
// Measured with 100,000 messages of 90-byte bodies in one queue (MEMORY USAGE): about 590 bytes of Redis memory
// per message, of which 266 are its record in msgs (108 bytes of header, the body, the hash entry) and about 96
// each its entries in ord, exp and free (sorted sets; a claimed message is in held instead of free).
//
// # Time
//
// Times come from the callers (each zedge node's clock), so nodes sharing a Redis should keep their clocks in
// sync (NTP); a skew of d moves expiries and claim ends by up to d between nodes.
package redisstore
