// Command zedge-bench is the load generator and bench harness for zedge.
//
// It starts the zedge binary itself on 127.0.0.1:0 with a temporary data directory (a fresh server per workload),
// runs each workload from a separate load process (the harness re-executes itself with -load) over N keep-alive
// connections after a warm-up, and prints one row per workload: requests and messages per second, latency
// percentiles, errors (every non-2xx), the server's CPU seconds per thousand requests (from /proc/<pid>/stat over
// exactly the recorded window), its resident memory and the size of its data directory.
//
// A "canned 201" reference server (the harness again, with -reference-server: a bare fasthttp server answering every
// request with a fixed 201) is measured with post1 first; every row also shows its requests per second as a ratio
// to that ceiling.
//
// Workloads:
//
//	post1           POST one ~100-byte JSON reading (ttl 60) per request
//	post10          POST ten readings per request
//	claim10+delete  claim up to 10 pre-filled messages, then DELETE each with its claim_id
//	list10          GET ?echo=true&limit=10 on a pre-filled queue
//	mqtt-qos1       1000 MQTT 3.1.1 devices (dev-0000..) publish ~100-byte JSON to sensors/b{n%10}/r{n}/temp at
//	                QoS 1, one publish in flight each: PUBACKed messages/s, publish→PUBACK latency (the PUBACK
//	                follows the store write), server CPU µs per message
//	mqtt-qos0       the same at QoS 0: messages written/s, and afterwards stored/sent from the telemetry queues' stats
//	mqtt-cmd        100 devices subscribed at QoS 1 to devices/{id}/commands; commands posted over REST to
//	                cmd-{id} at 1000/s (open loop); scheduled-post→receipt latency, and the command queues must
//	                drain (PUBACK deletes)
//	mqtt-idle       1000 (-short: 200) devices connect, subscribe and idle; server RSS before and after (2 s GC
//	                settle): KiB per idle device, Go runtime overhead included
//	ws-idle         1000 (-short: 200; -devices overrides) websockets connect to zedge's own websocket listener,
//	                each sends Zaqar's subscription_create for a queue (a socket subscription) and idles; server
//	                RSS before and after (2 s GC settle) and Go heap in use (/metrics): KiB per idle socket
//	soak            not in the default set: POST at a paced rate (-soak-rate 10000 msgs/s in batches of
//	                -soak-batch 10, ttl -soak-ttl 60) for -soak-duration (10m, -short 90s), sampling every
//	                -soak-sample (10s, -short 5s) the server's RSS, Go heap (/metrics), data dir on disk, messages
//	                alive (queue stats) and expired; the note says whether disk ≤ 2× the live set (alive ×
//	                body bytes) and whether RSS stays flat (within 10% from 2 minutes in, or one ttl in a short
//	                run, to the end). Run it with make bench BENCH_ARGS='-workloads soak'.
//
// The MQTT workloads use the bridge's default rules with auth none (every client an operator of project
// "default"), -devices overrides their device counts, and notes below the table give their derived figures.
// The harness raises its open-files limit to the hard limit (the server inherits it).
//
// -store redis runs zedge on Redis instead (HTTP workloads only, MQTT ones are left out; by default post1, post10
// and claim10+delete),
// once per topology of -redis-topologies: "single" (one redis-server), "cluster" (a 3-master Redis Cluster
// made with redis-cli --cluster create) and "2nodes" (two zedge processes on that cluster, the connections of
// every queue split between them, so claims on one queue come from both). The harness starts the
// redis-server processes itself, on free loopback ports with AOF on (-redis-appendfsync everysec or always),
// fresh for every row. The cpu column is zedge's (both processes for 2nodes); the redis-server CPU per
// thousand requests is a note below the table, and the data dir column is the AOF size.
//
// Usage:
//
//	go run ./cmd/zedge-bench -zedge bin/zedge [-short] [-json out.json] [-workloads post1,post10] [-conns 32]
//	    [-queues 8] [-durability sync|async] [-devices N]
//	    [-store badger|redis] [-redis-topologies single,cluster,2nodes] [-redis-appendfsync everysec|always]
//
// BENCH_SHORT=1 is the same as -short. Only loopback addresses are used. Runs are bounded in time (-duration,
// -warmup) and in requests (-max-requests).
package main
