// Package metrics defines zedge's Prometheus metrics in one place and serves them in the text exposition
// format.
//
// The hot paths only increment: the HTTP request counters and latency histograms are looked up in a
// copy-on-write map keyed by (route template, method, status), so a request allocates nothing once its
// combination has been seen; messages are counted per queue class (the queue name's prefix before its first
// '-', at most MaxClasses of them), never per queue name, so the label cardinality stays bounded whatever
// clients name their queues. Components that keep their own counters (the authentication guard, the MQTT
// bridge, the notifier, the websocket server, the store's commit log) are read at scrape time through
// collectors, which costs their owners nothing.
package metrics
