package wsapi

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/zedge-io/zedge/broker"
	"github.com/zedge-io/zedge/signing"
)

// interleaver is an observer registered after the Server: told of a socket subscription's creation, it runs a
// change of that subscription at once, inside CreateSubscription, before subscription_create has returned to
// the socket's action. That is the interleaving of a REST client acting on a socket subscription the instant
// it is stored.
type interleaver struct {
	armed  atomic.Bool
	change func(ctx context.Context, ev broker.SubscriptionEvent) error
	err    atomic.Value
}

func (i *interleaver) MessagesPosted(broker.PostEvent) {}

func (i *interleaver) SubscriptionChanged(ev broker.SubscriptionEvent) {
	if ev.Kind != broker.SubscriptionCreated || !strings.HasPrefix(ev.Subscription.Subscriber, SubscriberScheme+":") ||
		!i.armed.CompareAndSwap(true, false) {
		return
	}
	if err := i.change(context.Background(), ev); err != nil {
		i.err.Store(err)
	}
}

// TestSocketSubscriptionChangedWhileCreated: a socket subscription deleted, purged or re-pointed elsewhere
// between its creation in the store and its registration for pushing stops pushing, as one changed later
// does (before the fix the change found nothing to remove and the socket was pushed every post until it
// closed).
func TestSocketSubscriptionChangedWhileCreated(t *testing.T) {
	var svc *broker.Service
	cases := []struct {
		name    string
		change  func(ctx context.Context, ev broker.SubscriptionEvent) error
		advance time.Duration // the clock moves on before the post
	}{
		{"deleted", func(ctx context.Context, ev broker.SubscriptionEvent) error {
			return svc.DeleteSubscription(ctx, ev.Project, ev.Subscription.Queue, ev.Subscription.ID)
		}, 0},
		{"purged", func(ctx context.Context, ev broker.SubscriptionEvent) error {
			return svc.PurgeQueue(ctx, ev.Project, ev.Subscription.Queue, []byte(`{"resource_types": ["subscriptions"]}`))
		}, 0},
		{"re-pointed", func(ctx context.Context, ev broker.SubscriptionEvent) error {
			return svc.UpdateSubscription(ctx, ev.Project, ev.Subscription.Queue, ev.Subscription.ID,
				[]byte(`{"subscriber": "http://127.0.0.1:9/hook"}`))
		}, 0},
		{"given a shorter ttl", func(ctx context.Context, ev broker.SubscriptionEvent) error {
			return svc.UpdateSubscription(ctx, ev.Project, ev.Subscription.Queue, ev.Subscription.ID, []byte(`{"ttl": 60}`))
		}, 2 * time.Minute},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			svc = e.svc
			il := &interleaver{change: tc.change}
			e.svc.AddObserver(il)
			c := e.dial()
			il.armed.Store(true)
			c.mustDo(201, "subscription_create", map[string]any{"queue_name": "raceq", "ttl": 3600})
			if il.armed.Load() {
				t.Fatal("the interleaved change did not run")
			}
			if err, _ := il.err.Load().(error); err != nil {
				t.Fatalf("interleaved change: %v", err)
			}
			e.clock.Advance(tc.advance)
			e.post(t, "raceq", `1`)
			// A push would be queued before this answer: the post returned before the request was sent.
			if m := c.nextAfter(`{"action": "queue_get", "headers": {"Client-ID": "` + testClient +
				`", "X-Project-ID": "` + testProject + `"}, "body": {"queue_name": "raceq"}}`); m["Message_Type"] != nil {
				t.Fatalf("a subscription %s while it was created still pushes: %v", tc.name, m)
			}
		})
	}
}

// nextAfter sends a request frame and returns the next frame: its answer, or a push queued before it.
func (c *client) nextAfter(frame string) map[string]any {
	c.t.Helper()
	c.sendRaw(websocket.TextMessage, []byte(frame))
	return c.readJSON()
}

// lockedRevoked is a revocation list safe to change while sockets consult it.
type lockedRevoked struct {
	mu   sync.Mutex
	jtis []string
}

func (r *lockedRevoked) SignatureRevoked(string) bool { return false }

func (r *lockedRevoked) TokenRevoked(jti, _ string, _ time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Contains(r.jtis, jti)
}

func (r *lockedRevoked) revoke(jti string) {
	r.mu.Lock()
	r.jtis = append(r.jtis, jti)
	r.mu.Unlock()
}

// TestRevokedTokenStopsPushes: a socket subscribed with a token that is then revoked gets no more pushes,
// whether it sends a request or only listens, and its socket subscriptions end once the revocation is seen
// (before the fix they pushed until the socket closed, and seeing the revocation also cancelled the 4003
// close at the token's expiry, so they pushed past it).
func TestRevokedTokenStopsPushes(t *testing.T) {
	f := newAuthFixture(t)
	rev := &lockedRevoked{}
	auth := f.auth
	auth.Revoked = rev
	e := newEnv(t, envOption{opts: []Option{WithAuth(auth)}})
	claims := mustClaims(t, f, e.clock.Now())
	tok, err := signing.IssueToken(f.signer, claims)
	if err != nil {
		t.Fatal(err)
	}
	c := e.dial()
	c.mustDo(200, "authenticate", nil, "X-Auth-Token", tok)
	b := c.mustDo(201, "subscription_create", map[string]any{"queue_name": "revq", "ttl": 3600})
	sid := b.(map[string]any)["subscription_id"].(string)
	e.post(t, "revq", `1`)
	if _, data := c.read(); !strings.Contains(string(data), `"Message_Type": "Notification"`) {
		t.Fatalf("push before the revocation: %s", data)
	}

	rev.revoke(claims.ID)
	// A listening socket: the post comes before its next request, whose answer must be the next frame.
	e.post(t, "revq", `2`)
	resp := c.nextAfter(`{"action": "queue_list", "headers": {"Client-ID": "` + testClient + `", "X-Project-ID": "` +
		testProject + `"}}`)
	if resp["Message_Type"] != nil {
		t.Fatalf("a socket with a revoked token was pushed: %v", resp)
	}
	if st, body := status(t, resp), resp["body"]; st != 403 || errorText(t, body) != "Not authentified." {
		t.Fatalf("request with a revoked token: %d %v", st, body)
	}
	// The request saw the revocation: the socket's subscriptions are gone, from the store too.
	if _, err := e.svc.GetSubscription(t.Context(), testProject, "revq", sid); !errors.Is(err, broker.ErrNotFound) {
		t.Fatalf("the socket subscription of a revoked token is still stored: %v", err)
	}
	// With a new token, the socket acts again, without the old subscription's pushes.
	c.mustDo(200, "authenticate", nil, "X-Auth-Token", f.token(t, e.clock.Now(), testProject, time.Hour))
	e.post(t, "revq", `3`)
	if resp := c.nextAfter(`{"action": "queue_list", "headers": {"Client-ID": "` + testClient + `", "X-Project-ID": "` +
		testProject + `"}}`); resp["Message_Type"] != nil {
		t.Fatalf("the subscription made with a revoked token pushed: %v", resp)
	}
}

// blockingObserver holds the first post's observer call (on the socket's writer goroutine, for a post made
// over the socket) until release is closed.
type blockingObserver struct {
	first   atomic.Bool
	entered chan struct{}
	release chan struct{}
}

func (b *blockingObserver) MessagesPosted(broker.PostEvent) {
	if b.first.CompareAndSwap(false, true) {
		close(b.entered)
		<-b.release
	}
}

// onlyConn is the server's one socket, once it is registered (serveConn runs after the dial returns).
func (s *Server) onlyConn(t *testing.T) *conn {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		s.mu.Lock()
		for c := range s.conns {
			n := len(s.conns)
			s.mu.Unlock()
			if n != 1 {
				t.Fatalf("%d sockets open, want 1", n)
			}
			return c
		}
		s.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatal("gave up waiting for the socket")
		}
		time.Sleep(time.Millisecond)
	}
}

// queuedRequests is what the socket holds of the requests it has read and not yet handled, and whether its
// reader waits for room in the queue.
func (c *conn) queuedRequests() (bytes int, readerWaits bool) {
	c.qMu.Lock()
	defer c.qMu.Unlock()
	for _, f := range c.queue {
		if f.request {
			bytes += len(f.data)
		}
	}
	return bytes, c.room != nil
}

// TestUnhandledRequestsBoundedInBytes: while a request is being handled, a client that keeps sending large
// frames has at most about one frame's worth of them (MaxFrameSize) queued; the reader stops reading until
// there is room (before the fix it queued SendQueue frames of up to MaxFrameSize each: 256 MiB per socket
// with the defaults, from a client that need not even authenticate).
func TestUnhandledRequestsBoundedInBytes(t *testing.T) {
	const maxFrame = 64 << 10
	e := newEnv(t, envOption{cfg: func(c *Config) { c.MaxFrameSize = maxFrame }})
	blocker := &blockingObserver{entered: make(chan struct{}), release: make(chan struct{})}
	e.svc.AddObserver(blocker)
	c := e.dial()
	srvConn := e.srv.onlyConn(t)
	c.sendRaw(websocket.TextMessage, []byte(`{"action": "message_post", "headers": {"Client-ID": "`+testClient+
		`", "X-Project-ID": "`+testProject+`"}, "body": {"queue_name": "bq", "messages": [{"body": 1}]}}`))
	<-blocker.entered // the socket's writer is inside the post now, and answers nothing until released

	const frames = 20
	pad := strings.Repeat("x", maxFrame-200)
	frame := []byte(`{"action": "queue_list", "headers": {"Client-ID": "` + testClient + `", "X-Project-ID": "` +
		testProject + `"}, "body": {"pad": "` + pad + `"}}`)
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		for range frames {
			_ = c.ws.SetWriteDeadline(time.Now().Add(30 * time.Second))
			if c.ws.WriteMessage(websocket.TextMessage, frame) != nil {
				return
			}
		}
	}()
	// Either the reader has read every frame, or it waits for room: then look at what it holds.
	deadline := time.Now().Add(20 * time.Second)
	var held int
	for {
		var waits bool
		held, waits = srvConn.queuedRequests()
		if waits || e.srv.Stats().FramesIn == frames+1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("gave up waiting for the reader")
		}
		time.Sleep(2 * time.Millisecond)
	}
	close(blocker.release)
	if held > maxFrame {
		t.Fatalf("the socket holds %d bytes of unhandled requests, more than max_frame_size %d", held, maxFrame)
	}
	// Everything is answered once the post returns: the bound only paces the reader.
	if st := status(t, c.readJSON()); st != 201 {
		t.Fatalf("post: %d", st)
	}
	for i := range frames {
		if st := status(t, c.readJSON()); st != 200 {
			t.Fatalf("request %d: %d", i, st)
		}
	}
	<-sent
}

// TestClosedWhileReaderWaitsForRoom: a socket closed (here as a slow consumer) while its writer handles a
// request and its reader waits for room in the full queue still ends once the client has gone (before the
// fix the writer, failing to write the answer after the close frame, ended without waking the reader, which
// then waited for room forever: the socket, its goroutine and its connection slot were never released, and
// Shutdown ran into its deadline).
func TestClosedWhileReaderWaitsForRoom(t *testing.T) {
	e := newEnv(t, envOption{cfg: func(c *Config) { c.SendQueue = 2 }})
	blocker := &blockingObserver{entered: make(chan struct{}), release: make(chan struct{})}
	e.svc.AddObserver(blocker)
	c := e.dial()
	c.mustDo(201, "subscription_create", map[string]any{"queue_name": "fullq"})
	srvConn := e.srv.onlyConn(t)
	req := func(action string) []byte {
		return []byte(`{"action": "` + action + `", "headers": {"Client-ID": "` + testClient + `", "X-Project-ID": "` +
			testProject + `"}, "body": {"queue_name": "other", "messages": [{"body": 1}]}}`)
	}
	c.sendRaw(websocket.TextMessage, req("message_post"))
	<-blocker.entered // the writer is inside the post
	for range 3 {     // two fill the queue, the reader holds the third
		c.sendRaw(websocket.TextMessage, req("queue_list"))
	}
	waitUntil(t, "the reader to wait for room", func() bool { _, waits := srvConn.queuedRequests(); return waits })
	// A post to the socket's queue finds the queue full: the socket is closed as a slow consumer.
	posted := make(chan struct{})
	go func() {
		defer close(posted)
		e.post(t, "fullq", `1`)
	}()
	_ = c.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	var ce *websocket.CloseError
	if _, _, err := c.ws.ReadMessage(); !errors.As(err, &ce) || ce.Code != websocket.ClosePolicyViolation {
		t.Fatalf("want the slow consumer close, got %v", err)
	}
	close(blocker.release) // the writer now fails to write the post's answer
	<-posted
	_ = c.ws.Close()
	waitUntil(t, "the socket to end", func() bool { return e.srv.Stats().Open == 0 })
}

// waitUntil polls cond; the bound only keeps a broken build from hanging.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestReauthenticatedSocketPushesOnlyWhatItsTokenGrants: a socket that authenticates again with a token for
// another project is no longer pushed the messages of the first project's queues (before the fix the new
// token also cancelled the 4003 close of the old one, so the socket kept receiving the first project's posts
// past the old token's expiry, and the old token's revocation no longer reached them).
func TestReauthenticatedSocketPushesOnlyWhatItsTokenGrants(t *testing.T) {
	f := newAuthFixture(t)
	e := newEnv(t, envOption{opts: []Option{WithAuth(f.auth)}})
	now := e.clock.Now()
	c := e.dial()
	c.mustDo(200, "authenticate", nil, "X-Auth-Token", f.token(t, now, testProject, time.Hour))
	c.mustDo(201, "subscription_create", map[string]any{"queue_name": "reauthq", "ttl": 3600})
	c.mustDo(200, "authenticate", nil, "X-Auth-Token", f.token(t, now, "other-project", time.Hour),
		"X-Project-ID", "other-project")
	e.post(t, "reauthq", `1`)
	resp := c.nextAfter(`{"action": "queue_list", "headers": {"Client-ID": "` + testClient +
		`", "X-Project-ID": "other-project"}}`)
	if resp["Message_Type"] != nil {
		t.Fatalf("a socket authenticated for another project was pushed: %v", resp)
	}
	if st := status(t, resp); st != 200 {
		t.Fatalf("queue_list in the new project: %d %v", st, resp)
	}
}
