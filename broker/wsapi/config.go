package wsapi

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// Config configures the websocket transport. The application embeds it as `websocket:`.
type Config struct {
	// Addr is the host:port of the transport's own listener (Zaqar's websocket port is 9000). Upgrades are
	// accepted there at Path, and on the REST port at /v2/ws when the application mounts Handler there.
	Addr string `yaml:"addr"`
	// Path is where the own listener accepts upgrades.
	Path string `yaml:"path"`
	// MaxFrameSize bounds one incoming frame, in bytes; a larger frame closes the socket with 1009 (message
	// too big), since it cannot be read to be answered.
	MaxFrameSize int `yaml:"max_frame_size"`
	// SendQueue is how many outgoing frames (responses and pushed notifications) may wait for a socket. A
	// socket whose queue is full when a notification is pushed is a slow consumer: it is closed with 1008 and
	// a reason, so that it never slows a post down.
	SendQueue int `yaml:"send_queue"`
	// ReadBufferSize is each socket's read buffer, held for the socket's life; a frame larger than it is read
	// in several pieces (it does not bound frame sizes). Zaqar frames are small, hence 1 KiB.
	ReadBufferSize int `yaml:"read_buffer_size"`
	// WriteBufferSize is the size of the write buffers that sockets take from a shared pool while writing a
	// frame (an idle socket holds none); a larger frame is written in several pieces.
	WriteBufferSize int `yaml:"write_buffer_size"`
	// WriteTimeout bounds writing one frame; a socket that cannot take a frame in time is closed.
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// PingInterval is how often an idle socket is pinged; a socket that answers nothing (no frame, no pong)
	// for two intervals is closed.
	PingInterval time.Duration `yaml:"ping_interval"`
	// HandshakeTimeout bounds reading the upgrade request on the own listener.
	HandshakeTimeout time.Duration `yaml:"handshake_timeout"`
	// MaxConnections bounds the open sockets (both listeners together); upgrades beyond it get 503.
	MaxConnections int `yaml:"max_connections"`
	// AllowedOrigins lists the browser origins (scheme://host[:port]) allowed to connect; empty allows any.
	// Authentication travels inside the frames (a token in authenticate, signed-URL headers), never in
	// cookies, so a foreign page gains nothing by connecting; the list is for operators who want it anyway.
	AllowedOrigins []string `yaml:"allowed_origins"`
}

// DefaultConfig returns Zaqar's address and bounds suited to an edge gateway.
func DefaultConfig() Config {
	return Config{
		Addr:             "127.0.0.1:9000",
		Path:             "/",
		MaxFrameSize:     1 << 20,
		SendQueue:        256,
		ReadBufferSize:   1024,
		WriteBufferSize:  4096,
		WriteTimeout:     10 * time.Second,
		PingInterval:     30 * time.Second,
		HandshakeTimeout: 10 * time.Second,
		MaxConnections:   10000,
	}
}

// Validate checks the configuration.
func (c Config) Validate() error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("websocket.addr %q: %w", c.Addr, err))
	}
	check(strings.HasPrefix(c.Path, "/"), "websocket.path must start with /, not %q", c.Path)
	check(c.MaxFrameSize >= 1024, "websocket.max_frame_size must be at least 1024")
	check(c.SendQueue >= 1, "websocket.send_queue must be at least 1")
	check(c.ReadBufferSize >= 256 && c.WriteBufferSize >= 256, "websocket read and write buffers must be at least 256 bytes")
	check(c.WriteTimeout > 0, "websocket.write_timeout must be positive")
	check(c.PingInterval > 0, "websocket.ping_interval must be positive")
	check(c.HandshakeTimeout > 0, "websocket.handshake_timeout must be positive")
	check(c.MaxConnections >= 1, "websocket.max_connections must be at least 1")
	for _, o := range c.AllowedOrigins {
		check(strings.Contains(o, "://"), "websocket.allowed_origins: %q is not scheme://host[:port]", o)
	}
	return errors.Join(errs...)
}
