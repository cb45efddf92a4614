package redisstore

import (
	"context"
	"crypto/sha1" //nolint:gosec // Redis names scripts by SHA-1
	"embed"
	"encoding/hex"
	"errors"
	"net"
	"time"

	"github.com/redis/go-redis/v9"
)

//go:embed lua/*.lua
var luaFS embed.FS

// The scripts, one per operation; the queue scripts share the prelude lua/queue.lua and the subscription
// scripts lua/sub.lua. They run with EVALSHA, falling back to EVAL (which loads them) the first time a node
// has not seen one, so nothing is loaded up front and a failover or SCRIPT FLUSH is harmless.
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

// script is a Lua script and its SHA-1.
type script struct {
	src, sha string
}

func newScript(src string) *script {
	sum := sha1.Sum([]byte(src)) //nolint:gosec // Redis names scripts by SHA-1
	return &script{src: src, sha: hex.EncodeToString(sum[:])}
}

func queueScript(name string) *script { return newScript(source("queue") + source(name)) }
func subScript(name string) *script   { return newScript(source("sub") + source(name)) }
func plainScript(name string) *script { return newScript(source(name)) }

// onceCmd is a command the client must never send twice. go-redis's cluster client re-sends a command after a
// timeout or a broken connection (whatever MaxRetries says), which would run a script twice when only its
// reply was lost: a post would append its batch twice. Such an error reaches the caller instead.
type onceCmd struct{ *redis.Cmd }

func (onceCmd) NoRetry() bool { return true }

// eval runs sc with EVALSHA on the node holding keys[0], and with EVAL when that node does not have it yet
// (NOSCRIPT: nothing ran, so running it again is safe). Errors that prove the script did not run are retried
// a few times, after a short pause: no connection could be made or taken from the pool, or the node refused
// to run it for now (a slot being migrated, a cluster or master down, a replica loading).
func eval(ctx context.Context, c redis.UniversalClient, sc *script, keys []string, args ...any) *redis.Cmd {
	var cmd *redis.Cmd
	for attempt := 1; ; attempt++ {
		cmd = evalCmd(ctx, "evalsha", sc.sha, keys, args)
		_ = c.Process(ctx, onceCmd{cmd})
		if err := cmd.Err(); err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
			cmd = evalCmd(ctx, "eval", sc.src, keys, args)
			_ = c.Process(ctx, onceCmd{cmd})
		}
		if attempt == evalAttempts || !didNotRun(cmd.Err()) {
			return cmd
		}
		select {
		case <-ctx.Done():
			return cmd
		case <-time.After(time.Duration(attempt) * 50 * time.Millisecond):
		}
	}
}

// evalAttempts bounds the attempts of a script that did not run (about a second of pauses in all).
const evalAttempts = 5

// didNotRun reports whether err proves that the script did not run.
func didNotRun(err error) bool {
	if err == nil {
		return false
	}
	var op *net.OpError
	if errors.Is(err, redis.ErrPoolTimeout) || (errors.As(err, &op) && op.Op == "dial") {
		return true
	}
	for _, prefix := range []string{"TRYAGAIN", "CLUSTERDOWN", "MASTERDOWN", "LOADING"} {
		if redis.HasErrorPrefix(err, prefix) {
			return true
		}
	}
	return false
}

func evalCmd(ctx context.Context, name, payload string, keys []string, args []any) *redis.Cmd {
	cmdArgs := make([]any, 0, 3+len(keys)+len(args))
	cmdArgs = append(cmdArgs, name, payload, len(keys))
	for _, k := range keys {
		cmdArgs = append(cmdArgs, k)
	}
	cmdArgs = append(cmdArgs, args...)
	cmd := redis.NewCmd(ctx, cmdArgs...)
	if len(keys) > 0 {
		cmd.SetFirstKeyPos(3)
	}
	return cmd
}
