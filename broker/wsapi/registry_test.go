package wsapi

import (
	"testing"
	"time"

	"github.com/zedge-io/zedge/broker"
)

// The registry's lists shrink in place: a socket's end, a deletion elsewhere and a purge each leave the other
// sockets' subscriptions in place and in order, and forget every subscription they name.
func TestRegistryRemovals(t *testing.T) {
	e := newEnv(t)
	g := e.srv.push
	a, b, c := &conn{id: "a"}, &conn{id: "b"}, &conn{id: "c"}
	later := time.Now().Add(time.Hour)
	add := func(cn *conn, id, queue string) {
		g.add(cn, testProject, broker.Subscription{ID: id, Queue: queue, Expires: later}, false)
	}
	add(a, "a1", "q1")
	add(b, "b1", "q1")
	add(a, "a2", "q2")
	add(c, "c1", "q1")
	add(a, "a3", "q3")
	add(c, "c2", "q2")
	ids := func(list []*socketSub) []string {
		var out []string
		for _, ss := range list {
			out = append(out, ss.id)
		}
		return out
	}
	check := func(what string, got []*socketSub, want ...string) {
		t.Helper()
		if g, w := jsonOf(ids(got)), jsonOf(want); g != w {
			t.Errorf("%s: %s, want %s", what, g, w)
		}
	}

	g.dropConn(a, e.srv) // the subscriptions are not in the store: the deletions only log
	check("q1 after a ended", g.byQueue[queueKey{testProject, "q1"}], "b1", "c1")
	check("q2 after a ended", g.byQueue[queueKey{testProject, "q2"}], "c2")
	if _, ok := g.byQueue[queueKey{testProject, "q3"}]; ok {
		t.Error("q3 kept an empty list")
	}
	if _, ok := g.byConn[a]; ok || len(g.byID) != 3 {
		t.Errorf("a's subscriptions not all forgotten: byConn %v, %d ids", ok, len(g.byID))
	}

	e.srv.SubscriptionChanged(broker.SubscriptionEvent{Kind: broker.SubscriptionDeleted, Project: testProject,
		Subscription: broker.Subscription{ID: "b1", Queue: "q1"}})
	check("q1 after b1 deleted", g.byQueue[queueKey{testProject, "q1"}], "c1")
	check("c's list", g.byConn[c], "c1", "c2")

	add(b, "b2", "q1")
	e.srv.SubscriptionChanged(broker.SubscriptionEvent{Kind: broker.SubscriptionsPurged, Project: testProject,
		Subscription: broker.Subscription{Queue: "q1"}})
	if _, ok := g.byQueue[queueKey{testProject, "q1"}]; ok {
		t.Error("q1 purged but still listed")
	}
	check("c's list after the purge", g.byConn[c], "c2")
	if _, ok := g.byConn[b]; ok || len(g.byID) != 1 {
		t.Errorf("after the purge: b listed %v, %d ids (want 1)", ok, len(g.byID))
	}
}
