// Command zedge is an edge message broker that speaks OpenStack Zaqar's v2 REST API.
//
// Usage:
//
//	zedge [serve] [-config FILE] [-check]   run the broker (the default command)
//	zedge sign -queue Q -project P [-methods POST] [-paths messages] [-expires 1h] [-url BASE] [-json]
//	zedge token -sub S -project P [-roles device] [-ttl 24h] [-queues PATTERNS]
//	zedge revoke (-url U | -signature S | -fingerprint F | -token T | -jti J | -subject S) [-remove]
//	zedge revoke -list
//	zedge version                           print the version
//
// The configuration is the embedded configs/zedge.yaml, overridden by the -config file (same schema, only the
// keys that change), overridden by the environment: ZEDGE_HTTP_ADDR, ZEDGE_DATA_DIR, ZEDGE_ADMIN_MODE,
// ZEDGE_DURABILITY, ZEDGE_STORE, ZEDGE_LOG_LEVEL, ZEDGE_LOG_FORMAT, ZEDGE_AUTH, ZEDGE_JWT_SECRET,
// ZEDGE_SIGNING_KEY, ZEDGE_MQTT_ADDR (the MQTT listener, default 127.0.0.1:1883), ZEDGE_MQTT_PROJECT, ZEDGE_WS_ADDR (the websocket listener, default 127.0.0.1:9000). -check loads and validates it, prints "ok" and exits 0, or prints the problems to stderr and
// exits 2.
//
// sign prints a signed URL (the query form a device can be given, the header form, and a curl line), token a
// JWT, and revoke adds to (or lists, or removes from) the revocation list file in the data directory; they
// read the same configuration as serve and need no running server. A running zedge picks up what revoke
// wrote within auth.revocations.poll_interval (at most a second).
//
// With ZEDGE_READY_FILE=PATH, zedge writes {"http": "127.0.0.1:PORT", "mqtt": "127.0.0.1:PORT", "pid": N} to
// PATH (atomically) once it serves, and removes it when it shuts down.
//
// SIGTERM or SIGINT stops accepting connections, lets in-flight requests finish (at most shutdown_timeout),
// disconnects the MQTT clients once the publishes being stored are done, closes the store and exits 0; a second signal ends the process at once. zedge exits 1 when it cannot start (invalid
// configuration, port in use, data directory held by another process).
//
// main only calls app.Main: the lifecycle lives in package cmd/internal/app, where tests can start it.
package main
