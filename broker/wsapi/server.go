package wsapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/valyala/fasthttp"

	"github.com/zedge-io/zedge/broker"
)

// SubscriberScheme is the scheme of the subscriber URI stored for a socket subscription
// ("websocket:<socket id>"). The Service must accept it (broker.WithTransportSubscriberScheme); only this
// package delivers to such subscriptions, and only to the socket that created them.
const SubscriberScheme = "websocket"

// Option configures a Server.
type Option func(*Server)

// WithClock replaces time.Now for ages, expiries and token checks. Give it the clock the Service uses.
func WithClock(c broker.Clock) Option { return func(s *Server) { s.now = c } }

// WithAuth sets the authentication (default: none, with no URL-signing key).
func WithAuth(a Auth) Option { return func(s *Server) { s.auth = a } }

// Server is Zaqar's websocket API over a broker.Service: a standalone listener (Serve) and an upgrade handler
// (Handler) that the REST server can mount. It is the broker.Observer that pushes notifications to socket
// subscriptions.
type Server struct {
	svc  *broker.Service
	cfg  Config
	log  *slog.Logger
	now  broker.Clock
	auth Auth

	ctx    context.Context // Service calls; cancelled when Shutdown gives up waiting
	cancel context.CancelFunc

	upgrader websocket.FastHTTPUpgrader
	srv      *fasthttp.Server
	push     *registry

	mu      sync.Mutex
	conns   map[*conn]struct{}
	closing bool
	addr    net.Addr
	// ln closes a race fasthttp leaves open: its Shutdown returns at once when Serve has not yet registered the
	// listener, and that Serve then never returns.
	ln   net.Listener
	done sync.WaitGroup // one per open socket

	slowClosed   atomic.Uint64
	authExpired  atomic.Uint64
	framesIn     atomic.Uint64
	framesPushed atomic.Uint64
	detached     atomic.Uint64 // sockets served apart from fasthttp's hijack goroutine (see upgrade)
}

// New builds the server (not yet listening) and registers it as an observer of svc.
func New(svc *broker.Service, cfg Config, log *slog.Logger, opts ...Option) (*Server, error) {
	if svc == nil {
		return nil, errors.New("wsapi: nil service")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if !svc.AcceptsSubscriberScheme(SubscriberScheme) {
		return nil, fmt.Errorf("wsapi: the broker.Service must accept socket subscriptions: build it with "+
			"broker.WithTransportSubscriberScheme(%q)", SubscriberScheme)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{svc: svc, cfg: cfg, log: log.With("component", "wsapi"), now: time.Now, auth: Auth{Mode: AuthNone},
		conns: map[*conn]struct{}{}}
	for _, o := range opts {
		o(s)
	}
	if err := s.auth.validate(); err != nil {
		return nil, err
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.push = newRegistry()
	s.upgrader = websocket.FastHTTPUpgrader{
		HandshakeTimeout: cfg.HandshakeTimeout,
		ReadBufferSize:   cfg.ReadBufferSize,
		WriteBufferSize:  cfg.WriteBufferSize,
		// A socket takes a write buffer from the pool for each frame it writes and gives it back after, so an
		// idle socket holds none.
		WriteBufferPool: &sync.Pool{},
		CheckOrigin:     s.checkOrigin,
		Error: func(ctx *fasthttp.RequestCtx, status int, reason error) {
			writeHTTPError(ctx, status, reason.Error())
		},
	}
	s.srv = &fasthttp.Server{
		Handler:              s.serveHTTP,
		Name:                 "zedge",
		NoDefaultContentType: true,
		ReadTimeout:          cfg.HandshakeTimeout,
		WriteTimeout:         cfg.HandshakeTimeout,
		IdleTimeout:          cfg.HandshakeTimeout,
		ReadBufferSize:       8192,
		MaxRequestBodySize:   4096,
		// Hands a socket the bare connection when the upgrade request left nothing unread in fasthttp's read
		// buffer (the usual case: a client waits for the 101), instead of keeping that 8 KiB buffer under
		// the socket's own for its whole life.
		ReduceMemoryUsage: true,
		// Sockets own their connections (see upgrade): fasthttp neither closes them when the hijack callback
		// returns nor recycles them; serveConn closes each when its socket ends.
		KeepHijackedConns:     true,
		CloseOnShutdown:       true,
		NoDefaultServerHeader: false,
		// fasthttp's parse errors otherwise quote the request buffer, an upgrade request's token included.
		SecureErrorLogMessage: true,
		Logger:                fasthttpLogger{s.log},
	}
	svc.AddObserver(s)
	return s, nil
}

// Handler is the upgrade handler, for mounting on another fasthttp server (zedge mounts it at /v2/ws on the
// REST port). Sockets upgraded through it belong to this Server: Shutdown closes them too.
func (s *Server) Handler() fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) { s.upgrade(ctx, false) }
}

// serveHTTP is the own listener: upgrades at Config.Path, 404 elsewhere.
func (s *Server) serveHTTP(ctx *fasthttp.RequestCtx) {
	if string(ctx.Path()) != s.cfg.Path {
		writeHTTPError(ctx, fasthttp.StatusNotFound, "Not found: the websocket endpoint is "+s.cfg.Path)
		return
	}
	s.upgrade(ctx, true)
}

// upgrade turns a request into a socket. Everything kept from the request is copied first: the upgrade
// callback runs after this handler has returned and fasthttp has recycled the request.
//
// own is set on the own listener, whose fasthttp server keeps hijacked connections (KeepHijackedConns). There
// a socket holding the bare connection runs on a goroutine of its own and fasthttp's hijack goroutine returns
// at once, giving back the request context (about 2.5 KiB with the parsed request) that it would otherwise
// hold for the socket's life. A socket that reads through fasthttp's buffered reader (the client sent bytes
// right behind the upgrade request) must be served inside the callback: that reader reads through the request
// context. So must every socket of a server that closes hijacked connections when the callback returns (the
// REST server, which mounts Handler).
func (s *Server) upgrade(ctx *fasthttp.RequestCtx, own bool) {
	if !websocket.FastHTTPIsWebSocketUpgrade(ctx) {
		ctx.Response.Header.Set("Upgrade", "websocket")
		writeHTTPError(ctx, fasthttp.StatusUpgradeRequired,
			"This endpoint speaks Zaqar's websocket protocol: open a websocket here.")
		return
	}
	s.mu.Lock()
	refuse := s.closing || len(s.conns) >= s.cfg.MaxConnections
	s.mu.Unlock()
	if refuse {
		writeHTTPError(ctx, fasthttp.StatusServiceUnavailable, "Too many websocket connections, or shutting down.")
		return
	}
	remote := ctx.RemoteAddr().String()
	err := s.upgrader.Upgrade(ctx, func(ws *websocket.Conn) {
		if own && hijackedBare(ws.NetConn()) {
			s.detached.Add(1)
			go s.serveConn(ws, remote)
			return
		}
		s.serveConn(ws, remote)
	})
	if err != nil {
		s.log.Debug("websocket upgrade refused", "remote", remote, "err", err)
	}
}

func (s *Server) checkOrigin(ctx *fasthttp.RequestCtx) bool {
	origin := string(ctx.Request.Header.Peek("Origin"))
	if len(s.cfg.AllowedOrigins) == 0 || origin == "" {
		return true
	}
	for _, o := range s.cfg.AllowedOrigins {
		if strings.EqualFold(strings.TrimSuffix(o, "/"), origin) {
			return true
		}
	}
	return false
}

// hijackedBare reports whether a connection hijacked from fasthttp reads straight from the network connection
// rather than through fasthttp's buffered reader. fasthttp (v1.74) does not say; its hijackConn reads from its
// field r, which is the embedded Conn itself when the server dropped its reader (ReduceMemoryUsage, nothing
// buffered). Anything else — another type, other fields, a buffered reader — answers false, which is always
// safe: the socket is then served inside the hijack callback.
func hijackedBare(nc net.Conn) bool {
	v := reflect.ValueOf(nc)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return false
	}
	r, embedded := v.Elem().FieldByName("r"), v.Elem().FieldByName("Conn")
	if !r.IsValid() || !embedded.IsValid() || r.Kind() != reflect.Interface || embedded.Kind() != reflect.Interface ||
		r.IsNil() || embedded.IsNil() {
		return false
	}
	r, embedded = r.Elem(), embedded.Elem()
	return r.Kind() == reflect.Pointer && r.Type() == embedded.Type() && r.Pointer() == embedded.Pointer()
}

// writeHTTPError answers a request that did not become a socket: {"error": text}.
func writeHTTPError(ctx *fasthttp.RequestCtx, status int, text string) {
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	ctx.SetBody(protocolError(status, text).body)
}

// Serve accepts connections on ln until Shutdown; it returns nil after a Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return ln.Close()
	}
	s.addr, s.ln = ln.Addr(), ln
	s.mu.Unlock()
	s.log.Info("serving Zaqar websocket API", "addr", ln.Addr().String(), "path", s.cfg.Path, "auth", s.auth.Mode)
	if err := s.srv.Serve(ln); err != nil {
		return fmt.Errorf("wsapi: serve: %w", err)
	}
	return nil
}

// Addr is the address Serve listens on (nil before Serve).
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Shutdown stops the own listener, refuses new upgrades, closes every socket with 1001 "Server shutting
// down." and waits until each has finished (its socket subscriptions deleted). When ctx ends first, the
// remaining sockets are cut and ctx's error is returned.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	ln := s.ln
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	err := s.srv.ShutdownWithContext(ctx)
	if ln != nil {
		_ = ln.Close() // ends a Serve that fasthttp had not registered yet; a second close is harmless
	}
	for _, c := range conns {
		c.closeWith(websocket.CloseGoingAway, "Server shutting down.")
	}
	finished := make(chan struct{})
	go func() {
		s.done.Wait()
		close(finished)
	}()
	select {
	case <-finished:
	case <-ctx.Done():
		s.mu.Lock()
		for c := range s.conns {
			c.stop()
		}
		s.mu.Unlock()
		s.cancel()
		<-finished
		return errors.Join(err, ctx.Err())
	}
	s.cancel()
	return err
}

// Stats are counters for tests and a metrics exporter.
type Stats struct {
	Open         int    // sockets open now
	SlowClosed   uint64 // sockets closed because their send queue was full
	AuthExpired  uint64 // sockets closed with 4003 when their token expired
	FramesIn     uint64 // request frames read
	FramesPushed uint64 // notification frames queued to sockets
}

// Stats returns the current counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	open := len(s.conns)
	s.mu.Unlock()
	return Stats{Open: open, SlowClosed: s.slowClosed.Load(), AuthExpired: s.authExpired.Load(),
		FramesIn: s.framesIn.Load(), FramesPushed: s.framesPushed.Load()}
}

// newSocketID returns a random UUID4 text.
func newSocketID() string {
	var u [16]byte
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	h := hex.EncodeToString(u[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// fasthttpLogger sends fasthttp's messages (about single connections) to the debug log.
type fasthttpLogger struct{ log *slog.Logger }

func (l fasthttpLogger) Printf(format string, args ...any) {
	l.log.Debug("fasthttp: " + fmt.Sprintf(format, args...))
}
