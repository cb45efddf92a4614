// Package redisstore is zedge's scale-out store: store.Store on Redis or Redis Cluster
// (github.com/redis/go-redis/v9), so any number of stateless zedge processes can serve the same queues. Every
// queue lives in one hash slot and every operation on a queue is one Lua script there. See the full layout
// and contracts below (to be completed).
package redisstore
