package bridge

import (
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/mochi-mqtt/server/v2/listeners"
)

// wsListener serves MQTT over websocket (subprotocol "mqtt", binary frames) on one path. It binds in Init, so
// that an address with port 0 is known before serving (the MQTT server's own websocket listener binds only
// when it starts serving, and serves every path).
type wsListener struct {
	id, addr, path string
	tlsConfig      *tls.Config
	log            *slog.Logger
	ln             net.Listener
	http           *http.Server
	upgrader       websocket.Upgrader
	establish      listeners.EstablishFn
	closed         atomic.Bool
	closeOnce      sync.Once
}

var _ listeners.Listener = (*wsListener)(nil)

func newWSListener(id, addr, path string, tlsConfig *tls.Config, readBuffer int) *wsListener {
	return &wsListener{
		id: id, addr: addr, path: path, tlsConfig: tlsConfig,
		upgrader: websocket.Upgrader{
			Subprotocols:    []string{"mqtt"},
			ReadBufferSize:  readBuffer,
			WriteBufferSize: readBuffer,
			// The MQTT password authenticates; browsers on any origin may connect.
			CheckOrigin: func(*http.Request) bool { return true },
		},
	}
}

func (l *wsListener) ID() string { return l.id }

func (l *wsListener) Address() string {
	if l.ln != nil {
		return l.ln.Addr().String()
	}
	return l.addr
}

func (l *wsListener) Protocol() string {
	if l.tlsConfig != nil {
		return "wss"
	}
	return "ws"
}

func (l *wsListener) Init(log *slog.Logger) error {
	l.log = log
	ln, err := net.Listen("tcp", l.addr)
	if err != nil {
		return err
	}
	if l.tlsConfig != nil {
		ln = tls.NewListener(ln, l.tlsConfig)
	}
	l.ln = ln
	mux := http.NewServeMux()
	mux.HandleFunc(l.path, l.handle)
	l.http = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
	return nil
}

func (l *wsListener) Serve(establish listeners.EstablishFn) {
	l.establish = establish
	if err := l.http.Serve(l.ln); err != nil && !errors.Is(err, http.ErrServerClosed) && !l.closed.Load() {
		l.log.Error("mqtt websocket listener stopped", "error", err)
	}
}

func (l *wsListener) handle(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != l.path {
		http.NotFound(w, r)
		return
	}
	c, err := l.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	defer c.Close()
	if err := l.establish(l.id, &wsConn{Conn: c.NetConn(), ws: c}); err != nil {
		l.log.Debug("mqtt websocket client ended", "error", err)
	}
}

func (l *wsListener) Close(closeClients listeners.CloseFn) {
	l.closeOnce.Do(func() {
		l.closed.Store(true)
		if l.http != nil {
			_ = l.http.Close() // closes the listener; upgraded connections are the MQTT server's
		}
		closeClients(l.id)
	})
}

// wsConn carries the MQTT byte stream in binary websocket messages: a read continues across message
// boundaries, each write is one message. The websocket library keeps the write deadline in a field its writes
// read, while the MQTT server refreshes deadlines from its reading goroutine: mu orders the two.
type wsConn struct {
	net.Conn
	ws *websocket.Conn
	r  io.Reader // the message being read, nil between messages
	mu sync.Mutex
}

// errTextFrame: MQTT over websocket uses binary frames only (MQTT 5 §6).
var errTextFrame = errors.New("bridge: websocket text frame")

func (c *wsConn) Read(p []byte) (int, error) {
	for {
		if c.r == nil {
			kind, r, err := c.ws.NextReader()
			if err != nil {
				return 0, err
			}
			if kind != websocket.BinaryMessage {
				return 0, errTextFrame
			}
			c.r = r
		}
		n, err := c.r.Read(p)
		if errors.Is(err, io.EOF) {
			c.r = nil
			if n == 0 {
				continue
			}
			err = nil
		}
		return n, err
	}
}

func (c *wsConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.ws.WriteMessage(websocket.BinaryMessage, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (c *wsConn) SetDeadline(t time.Time) error {
	if err := c.ws.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

func (c *wsConn) SetReadDeadline(t time.Time) error { return c.ws.SetReadDeadline(t) }

func (c *wsConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ws.SetWriteDeadline(t)
}
