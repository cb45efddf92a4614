package redisstore

import (
	"embed"

	"github.com/redis/go-redis/v9"
)

//go:embed lua/*.lua
var luaFS embed.FS

// The scripts, one per operation; the queue scripts share the prelude lua/queue.lua and the subscription
// scripts lua/sub.lua. go-redis runs them with EVALSHA and falls back to EVAL (which loads them) the first
// time a node has not seen one, so nothing is loaded up front and a failover or SCRIPT FLUSH is harmless.
var (
	scriptPost         = queueScript("post")
	scriptCreate       = queueScript("create")
	scriptList         = queueScript("list")
	scriptGet          = queueScript("get")
	scriptDelete       = queueScript("delete")
	scriptDeleteMany   = queueScript("delete_many")
	scriptPop          = queueScript("pop")
	scriptStats        = queueScript("stats")
	scriptClaim        = queueScript("claim")
	scriptDeadLettered = queueScript("dead_lettered")
	scriptClaimGet     = queueScript("claim_get")
	scriptRenew        = queueScript("renew")
	scriptRelease      = queueScript("release")

	scriptCatalogued = plainScript("catalogued")
	scriptUpdate     = plainScript("update")

	scriptSubCreate = subScript("sub_create")
	scriptSubUpdate = subScript("sub_update")
	scriptSubList   = subScript("sub_list")
	scriptSubDelete = subScript("sub_delete")
)

func source(name string) string {
	b, err := luaFS.ReadFile("lua/" + name + ".lua")
	if err != nil {
		panic(err) // embedded at build time: a missing file is a build mistake
	}
	return string(b)
}

func queueScript(name string) *redis.Script { return redis.NewScript(source("queue") + source(name)) }
func subScript(name string) *redis.Script   { return redis.NewScript(source("sub") + source(name)) }
func plainScript(name string) *redis.Script { return redis.NewScript(source(name)) }
