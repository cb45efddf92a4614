// Command zedge is an edge message broker that speaks OpenStack Zaqar's v2 REST API.
//
// Usage:
//
//	zedge [serve] [-config FILE] [-check]   run the broker (the default command)
//	zedge version                           print the version
//
// The configuration is the embedded configs/zedge.yaml, overridden by the -config file (same schema, only the
// keys that change), overridden by the environment: ZEDGE_HTTP_ADDR, ZEDGE_DATA_DIR, ZEDGE_ADMIN_MODE,
// ZEDGE_DURABILITY, ZEDGE_STORE, ZEDGE_LOG_LEVEL, ZEDGE_LOG_FORMAT. -check loads and validates it, prints "ok" and
// exits 0, or prints the problems to stderr and exits 2.
//
// With ZEDGE_READY_FILE=PATH, zedge writes {"http": "127.0.0.1:PORT", "pid": N} to PATH (atomically) once it
// serves, and removes it when it shuts down.
//
// SIGTERM or SIGINT stops accepting connections, lets in-flight requests finish (at most shutdown_timeout), closes
// the store and exits 0; a second signal ends the process at once. zedge exits 1 when it cannot start (invalid
// configuration, port in use, data directory held by another process).
//
// main only calls app.Main: the lifecycle lives in package cmd/internal/app, where tests can start it.
package main
