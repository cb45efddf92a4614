package wsapi

import (
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/zedge-io/zedge/internal/jsonw"

	"github.com/zedge-io/zedge/broker"
)

// socketSub is a subscription that pushes to a socket.
type socketSub struct {
	c       *conn
	id      string
	project string
	queue   string
	binary  bool      // created by a binary frame: push msgpack
	expires time.Time // guarded by registry.mu
	updated bool      // an update event has set expires (guarded by registry.mu)
}

type queueKey struct{ project, queue string }

// registry holds the live socket subscriptions: by queue for pushing, by id for deletions made elsewhere
// (REST, another socket), by socket for its end. Delivery reads it under the read lock and never blocks.
type registry struct {
	mu      sync.RWMutex
	byQueue map[queueKey][]*socketSub
	byID    map[string]*socketSub
	byConn  map[*conn][]*socketSub
}

func newRegistry() *registry {
	return &registry{byQueue: map[queueKey][]*socketSub{}, byID: map[string]*socketSub{}, byConn: map[*conn][]*socketSub{}}
}

func (g *registry) add(c *conn, project string, sub broker.Subscription, binary bool) *socketSub {
	ss := &socketSub{c: c, id: sub.ID, project: project, queue: sub.Queue, binary: binary, expires: sub.Expires}
	g.mu.Lock()
	defer g.mu.Unlock()
	k := queueKey{project, sub.Queue}
	g.byQueue[k] = append(g.byQueue[k], ss)
	g.byID[sub.ID] = ss
	g.byConn[c] = append(g.byConn[c], ss)
	return ss
}

// register adds a socket subscription that the store has just created and then re-reads it. A delete, purge,
// re-point or ttl change made elsewhere between the store's create and add found nothing in the registry to
// change; the store has it. A change after add finds ss (SubscriptionChanged), one before it is seen here:
// add comes before the read, and an event comes after its change is stored.
func (s *Server) register(c *conn, project string, sub broker.Subscription, binary bool) {
	g := s.push
	ss := g.add(c, project, sub, binary)
	got, err := s.svc.GetSubscription(s.ctx, project, sub.Queue, sub.ID)
	if err != nil && !errors.Is(err, broker.ErrNotFound) {
		return // the store failed: keep what the create said
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.byID[ss.id] != ss {
		return // already removed by an event
	}
	switch {
	case err != nil || got.Subscriber != c.subscriber:
		g.removeLocked(ss)
	case !ss.updated:
		ss.expires = got.Expires
	}
}

// removeLocked forgets one subscription.
func (g *registry) removeLocked(ss *socketSub) {
	delete(g.byID, ss.id)
	k := queueKey{ss.project, ss.queue}
	g.byQueue[k] = without(g.byQueue[k], ss)
	if len(g.byQueue[k]) == 0 {
		delete(g.byQueue, k)
	}
	g.byConn[ss.c] = without(g.byConn[ss.c], ss)
	if len(g.byConn[ss.c]) == 0 {
		delete(g.byConn, ss.c)
	}
}

// without removes ss from list in place, keeping the order, and returns the shorter list. Every reader of the
// registry's lists holds the registry's lock while it uses them, so no copy is needed: copying made closing n
// sockets subscribed to one queue allocate O(n²) bytes (4 MB of garbage for 1000 sockets).
func without(list []*socketSub, ss *socketSub) []*socketSub {
	if i := slices.Index(list, ss); i >= 0 {
		return slices.Delete(list, i, i+1)
	}
	return list
}

// dropConn forgets a finished socket's subscriptions and deletes them from the store: subscriptions die with
// their socket.
func (g *registry) dropConn(c *conn, s *Server) {
	g.mu.Lock()
	subs := slices.Clone(g.byConn[c]) // removeLocked shortens the socket's list in place; subs is used after
	for _, ss := range subs {
		g.removeLocked(ss)
	}
	g.mu.Unlock()
	if len(subs) == 0 {
		return
	}
	ctx, cancel := s.serviceContext()
	defer cancel()
	for _, ss := range subs {
		if err := s.svc.DeleteSubscription(ctx, ss.project, ss.queue, ss.id); err != nil {
			s.log.Warn("could not delete a closed socket's subscription; it stays until its ttl", "socket", c.id,
				"subscription", ss.id, "queue", ss.queue, "err", err)
		}
	}
}

// MessagesPosted pushes each message to the socket subscriptions of its queue as a bare notification frame,
// {"body", "ttl", "queue_name", "Message_Type": "Notification"}, in post order. Frames are built once per
// encoding and shared by every socket; queueing never blocks (see conn.push).
func (s *Server) MessagesPosted(ev broker.PostEvent) {
	g := s.push
	g.mu.RLock()
	defer g.mu.RUnlock()
	subs := g.byQueue[queueKey{ev.Project, ev.Queue}]
	if len(subs) == 0 {
		return
	}
	now := s.now()
	var text, bin [][]byte
	for _, ss := range subs {
		if !now.Before(ss.expires) {
			continue // expired: the store no longer lists it either
		}
		if !s.mayPush(ss) {
			continue // a revoked or replaced token: a socket that only listens gets nothing more
		}
		if ss.binary && bin == nil {
			bin = make([][]byte, len(ev.Messages))
			for i := range ev.Messages {
				f, err := jsonToMsgpack(notificationJSON(&ev.Messages[i], ev.Queue))
				if err != nil {
					s.log.Error("cannot encode a notification as msgpack", "err", err)
					continue
				}
				bin[i] = f
			}
		} else if !ss.binary && text == nil {
			text = make([][]byte, len(ev.Messages))
			for i := range ev.Messages {
				text[i] = notificationJSON(&ev.Messages[i], ev.Queue)
			}
		}
		frames := text
		if ss.binary {
			frames = bin
		}
		for _, f := range frames {
			if f == nil {
				continue
			}
			if !ss.c.push(outFrame{binary: ss.binary, data: f}) {
				break
			}
			s.framesPushed.Add(1)
		}
	}
}

// notificationJSON is the pushed frame of one message.
func notificationJSON(m *broker.Message, queue string) []byte {
	b := make([]byte, 0, len(m.Body)+96)
	b = append(b, `{"body": `...)
	if len(m.Body) == 0 {
		b = append(b, "null"...)
	} else {
		b = append(b, m.Body...)
	}
	b = append(b, `, "ttl": `...)
	b = appendInt(b, seconds(m.TTL))
	b = append(b, `, "queue_name": `...)
	b = jsonw.AppendString(b, queue)
	return append(b, `, "Message_Type": "Notification"}`...)
}

// SubscriptionChanged keeps the registry in step with changes made elsewhere: a socket subscription deleted
// or purged over REST stops pushing; a new ttl moves its expiry; a subscriber changed away from the socket
// ends it.
func (s *Server) SubscriptionChanged(ev broker.SubscriptionEvent) {
	g := s.push
	switch ev.Kind {
	case broker.SubscriptionDeleted, broker.SubscriptionUpdated:
		g.mu.Lock()
		defer g.mu.Unlock()
		ss, ok := g.byID[ev.Subscription.ID]
		if !ok || ss.project != ev.Project {
			return
		}
		if ev.Kind == broker.SubscriptionUpdated && ev.Subscription.Subscriber == ss.c.subscriber {
			ss.expires, ss.updated = ev.Subscription.Expires, true
			return
		}
		g.removeLocked(ss)
	case broker.SubscriptionsPurged:
		g.mu.Lock()
		defer g.mu.Unlock()
		// A copy: removeLocked shortens the queue's list in place.
		for _, ss := range slices.Clone(g.byQueue[queueKey{ev.Project, ev.Subscription.Queue}]) {
			g.removeLocked(ss)
		}
	}
}

var (
	_ broker.Observer             = (*Server)(nil)
	_ broker.SubscriptionObserver = (*Server)(nil)
)
