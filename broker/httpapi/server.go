package httpapi

import (
	"context"
	"errors"
	"fmt"
	"github.com/zedge-io/zedge/internal/jsonw"
	"log/slog"
	"net"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/zedge-io/zedge/broker"
	"github.com/zedge-io/zedge/signing"
)

// Authenticator is the hook point for request authentication (signed URLs, tokens). It runs first on every
// routed request, before any other check and before any store work. It returns nil to let the request go on,
// or an error that is written as the response: ErrRouteNotFound for a refused signed URL (Zaqar answers
// every signature failure with a bare 404), an *Error, or a broker error kind.
type Authenticator interface {
	Authenticate(ctx *fasthttp.RequestCtx) error
}

// AuthenticatorFunc adapts a function to Authenticator.
type AuthenticatorFunc func(ctx *fasthttp.RequestCtx) error

// Authenticate calls f.
func (f AuthenticatorFunc) Authenticate(ctx *fasthttp.RequestCtx) error { return f(ctx) }

// Option configures a Server.
type Option func(*Server)

// WithClock replaces time.Now for the ages and claim states the responses report. Give it the clock the
// Service uses.
func WithClock(c broker.Clock) Option { return func(s *Server) { s.now = c } }

// WithAuthenticator installs an extra authentication hook that runs before the Guard (default: none).
func WithAuthenticator(a Authenticator) Option { return func(s *Server) { s.auth = a } }

// WithGuard installs the built-in authentication: signed URLs, bearer tokens, revocation. Without it the
// server runs in noauth mode with no URL-signing key, so share answers "The `key` can't be None" and every
// request carrying signed-URL credentials is refused.
func WithGuard(g *Guard) Option { return func(s *Server) { s.guard = g } }

// WebsocketPath is where WithWebsocket mounts the websocket upgrade on the REST port.
const WebsocketPath = "/v2/ws"

// WithWebsocket mounts a websocket upgrade handler (wsapi's) at GET /v2/ws. The route is outside the pipeline:
// the websocket protocol carries its headers and credentials in every frame and checks them itself.
func WithWebsocket(h fasthttp.RequestHandler) Option { return func(s *Server) { s.ws = h } }

// Server is the Zaqar v2 REST API over a broker.Service.
type Server struct {
	svc    *broker.Service
	cfg    Config
	limits broker.Limits
	log    *slog.Logger
	now    broker.Clock
	auth   Authenticator
	guard  *Guard
	ws     fasthttp.RequestHandler
	obs    RequestObserver
	// metrics serves MetricsPath, outside the pipeline like the probes.
	metrics fasthttp.RequestHandler
	rules   bodyRules

	handler fasthttp.RequestHandler
	srv     *fasthttp.Server

	versionsDoc []byte
	homeDoc     []byte

	mu   sync.Mutex
	addr net.Addr
	// ln and shutdown close a race fasthttp leaves open: its Shutdown returns at once when Serve has not yet
	// registered the listener, and that Serve then never returns.
	ln       net.Listener
	shutdown bool
}

// New builds the server: routes, documents and the fasthttp server (not yet listening).
func New(svc *broker.Service, cfg Config, log *slog.Logger, opts ...Option) (*Server, error) {
	if svc == nil {
		return nil, errors.New("httpapi: nil service")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		svc:    svc,
		cfg:    cfg,
		limits: svc.Limits(),
		log:    log.With("component", "httpapi"),
		now:    time.Now,
	}
	for _, o := range opts {
		o(s)
	}
	if s.guard == nil {
		g, err := NewGuard(DefaultAuthConfig(), signing.DefaultConfig(), nil, log)
		if err != nil {
			return nil, err
		}
		s.guard = g
	}
	s.rules = newBodyRules(s.limits, cfg.MaxBodySize)
	s.versionsDoc = versionsDocument()
	s.homeDoc = homeDocument(cfg.AdminMode)
	s.handler = s.routes().Handler
	// Off, CORS is not even a branch on the request path.
	if c := newCORS(cfg.CORS); c != nil {
		s.handler = c.handler(s.handler)
		if c.anyOrigin && c.credentials {
			s.log.Warn(`http.cors allows credentials from any origin ("*"): every web site may send ` +
				"cookies or HTTP authentication to this API")
		}
	}

	// With streaming, MaxRequestBodySize only decides how much is prefetched before the handler runs (at most
	// 8 KiB); the handlers read the rest themselves, bounded by each route's limit.
	maxBody := max(s.limits.MaxMessagesPostSize, s.limits.MaxQueueMetadata, cfg.MaxBodySize)
	s.srv = &fasthttp.Server{
		Handler:                      s.handler,
		Name:                         cfg.Name,
		NoDefaultServerHeader:        cfg.Name == "",
		NoDefaultContentType:         true,
		Concurrency:                  cfg.Concurrency,
		MaxConnsPerIP:                cfg.MaxConnsPerIP,
		ReadBufferSize:               cfg.ReadBufferSize,
		ReadTimeout:                  cfg.ReadTimeout,
		WriteTimeout:                 cfg.WriteTimeout,
		IdleTimeout:                  cfg.IdleTimeout,
		MaxRequestBodySize:           maxBody,
		StreamRequestBody:            true,
		DisablePreParseMultipartForm: true, // multipart bodies would otherwise be read before the handler
		CloseOnShutdown:              true,
		// fasthttp's parse errors otherwise quote the request buffer, tokens and signatures included.
		SecureErrorLogMessage: true,
		Logger:                fasthttpLogger{s.log},
	}
	return s, nil
}

// Guard is the server's authentication (the one given with WithGuard, or the default noauth one).
func (s *Server) Guard() *Guard { return s.guard }

// Handler returns the request handler, for serving under another fasthttp server or calling directly.
// Under a server without StreamRequestBody the body-size limits still hold, but only after fasthttp has read
// the body.
func (s *Server) Handler() fasthttp.RequestHandler { return s.handler }

// Serve accepts connections on ln until Shutdown. It returns nil after a Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.shutdown {
		s.mu.Unlock()
		return ln.Close()
	}
	s.addr, s.ln = ln.Addr(), ln
	s.mu.Unlock()
	s.log.Info("serving Zaqar v2 REST", "addr", ln.Addr().String(), "admin_mode", s.cfg.AdminMode)
	if err := s.srv.Serve(ln); err != nil {
		return fmt.Errorf("httpapi: serve: %w", err)
	}
	return nil
}

// Shutdown stops accepting connections, lets in-flight requests finish (their responses carry
// Connection: close) and closes idle connections. It returns ctx's error if ctx ends first.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.shutdown = true
	ln := s.ln
	s.mu.Unlock()
	err := s.srv.ShutdownWithContext(ctx)
	if ln != nil {
		_ = ln.Close() // ends a Serve that fasthttp had not registered yet; a second close is harmless
	}
	return err
}

// Addr is the address Serve listens on (nil before Serve).
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// fasthttpLogger sends fasthttp's own messages to slog. Most are about one client's connection (a malformed
// request, a reset) and go to debug so that a port scanner cannot fill the log; refusals because a configured
// limit is reached are warnings.
type fasthttpLogger struct{ log *slog.Logger }

func (l fasthttpLogger) Printf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	level := slog.LevelDebug
	if strings.Contains(msg, "cannot be served") || strings.Contains(msg, "MaxConnsPerIP") ||
		strings.Contains(msg, "accepting new connections") {
		level = slog.LevelWarn
	}
	l.log.Log(context.Background(), level, "fasthttp: "+msg)
}

// request is the per-request state, pooled.
type request struct {
	s      *Server
	ctx    *fasthttp.RequestCtx
	rt     *route
	now    time.Time
	start  time.Time
	caller broker.Caller
	queue  string

	// What authentication learnt: the token's claims (jwt mode), whether the query form of a signed URL let
	// the request in, and the project to use when X-Project-ID is absent (from the token or that query form).
	claims      *signing.Claims
	signedQuery bool
	authProject string

	reqID []byte
	out   []byte // response body
	loc   []byte // Location header

	bodyDone  bool // the body was read to its end
	closeConn bool // the body was left unread and cannot be drained
}

var requestPool = sync.Pool{New: func() any { return &request{out: make([]byte, 0, 1024), loc: make([]byte, 0, 128)} }}

// maxPooledBuffer keeps an occasional huge response from pinning its buffer in the pool.
const maxPooledBuffer = 64 << 10

func (s *Server) begin(ctx *fasthttp.RequestCtx, rt *route) *request {
	r := requestPool.Get().(*request)
	r.s, r.ctx, r.rt = s, ctx, rt
	r.start = time.Now()
	r.now = s.now()
	ctx.Response.Header.SetNoDefaultContentType(true)
	r.reqID = appendRequestID(r.reqID[:0], ctx.Request.Header.Peek(hdrRequestID))
	ctx.Response.Header.SetBytesV(hdrRequestID, r.reqID)
	return r
}

// end runs after every request: it turns a panic into a 500, makes the connection reusable, logs the access
// and returns the state to the pool.
func (s *Server) end(r *request) {
	if p := recover(); p != nil {
		s.log.Error("panic in handler", "panic", p, "method", string(r.ctx.Method()), "path", string(r.ctx.Path()),
			"request_id", string(r.reqID), "stack", string(debug.Stack()))
		r.ctx.Response.Reset()
		r.ctx.Response.Header.SetNoDefaultContentType(true)
		r.ctx.Response.Header.SetBytesV(hdrRequestID, r.reqID)
		s.writeError(r, &Error{Status: fasthttp.StatusInternalServerError, Title: internalErrorTitle})
	}
	r.finishBody()
	if s.obs != nil {
		s.observe(r)
	}
	if s.log.Enabled(r.ctx, slog.LevelDebug) {
		s.log.LogAttrs(r.ctx, slog.LevelDebug, "request",
			slog.String("method", string(r.ctx.Method())),
			slog.String("uri", redactedURI(r.ctx)),
			slog.Int("status", r.ctx.Response.StatusCode()),
			slog.Int("bytes", len(r.ctx.Response.Body())),
			slog.Duration("duration", time.Since(r.start)),
			slog.String("request_id", string(r.reqID)),
			slog.String("remote", r.ctx.RemoteAddr().String()))
	}
	*r = request{reqID: r.reqID, out: r.out[:0], loc: r.loc[:0]}
	if cap(r.out) > maxPooledBuffer {
		r.out = make([]byte, 0, 1024)
	}
	requestPool.Put(r)
}

// reply is a handler's successful result; respond writes it.
type reply struct {
	status       int
	body         []byte // nil: no body
	contentType  string // default application/json
	location     []byte // nil: no Location
	cacheControl string
}

// handlerFunc is a route handler: it returns what to send or an error, and writes nothing itself.
type handlerFunc func(r *request) (reply, error)

// respond is the one place where a handler's result becomes a response.
func (s *Server) respond(r *request, rep reply, err error) {
	h := &r.ctx.Response.Header
	if rep.location != nil {
		h.SetBytesV("Location", rep.location) // also on errors: Zaqar's 409 for a duplicate subscription has one
	}
	if rep.cacheControl != "" {
		h.Set("Cache-Control", rep.cacheControl)
	}
	if err != nil {
		s.writeError(r, err)
		return
	}
	r.ctx.SetStatusCode(rep.status)
	if rep.body != nil {
		ct := rep.contentType
		if ct == "" {
			ct = "application/json"
		}
		h.SetContentType(ct)
		r.ctx.SetBody(rep.body)
	}
}

// writeError writes err as Zaqar does: {"title": ..., "description": ...}.
func (s *Server) writeError(r *request, err error) {
	e := errorResponse(err)
	// A 503 is a store failure the Service has logged already; the access log (debug) has the request.
	if e.Status == fasthttp.StatusInternalServerError {
		s.log.Error("request failed", "err", err, "method", string(r.ctx.Method()), "path", string(r.ctx.Path()),
			"request_id", string(r.reqID))
	}
	r.ctx.SetStatusCode(e.Status)
	if e.NoBody {
		r.ctx.Response.ResetBody()
		return
	}
	if e.Keystone {
		s.writeKeystoneError(r, e)
		return
	}
	b := append(r.out[:0], '{')
	b = appendKey(b, "title")
	b = jsonw.AppendString(b, e.Title)
	if e.Description != "" {
		b = append(b, ", "...)
		b = appendKey(b, "description")
		b = jsonw.AppendString(b, e.Description)
	}
	b = append(b, '}')
	r.out = b
	r.ctx.Response.Header.SetContentType("application/json")
	r.ctx.SetBody(b)
}

// writeKeystoneError writes Keystone's error document, as keystonemiddleware answers an unauthenticated
// request in front of Zaqar.
func (s *Server) writeKeystoneError(r *request, e *Error) {
	if e.Status == fasthttp.StatusUnauthorized {
		r.ctx.Response.Header.Set("WWW-Authenticate", `Bearer realm="zedge"`)
	}
	b := append(r.out[:0], `{"error": {"code": `...)
	b = appendInt(b, int64(e.Status))
	b = append(b, ", "...)
	b = appendKey(b, "title")
	b = jsonw.AppendString(b, e.Title)
	b = append(b, ", "...)
	b = appendKey(b, "message")
	b = jsonw.AppendString(b, e.Description)
	b = append(b, "}}"...)
	r.out = b
	r.ctx.Response.Header.SetContentType("application/json")
	r.ctx.SetBody(b)
}

// redactedURI is the request URI for the access log with the value of a signature query parameter replaced:
// a signed URL's signature is a bearer credential.
func redactedURI(ctx *fasthttp.RequestCtx) string {
	uri := ctx.RequestURI()
	if !ctx.QueryArgs().Has(signing.QuerySignature) {
		return string(uri)
	}
	var args fasthttp.Args
	for k, v := range ctx.QueryArgs().All() {
		if string(k) == signing.QuerySignature {
			v = []byte("[redacted]")
		}
		args.AddBytesKV(k, v)
	}
	return string(ctx.Path()) + "?" + args.String()
}

// endpoint wraps a handler in the pipeline: hooks, then the handler, then respond.
func (s *Server) endpoint(rt *route, h handlerFunc) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		r := s.begin(ctx, rt)
		defer s.end(r)
		if err := s.hooks(r); err != nil {
			s.writeError(r, err)
			return
		}
		if err := s.guard.policy(r); err != nil {
			s.writeError(r, err)
			return
		}
		rep, err := h(r)
		s.respond(r, rep, err)
	}
}

// otherMethods answers the methods a known route does not serve, after the hooks as Falcon does: OPTIONS
// gets 200 with Allow (a bare 200 when a hook fails), everything else 405 with Allow. A refused token also
// leaves OPTIONS a bare 200: Zaqar's oslo.middleware CORS layer, outside keystone, turns every non-2xx answer
// to an OPTIONS into a bare 200, which is also why a failed Falcon hook gives one.
func (s *Server) otherMethods(rt *route) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		r := s.begin(ctx, rt)
		defer s.end(r)
		err := s.hooks(r)
		if ctx.IsOptions() {
			ctx.SetStatusCode(fasthttp.StatusOK)
			if err == nil {
				ctx.Response.Header.Set("Allow", rt.optionsAllow)
			}
			return
		}
		if err != nil {
			s.writeError(r, err)
			return
		}
		ctx.Response.Header.Set("Allow", rt.allow)
		s.writeError(r, errMethodNotAllow)
	}
}

// notFound answers unknown routes before any hook. An OPTIONS gets the bare 200 that Zaqar's oslo.middleware
// CORS layer puts in place of any non-2xx answer to an OPTIONS (see otherMethods).
func (s *Server) notFound(ctx *fasthttp.RequestCtx) {
	r := s.begin(ctx, nil)
	defer s.end(r)
	if ctx.IsOptions() {
		ctx.SetStatusCode(fasthttp.StatusOK)
		return
	}
	s.writeError(r, ErrRouteNotFound)
}
