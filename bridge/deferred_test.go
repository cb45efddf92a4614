package bridge

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/zedge-io/zedge/signing"
	"github.com/zedge-io/zedge/store"
)

// commitRecorder records, per store call and queue, whether the call allowed a deferred commit
// (store.WithDeferredCommit).
type commitRecorder struct {
	store.Store
	mu    sync.Mutex
	calls map[string][]bool // "post telemetry-b1" → deferred, per call
}

func (r *commitRecorder) note(op, queue string, ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls[op+" "+queue] = append(r.calls[op+" "+queue], store.DeferredCommit(ctx))
}

func (r *commitRecorder) get(key string) []bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]bool(nil), r.calls[key]...)
}

func (r *commitRecorder) PostMessages(ctx context.Context, project, queue string, msgs []store.NewMessage, now time.Time) ([]string, error) {
	r.note("post", queue, ctx)
	return r.Store.PostMessages(ctx, project, queue, msgs, now)
}

func (r *commitRecorder) DeleteMessage(ctx context.Context, project, queue, id, claimID string, now time.Time) error {
	r.note("delete", queue, ctx)
	return r.Store.DeleteMessage(ctx, project, queue, id, claimID, now)
}

func recordCommits(t *testing.T, opts ...envOption) (*env, *commitRecorder) {
	rec := &commitRecorder{calls: map[string][]bool{}}
	e := newEnvOver(t, func(s store.Store) store.Store { rec.Store = s; return rec }, opts...)
	return e, rec
}

// Telemetry writes share commits by default (ingest_shared_commits) and commit at once without it; REST
// posts never defer.
func TestIngestSharedCommits(t *testing.T) {
	for _, shared := range []bool{true, false} {
		e, rec := recordCommits(t, func(c *Config) { c.IngestSharedCommits = shared })
		dev := e.v5("s-1", e.token("s-1", signing.RoleDevice))
		if code := dev.publish(t, "sensors/b1/r1/temp", []byte(`{"c":20}`)); code != 0 {
			t.Fatalf("publish: %#x", code)
		}
		if got := rec.get("post telemetry-b1"); len(got) != 1 || got[0] != shared {
			t.Errorf("ingest_shared_commits %v: telemetry post deferred %v", shared, got)
		}
		e.post("other", `{"rest":1}`)
		if got := rec.get("post other"); len(got) != 1 || got[0] {
			t.Errorf("a REST post deferred its commit: %v", got)
		}
	}
}

// Applying a device's acknowledgement (the command's delete, its status record) never asks for a commit of
// its own; the command's post, which the device waits for, does.
func TestCommandAcknowledgementDefersCommits(t *testing.T) {
	e, rec := recordCommits(t)
	ac := e.v5("ac-3", e.token("ac-3", signing.RoleDevice))
	ac.subscribe(t, "devices/ac-3/commands", 1)
	e.post("cmd-ac-3", `{"set":20}`)
	ac.next(t) // acknowledged by the client
	e.posts.waitPosted(t, "cmd-results", 1)
	if got := rec.get("post cmd-ac-3"); len(got) != 1 || got[0] {
		t.Errorf("command post deferred: %v", got)
	}
	deletes := rec.get("delete cmd-ac-3")
	if len(deletes) == 0 {
		t.Fatal("the acknowledged command was not deleted")
	}
	for _, d := range deletes {
		if !d {
			t.Errorf("a delete applying an acknowledgement did not defer its commit: %v", deletes)
		}
	}
	if got := rec.get("post cmd-results"); len(got) != 1 || !got[0] {
		t.Errorf("status record post deferred %v, want [true]", got)
	}
}
