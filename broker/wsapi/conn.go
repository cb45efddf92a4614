package wsapi

import (
	"context"
	"errors"
	"math"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/zedge-io/zedge/signing"
)

// closeGrace is how long a socket we close waits for the client's close frame before it is cut.
const closeGrace = 2 * time.Second

// outFrame is one frame waiting to be written, or a request frame waiting to be handled (its answer is
// written in its place).
type outFrame struct {
	binary  bool
	request bool
	data    []byte
}

// conn is one socket. Its one long-lived goroutine is the reader (serveConn): it reads frames and queues them;
// a writer goroutine, which exists only while frames wait in the queue, handles each request frame in turn and
// writes its answer, so answers keep request order, and writes pushed notifications in their place; and pings are sent from a timer: an idle socket costs one goroutine, its read buffer and this struct
// (no write buffer either: those come from a pool while a frame is written). Notifications are queued without
// blocking; a full queue closes the socket as a slow consumer.
type conn struct {
	s          *Server
	ws         *websocket.Conn
	id         string
	subscriber string // the subscriber URI of this socket's subscriptions
	remote     string

	// The send queue: frames waiting for the writer, at most Config.SendQueue of them. It is a slice grown on
	// demand and dropped when drained (a channel of SendQueue frames would hold SendQueue×32 bytes for life).
	qMu      sync.Mutex
	queue    []outFrame
	reqBytes int           // bytes of the request frames in queue: at most Config.MaxFrameSize, or one frame
	writing  bool          // a writer goroutine is running
	room     chan struct{} // closed by the writer when it takes a frame; a reader waiting on a full queue waits here
	ping     *time.Timer

	done     chan struct{} // closed when the socket is finished
	stopOnce sync.Once
	closing  atomic.Bool // a close frame was sent: answer nothing more

	authMu sync.Mutex
	claims *signing.Claims
	expiry *time.Timer

	// bg counts the goroutines that use ws besides the reader (the writer, close senders): serveConn waits
	// for them, because fasthttp recycles the connection once serveConn returns.
	bgMu     sync.Mutex
	bg       sync.WaitGroup
	finished bool
}

// serveConn runs a socket until it ends, then deletes its socket subscriptions.
func (s *Server) serveConn(ws *websocket.Conn, remote string) {
	id := newSocketID()
	c := &conn{s: s, ws: ws, id: id, subscriber: SubscriberScheme + ":" + id, remote: remote,
		done: make(chan struct{})}
	// Armed only once c.ping is set, so that sendPing (on the timer's goroutine) sees it.
	c.ping = time.AfterFunc(time.Duration(math.MaxInt64), c.sendPing)
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		c.ping.Stop()
		_ = ws.Close()
		return
	}
	// MaxConnections is checked before the upgrade; sockets upgraded at the same instant may pass it together.
	s.conns[c] = struct{}{}
	s.done.Add(1) // under mu, before Shutdown sets closing: never after its Wait began
	s.mu.Unlock()
	defer s.done.Done()
	s.log.Debug("socket open", "socket", id, "remote", remote)

	c.ping.Reset(s.cfg.PingInterval)
	c.readLoop()

	c.stop()
	c.setAuth(nil)
	c.bgMu.Lock()
	c.finished = true
	c.bgMu.Unlock()
	c.bg.Wait()
	s.push.dropConn(c, s)
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	// Closes a connection of the own listener, which fasthttp leaves to the socket; on a server that closes
	// hijacked connections itself this Close does nothing.
	_ = ws.Close()
	s.log.Debug("socket closed", "socket", id, "remote", remote)
}

func (c *conn) readDeadline() time.Time { return time.Now().Add(2 * c.s.cfg.PingInterval) }

func (c *conn) readLoop() {
	ws := c.ws
	ws.SetReadLimit(int64(c.s.cfg.MaxFrameSize))
	_ = ws.SetReadDeadline(c.readDeadline())
	ws.SetPongHandler(func(string) error {
		if !c.closing.Load() {
			_ = ws.SetReadDeadline(c.readDeadline())
		}
		return nil
	})
	ws.SetPingHandler(func(data string) error {
		if !c.closing.Load() {
			_ = ws.SetReadDeadline(c.readDeadline())
		}
		err := ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(c.s.cfg.WriteTimeout))
		if err != nil && !errors.Is(err, websocket.ErrCloseSent) {
			return err
		}
		return nil
	})
	for {
		mt, data, err := ws.ReadMessage()
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				c.s.log.Debug("frame too large", "socket", c.id, "max", c.s.cfg.MaxFrameSize)
			}
			return
		}
		if c.closing.Load() {
			continue // closing: read until the client's close frame or the grace deadline
		}
		_ = ws.SetReadDeadline(c.readDeadline())
		c.s.framesIn.Add(1)
		binary := mt == websocket.BinaryMessage
		// The writer handles the frame: the deep calls of an action grow the stack of a goroutine that ends
		// when the queue drains, not the stack of this one, which idles for the socket's life.
		if !c.enqueueAnswer(outFrame{binary: binary, request: true, data: data}) {
			return
		}
	}
}

// enqueueAnswer queues a request frame, to be handled and answered in queue order, waiting while the queue is
// full (the client is not reading; its own requests wait with it) or holds a frame's worth of requests
// (Config.MaxFrameSize bytes: unhandled requests are the socket's own memory, unlike pushed frames, which
// sockets share). It returns false when the socket has finished.
func (c *conn) enqueueAnswer(f outFrame) bool {
	for {
		c.qMu.Lock()
		if c.closing.Load() {
			c.qMu.Unlock()
			return true // closing: answer nothing more, read on until the client's close frame
		}
		if len(c.queue) < c.s.cfg.SendQueue && (c.reqBytes == 0 || c.reqBytes+len(f.data) <= c.s.cfg.MaxFrameSize) {
			c.reqBytes += len(f.data)
			c.appendLocked(f)
			c.qMu.Unlock()
			return true
		}
		if c.room == nil {
			c.room = make(chan struct{})
		}
		room := c.room
		c.qMu.Unlock()
		select {
		case <-room:
		case <-c.done:
			return false
		}
	}
}

// appendLocked queues f and starts a writer unless one is running. Call with qMu held.
func (c *conn) appendLocked(f outFrame) {
	c.queue = append(c.queue, f)
	if !c.writing {
		c.writing = true
		c.goBackground(c.writeQueued)
	}
}

// writeQueued is the writer: it writes queued frames until the queue is empty, then ends (releasing the
// queue's memory), so that an idle socket has no writer goroutine.
func (c *conn) writeQueued() {
	ws := c.ws
	for {
		c.qMu.Lock()
		if len(c.queue) == 0 {
			c.queue, c.writing = nil, false
			c.qMu.Unlock()
			return
		}
		f := c.queue[0]
		c.queue[0] = outFrame{}
		c.queue = c.queue[1:]
		if f.request {
			c.reqBytes -= len(f.data)
		}
		if c.room != nil {
			close(c.room)
			c.room = nil
		}
		c.qMu.Unlock()
		select {
		case <-c.done:
			return // writing stays set: nothing more is written to a finished socket
		default:
		}
		if f.request {
			if c.closing.Load() {
				continue // closing: answer nothing more
			}
			f.data = c.s.handleFrame(c, f.data, f.binary)
		}
		mt := websocket.TextMessage
		if f.binary {
			mt = websocket.BinaryMessage
		}
		_ = ws.SetWriteDeadline(time.Now().Add(c.s.cfg.WriteTimeout))
		if err := ws.WriteMessage(mt, f.data); err != nil {
			if !errors.Is(err, websocket.ErrCloseSent) {
				c.stop()
				return
			}
			// A close frame was sent: this writer ends with frames left in the queue. A reader waiting for
			// room would wait for ever: wake it (it sees closing and reads on until the client's close).
			c.qMu.Lock()
			if c.room != nil {
				close(c.room)
				c.room = nil
			}
			c.qMu.Unlock()
			return
		}
	}
}

// sendPing runs on the ping timer: it pings the client (WriteControl may run beside the writer) and re-arms.
func (c *conn) sendPing() {
	c.goInline(func() {
		err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.s.cfg.WriteTimeout))
		switch {
		case err == nil:
			select {
			case <-c.done:
			default:
				c.ping.Reset(c.s.cfg.PingInterval)
			}
		case !errors.Is(err, websocket.ErrCloseSent):
			c.stop()
		}
	})
}

// push queues a notification without blocking; a full queue makes the socket a slow consumer.
func (c *conn) push(f outFrame) bool {
	select {
	case <-c.done:
		return false
	default:
	}
	if c.closing.Load() {
		return false
	}
	c.qMu.Lock()
	if len(c.queue) < c.s.cfg.SendQueue {
		c.appendLocked(f)
		c.qMu.Unlock()
		return true
	}
	c.qMu.Unlock()
	if c.closing.CompareAndSwap(false, true) {
		c.s.slowClosed.Add(1)
		c.s.log.Warn("closing slow websocket consumer: its send queue is full", "socket", c.id,
			"remote", c.remote, "send_queue", c.s.cfg.SendQueue)
		c.goBackground(func() { c.sendClose(websocket.ClosePolicyViolation, "Slow consumer: the send queue is full.") })
	}
	return false
}

// closeWith sends a close frame with code and reason (once) and gives the client closeGrace to answer.
func (c *conn) closeWith(code int, reason string) {
	if c.closing.CompareAndSwap(false, true) {
		c.goBackground(func() { c.sendClose(code, reason) })
	}
}

// goBackground runs f on its own goroutine unless the socket has finished.
func (c *conn) goBackground(f func()) {
	c.bgMu.Lock()
	defer c.bgMu.Unlock()
	if c.finished {
		return
	}
	c.bg.Add(1)
	go func() {
		defer c.bg.Done()
		f()
	}()
}

// goInline runs f on the calling goroutine (a timer's), counted like a background one, unless the socket has
// finished.
func (c *conn) goInline(f func()) {
	c.bgMu.Lock()
	if c.finished {
		c.bgMu.Unlock()
		return
	}
	c.bg.Add(1)
	c.bgMu.Unlock()
	defer c.bg.Done()
	f()
}

func (c *conn) sendClose(code int, reason string) {
	msg := websocket.FormatCloseMessage(code, reason)
	if err := c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(c.s.cfg.WriteTimeout)); err != nil {
		c.stop()
		return
	}
	_ = c.ws.SetReadDeadline(time.Now().Add(closeGrace))
}

// stop ends the socket at once: the writer and a blocked reader return, the connection is closed.
func (c *conn) stop() {
	c.stopOnce.Do(func() {
		close(c.done)
		c.ping.Stop()
		// fasthttp's hijacked connection ignores Close (it closes the connection itself once serveConn
		// returns); close the real one so that a blocked read or write returns now.
		nc := c.ws.NetConn()
		if u, ok := nc.(interface{ UnsafeConn() net.Conn }); ok {
			nc = u.UnsafeConn()
		}
		_ = nc.Close()
	})
}

// setAuth installs the claims of a verified token (nil drops them) and arms the 4003 close at expiry.
func (c *conn) setAuth(claims *signing.Claims) {
	c.authMu.Lock()
	defer c.authMu.Unlock()
	if c.expiry != nil {
		c.expiry.Stop()
		c.expiry = nil
	}
	c.claims = claims
	if claims == nil || claims.ExpiresAt == nil {
		return
	}
	at := claims.ExpiresAt.Add(c.s.auth.Leeway)
	c.expiry = time.AfterFunc(at.Sub(c.s.now()), func() {
		c.authMu.Lock()
		current := c.claims == claims
		c.authMu.Unlock()
		if current {
			c.s.authExpired.Add(1)
			c.closeWith(4003, "Authentication expired.")
		}
	})
}

func (c *conn) currentClaims() *signing.Claims {
	c.authMu.Lock()
	defer c.authMu.Unlock()
	return c.claims
}

// serviceContext bounds the Service calls made for a socket after it ended (deleting its subscriptions).
func (s *Server) serviceContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(s.ctx, 10*time.Second)
}
