package redisstore

import (
	"errors"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/redis/go-redis/v9"
)

// replyErr is an error reply as go-redis reports it (a redis.Error).
type replyErr string

func (e replyErr) Error() string { return string(e) }
func (replyErr) RedisError()     {}

func TestDidNotRun(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"pool timeout", redis.ErrPoolTimeout, true},
		{"wrapped pool timeout", fmt.Errorf("x: %w", redis.ErrPoolTimeout), true},
		{"dial refused", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, true},
		{"read timeout", &net.OpError{Op: "read", Err: errors.New("i/o timeout")}, false},
		{"broken connection", io.EOF, false},
		{"script error", replyErr("ERR user_script:1: boom"), false},
		{"slot migrating", replyErr("TRYAGAIN Multiple keys request during rehashing of slot"), true},
		{"cluster down", replyErr("CLUSTERDOWN The cluster is down"), true},
		{"loading", replyErr("LOADING Redis is loading the dataset in memory"), true},
	}
	for _, c := range cases {
		if got := didNotRun(c.err); got != c.want {
			t.Errorf("%s: didNotRun = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestScriptsAreDistinct(t *testing.T) {
	all := []*script{scriptPost, scriptCreate, scriptList, scriptGet, scriptDelete, scriptDeleteMany, scriptPop,
		scriptStats, scriptClaim, scriptDeadLettered, scriptClaimGet, scriptRenew, scriptRelease, scriptCatalogued,
		scriptUpdate, scriptSubCreate, scriptSubUpdate, scriptSubList, scriptSubDelete}
	seen := map[string]bool{}
	for _, sc := range all {
		if len(sc.sha) != 40 || seen[sc.sha] {
			t.Fatalf("script sha %q is malformed or shared", sc.sha)
		}
		seen[sc.sha] = true
	}
}
