// Package app is the lifecycle of the zedge binary, kept out of main so that a test can run all of it:
// configuration (the embedded configs/zedge.yaml, then a -config file, then ZEDGE_* environment variables,
// then Validate), the logger, the wiring of store, broker, authentication and HTTP API, serving, and the
// ordered shutdown (stop accepting and drain HTTP requests within shutdown_timeout, stop watching the
// revocation list, then close the store).
//
// Authentication is the auth and signing sections (ZEDGE_AUTH, ZEDGE_JWT_SECRET, ZEDGE_SIGNING_KEY): New opens
// the revocation list (with store kind redis one hash in Redis beside the store's keys, shared by every node;
// otherwise revocations.json in the data directory unless auth.revocations.file says otherwise; see
// revocations.go), builds the httpapi.Guard from it and the keys, and warns about URL secrets shorter than 32
// bytes and about noauth on a non-loopback address; Run watches the list so that `zedge revoke` takes effect
// while serving.
//
// Main is the whole command line; cmd/zedge only calls it. Besides serve and version it has the operator's
// credential commands (credentials.go): sign prints a signed URL, token a JWT, revoke changes or lists the
// revocation list. They read the same configuration as serve and need no running server. New and Run are the
// pieces a test starts in-process, typically on 127.0.0.1:0 with a temporary data directory.
package app
