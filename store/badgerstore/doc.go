// Package badgerstore is zedge's durable store: the shared queue engine (store/internal/engine) serves every
// call from memory, and each change is persisted to Badger (github.com/dgraph-io/badger/v4) before the call
// returns. On Open the live state is rebuilt from Badger.
//
// # Writes: group commit
//
// Badger's SyncWrites fsyncs once per write request, so concurrent transactions do not share an fsync. Instead
// every operation appends its encoded records to the current group while holding its queue's lock (so disk
// order is memory order), and one committer goroutine writes the whole group as one Badger transaction —
// one request, one WAL fsync in sync mode — then wakes every waiter; what arrives meanwhile forms the next
// group. A group is split only when Badger reports ErrTxnTooBig (15% of a memtable), and then between operations,
// so that a failure between the parts leaves no operation half done; only an operation too big for one
// transaction on its own is cut inside (a dead-letter move writes its copy before deleting the original, so such
// a cut can duplicate a message but not lose it). Writes are blind (no reads in write transactions), so
// conflict detection is off. A failed commit fails the store for good (store.ErrUnavailable): memory may be
// ahead of disk, and only a restart rebuilds a consistent state.
//
// Durability sync acknowledges after the fsync. Durability async acknowledges once Badger applied the group to
// its memory-mapped WAL (which survives a process crash) and fsyncs every SyncInterval (bounding what a power
// loss can take).
//
// A posted message becomes visible (listable, claimable) only once its group is durable, and in sequence
// order, so nothing that a crash could take back is ever handed out and a marker never skips a message.
//
// # Key layout
//
// Integers in keys are big-endian (so keys sort numerically); P and Q are the project and queue names, each
// prefixed by its length as a big-endian uint16 so that arbitrary strings never collide ("a"+"b.c" vs
// "a.b"+"c"):
//
//	0x00 'v'                          layout version (1 byte, currently 1); Open refuses other versions
//	0x00 'l'                          sequence lease (uint64): every message sequence ever used is below it
//	0x00 'x'                          scratch key written and dropped by Compact (to flush memtables)
//	'q' len(P) P len(Q) Q             queue: created, metadata                          no TTL
//	'm' len(P) P len(Q) Q seq(u64)    message: metadata and body                       ExpiresAt = message expiry
//	'c' len(P) P len(Q) Q claimID     claim: ttl, grace, updated, expires               ExpiresAt = claim expiry
//	's' len(P) P len(Q) Q subID       subscription: ttl, created, expires, flags,       ExpiresAt = subscription
//	                                  subscriber, options                                expiry
//
// Values start with a version byte; their integers are little-endian. One key per message holds its metadata
// and body, with Badger's ExpiresAt set to the message's expiry (rounded up to the second), so Badger drops
// expired messages when a compaction rewrites their table; the reaper drops them from memory and writes a
// delete record for each (see Disk space for why). A claim that changes a message (claim id and count, a
// longer life) rewrites the message's entry with the new ExpiresAt. Renewing a
// claim rewrites only the claim record and the messages whose life it extends: on Open a message's claim
// expiry comes from its claim record, and a message whose claim record is gone (released or expired) is
// unclaimed. Queue records never expire; deleting a queue deletes each of its message and claim keys.
//
// Message sequence numbers come from one global counter, so an ID is never reused, even after a queue is
// deleted and re-created. The counter is persisted as a lease: when a message's sequence reaches the stored
// lease, a new lease (sequence + 2^20) is written in the same group, before the message. After a restart the
// counter resumes at the lease, so at most 2^20 IDs are skipped per restart, and no ID is reused even after a
// crash. (A badger.Sequence would renew its lease with its own fsynced transaction on the post path, and would
// fail while Compact blocks writes.)
//
// # Memory
//
// All metadata lives in memory (see the engine's doc). Measured by the memstore and badgerstore
// BenchmarkLiveMemory (200k live messages with 100-byte bodies): the engine holds about 240 bytes of Go heap
// per message with its body (112 for the Msg record, the body rounded to its size class, about 16 for the
// B-tree entry and 8-12 for the expiry heap), about 130 without. Bodies up to
// BodyMemoryMax bytes (default 512, which covers typical telemetry and commands) are kept in memory as well;
// larger ones are read back from Badger, under the queue's lock, when their message is listed, fetched,
// claimed, popped or dead-lettered. So a large backlog of big messages costs disk, not memory, while small
// messages are served without touching Badger. Measured on the store benchmarks (2 cores): listing 10 small
// messages takes about 2 µs with bodies in memory and about 20-25 µs when they are read back from Badger.
// Badger itself adds up to NumMemtables (3) x MemTableSize of memtables plus the block cache, and while a
// memtable is flushed, table-builder buffers of about twice its size; without the jemalloc build tag all of
// these are Go heap, so the Go runtime's usual headroom (GOGC) doubles them in RSS. RSS also counts the pages
// of Badger's memory-mapped files (WALs, tables, value logs) that were touched.
//
// # Disk space
//
// Expired and deleted entries leave the LSM tree when compactions reach them; bodies above ValueThreshold live
// in the value log, whose files a GC loop (GCInterval, GCDiscardRatio) rewrites when mostly garbage.
//
// Badger's ExpiresAt alone does not reclaim short-lived messages promptly: a compaction drops an entry that is
// expired when the compaction runs, but message keys grow with the sequence, so new data never overlaps the
// tables holding the oldest (now expired) messages, and Badger rewrites a table of the last level on its own
// only when it was created an hour ago and already held 10 MiB of stale data when it was written. So the
// reaper writes a delete record for every message it drops (in one batch per queue and reap, not waited for):
// the tombstones land on exactly the key ranges that expired, and the level compactions that merge them down
// rewrite those tables, dropping tombstone and message together. Level-0 tables are compacted after 2 of them
// (NumLevelZeroTables; Badger's default is 5), so the garbage in freshly flushed memtables does not wait for
// five 16 MiB tables. Measured by the zedge-bench soak (10k msgs/s of ~100-byte bodies, ttl 60, 8 queues, 2
// shared cores, 5-minute runs; live set = messages alive x 206-byte records, 118 MiB):
//
//	                                             disk, steady state       disk max   server CPU/1k req
//	Badger expiry only (before)                  150-288 MiB, saw-tooth   288 MiB    0.358 s (with stalls)
//	+ delete records from the reaper             130-226 MiB              218 MiB    0.385 s
//	+ NumLevelZeroTables 2 (memory_limit 448MiB) 124-175 MiB              175 MiB    0.470 s
//
// With both, the disk's maximum is 1.5x the live set and its steady state 1.05-1.5x. The level-0 change alone
// does most of it with 8 queues (a level-0 table spans every queue's newest keys, so its compaction rewrites
// the tables in between: 128-207 MiB in 4 minutes, rising at the end), but not with one queue (-queues 1, 3
// minutes, no memory limit): 116-252 MiB without the delete records, 2.21x the live set, against 117-189 MiB,
// 1.66x, with them. The delete records cost
// about 10k extra small writes per second at this rate (part of the same group commits); the last row's CPU
// also carries the more frequent garbage collection of its memory limit.
// DiskUsage reports the bytes allocated on disk by every file in the directory (st_blocks, as du counts; the
// preallocated WAL and value-log files are sparse, so their apparent size would overstate it). Compact flushes
// the memtables (by dropping a scratch key, the only public way Badger offers), flattens the LSM tree into one
// level — dropping every expired and deleted entry — and runs value-log GC until nothing is left to rewrite;
// TestDiskReclaimed shows the disk returning close to its starting size after a burst of short-lived messages.
//
// # Tuning (DefaultConfig)
//
// For high volumes of small, short-lived values on two cores: values up to 4 KiB are inlined in the LSM tree
// (no value-log indirection or GC for typical messages), no compression, two compactors, 16 MiB memtables
// (three of them), a 32 MiB block cache (bodies are served from memory by default, so the cache mostly serves
// compactions), 64 MiB value-log files (so GC can reclaim them), Badger's metrics off, and Badger's logger
// adapted to slog with its info chatter demoted to debug.
//
// The figures behind the choices (2 cores, shared and noisy; go test -bench on this package):
//   - MemTableSize 16 MiB rather than 32: BenchmarkLiveMemory/sync-memtable-* after 200k live messages gives
//     the Go runtime's whole footprint (Sys) at 939 bytes/message with 8 or 16 MiB memtables against 1256-1261
//     with 32 or 64 MiB, and an empty store's heap of 22 MiB against 43 MiB. BenchmarkStore/sync-memtable-16MiB
//     posting 10 per call in parallel gave 91k-151k msgs/s against 78k-127k for 32 MiB in the same runs (the
//     spread is the box's noise; no throughput cost was measurable). 8 MiB saves no more and flushes twice as
//     often; a transaction (one group) is bounded by 15% of a memtable, 2.4 MiB, and larger groups are split.
//   - Group commit: posting 1 message per call from 64 goroutines, a group holds about 31.5 posts (ops/commit)
//     and the store does 64k-77k posts/s in sync mode; serially one sync post takes about 350 µs (the fsync), so
//     the committer is fsync-bound, not CPU-bound. Handing the next group to Badger while the previous one is
//     being fsynced (txn.CommitWith, two groups in flight) made groups smaller (about 23 posts) and gave 34k-57k
//     posts/s against 64k-70k for the serial committer, so the committer stays serial.
//   - Sync writes fsync Badger's current value-log file as well as the memtable WAL, even when a write put
//     nothing in the value log. Replacing that by an fdatasync of the WAL alone measured 61k-81k posts/s
//     against 77k for Badger's own syncs: the second flush is nearly free on this disk, and the replacement
//     would have had to track Badger's file rotation by name, so Badger keeps syncing itself.
package badgerstore
