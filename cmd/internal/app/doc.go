// Package app is the lifecycle of the zedge binary, kept out of main so that a test can run all of it:
// configuration (the embedded configs/zedge.yaml, then a -config file, then ZEDGE_* environment variables,
// then Validate), the logger, the wiring of store, broker and HTTP API, serving, and the ordered shutdown
// (stop accepting and drain HTTP requests within shutdown_timeout, then close the store).
//
// Main is the whole command line; cmd/zedge only calls it. New and Run are the pieces a test starts in-process,
// typically on 127.0.0.1:0 with a temporary data directory.
package app
