package bridge

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/zedge-io/zedge/broker"
	"github.com/zedge-io/zedge/store"
)

// Bridge is the embedded MQTT broker with zedge's hooks: device authentication and ACL, telemetry into
// queues, commands out of queues. Build it with New, then Start; Close stops it. It must be closed before
// the store under the Service is.
type Bridge struct {
	svc      *broker.Service
	cfg      Config
	verifier Verifier
	log      *slog.Logger
	now      func() time.Time

	mapper *Mapper
	acl    aclPatterns

	srv    *mqtt.Server
	inline *mqtt.Client

	sessions sync.Map // *mqtt.Client → *session
	counters counters
	// defaultNS is the namespace of the clients of auth none (the default project).
	defaultNS string
	// ingestCtx carries the telemetry store writes (see Config.IngestSharedCommits).
	ingestCtx context.Context

	ingestSlots chan struct{}
	bodies      sync.Pool // *[]byte envelopes

	cmd commandState

	tcp     *listeners.TCP
	ws      *wsListener
	checker sync.WaitGroup // checkCredentials
	started atomic.Bool
	closing chan struct{}
	once    sync.Once
	// ctx is cancelled when Close gives up waiting, to abort store calls still running.
	ctx    context.Context
	cancel context.CancelFunc
}

// Option adjusts a Bridge.
type Option func(*Bridge)

// WithClock replaces time.Now for token checks and envelope times.
func WithClock(now func() time.Time) Option { return func(b *Bridge) { b.now = now } }

// New builds the bridge over svc. verifier checks MQTT passwords in AuthJWT mode (it may be nil in AuthNone
// mode). The command claim ttl and grace must lie within svc's limits. log may be nil.
func New(svc *broker.Service, cfg Config, verifier Verifier, log *slog.Logger, opts ...Option) (*Bridge, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Auth == AuthJWT && verifier == nil {
		return nil, ErrNoVerifier
	}
	lim := svc.Limits()
	ttl, grace := int(cfg.Commands.ClaimTTL/time.Second), int(cfg.Commands.ClaimGrace/time.Second)
	if ttl < lim.MinClaimTTL || ttl > lim.MaxClaimTTL {
		return nil, fmt.Errorf("commands.claim_ttl %v is outside the limits [min_claim_ttl %d, max_claim_ttl %d]",
			cfg.Commands.ClaimTTL, lim.MinClaimTTL, lim.MaxClaimTTL)
	}
	if grace < lim.MinClaimGrace || grace > lim.MaxClaimGrace {
		return nil, fmt.Errorf("commands.claim_grace %v is outside the limits [min_claim_grace %d, max_claim_grace %d]",
			cfg.Commands.ClaimGrace, lim.MinClaimGrace, lim.MaxClaimGrace)
	}
	mapper, err := NewMapper(cfg.Rules)
	if err != nil {
		return nil, err
	}
	acl, err := compileACL(cfg.ACL)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &Bridge{
		svc: svc, cfg: cfg, verifier: verifier, log: log.With("component", "mqtt"), now: time.Now,
		mapper: mapper, acl: acl,
		ingestSlots: make(chan struct{}, cfg.IngestConcurrency),
		defaultNS:   namespaceOf(cfg.DefaultProject),
		closing:     make(chan struct{}),
		ctx:         ctx, cancel: cancel,
	}
	b.ingestCtx = ctx
	if cfg.IngestSharedCommits {
		b.ingestCtx = store.WithDeferredCommit(ctx)
	}
	for _, o := range opts {
		o(b)
	}
	b.bodies.New = func() any { buf := make([]byte, 0, 512); return &buf }
	b.srv = mqtt.New(&mqtt.Options{
		Capabilities: capabilities(cfg),
		// The read buffer is allocated with every connection; the write buffer only while writes queue up.
		ClientNetReadBufferSize:  cfg.ReadBuffer,
		ClientNetWriteBufferSize: cfg.ReadBuffer,
		Logger:                   slog.New(quietHandler{b.log.Handler()}),
		InlineClient:             true,
		// $SYS topics are refreshed this often (each refresh reads the runtime's memory statistics).
		SysTopicResendInterval: 10,
	})
	inline, ok := b.srv.Clients.Get(mqtt.InlineClientId)
	if !ok {
		return nil, errors.New("bridge: the MQTT server has no inline client")
	}
	b.inline = inline
	if err := b.srv.AddHook(&hook{b: b}, nil); err != nil {
		return nil, err
	}
	b.cmd.init(b)
	return b, nil
}

// capabilities turns the configuration into the MQTT server's settings.
func capabilities(cfg Config) *mqtt.Capabilities {
	c := mqtt.NewDefaultServerCapabilities()
	c.MaximumClients = int64(cfg.MaxClients)
	c.MaximumPacketSize = uint32(cfg.MaxPacketSize)
	c.ReceiveMaximum = uint16(cfg.ReceiveMaximum)
	c.MaximumInflight = uint16(cfg.MaxInflight)
	c.MaximumSessionExpiryInterval = uint32(cfg.MaxSessionExpiry / time.Second)
	c.MaximumClientWritesPending = int32(cfg.WriteQueue)
	c.TopicAliasMaximum = uint16(cfg.TopicAliasMaximum)
	// No forced expiry: a retained message is the topic's last known state until replaced (a publisher's own
	// message expiry still applies), and unacknowledged deliveries are bounded by MaximumInflight instead.
	c.MaximumMessageExpiryInterval = 0
	// Acknowledgements carry no user properties copied from the packet they acknowledge (MQTT 5 §3.4.2.2.3).
	c.Compatibilities.NoInheritedPropertiesOnAck = true
	return c
}

// Start binds the listeners and starts serving. A bind failure (port in use) is returned; Close releases
// whatever was bound.
func (b *Bridge) Start() error {
	if !b.started.CompareAndSwap(false, true) {
		return errors.New("bridge: already started")
	}
	tlsConfig, err := b.cfg.TLS.load()
	if err != nil {
		return err
	}
	b.tcp = listeners.NewTCP(listeners.Config{Type: listeners.TypeTCP, ID: "tcp", Address: b.cfg.Addr, TLSConfig: tlsConfig})
	if err := b.srv.AddListener(b.tcp); err != nil {
		return fmt.Errorf("mqtt listener %s: %w", b.cfg.Addr, err)
	}
	if b.cfg.WebSocket.Addr != "" {
		b.ws = newWSListener("ws", b.cfg.WebSocket.Addr, b.cfg.WebSocket.Path, tlsConfig, b.cfg.ReadBuffer)
		if err := b.srv.AddListener(b.ws); err != nil {
			return fmt.Errorf("mqtt websocket listener %s: %w", b.cfg.WebSocket.Addr, err)
		}
	}
	b.cmd.start()
	if checker, ok := b.verifier.(CredentialChecker); ok && b.cfg.Auth == AuthJWT {
		b.checker.Go(func() { b.checkCredentials(checker) })
	}
	b.svc.AddObserver(b)
	if err := b.srv.Serve(); err != nil {
		return err
	}
	b.log.Debug("mqtt serving", "addr", b.Addr(), "websocket", b.WebSocketAddr())
	return nil
}

// Addr is the bound MQTT TCP address (after Start).
func (b *Bridge) Addr() string {
	if b.tcp == nil {
		return ""
	}
	return b.tcp.Address()
}

// ClientsConnected is the number of MQTT clients connected now (for the metrics exporter).
func (b *Bridge) ClientsConnected() int64 { return atomic.LoadInt64(&b.srv.Info.ClientsConnected) }

// WebSocketAddr is the bound MQTT-over-websocket address, or "" when there is none.
func (b *Bridge) WebSocketAddr() string {
	if b.ws == nil {
		return ""
	}
	return b.ws.Address()
}

// DefaultCloseTimeout bounds Close.
const DefaultCloseTimeout = 10 * time.Second

// Close stops the bridge, waiting up to DefaultCloseTimeout (see Shutdown).
func (b *Bridge) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), DefaultCloseTimeout)
	defer cancel()
	return b.Shutdown(ctx)
}

// Shutdown closes the listeners and disconnects every client, waits until the publishes being stored and the
// commands being delivered are done (or ctx ends, which then aborts them and closes every connection, ending
// writes to clients that stopped reading), and stops command delivery. A
// publish whose PUBACK was not sent is not acknowledged: the device sends it again after reconnecting. Calls
// after the first return nil.
func (b *Bridge) Shutdown(ctx context.Context) error {
	var err error
	b.once.Do(func() {
		close(b.closing)
		done := make(chan struct{})
		go func() {
			// The server's Close disconnects the clients one by one and waits for all of them; it runs here so
			// that ctx bounds it. The listeners are closed first with closeClients, so that Close finds them
			// closed and does not use its own way of finding their clients (see closeClients).
			b.srv.Listeners.CloseAll(b.closeClients)
			_ = b.srv.Close()
			b.srv.Listeners.ClientsWg.Wait()
			b.cmd.stop()
			b.checker.Wait()
			close(done)
		}()
		select {
		case <-done:
		case <-ctx.Done():
			b.cancel()
			// A client that stopped reading its socket holds the server's write to it, and the client's lock,
			// for as long as its connection lasts; the DISCONNECT that closeClients sends it waits behind that
			// write. Closing every connection ends those writes.
			for _, cl := range b.srv.Clients.GetAll() {
				if !cl.Net.Inline {
					cl.Stop(packets.ErrServerShuttingDown)
				}
			}
			<-done
			err = fmt.Errorf("bridge: close: %w", ctx.Err())
		}
		b.cancel()
	})
	return err
}

// closeClients disconnects the clients of a closing listener, as the MQTT server's own closeListenerClients
// does, but finds them with Clients.GetAll: its Clients.GetByListener read-locks the client registry twice
// (Len inside), which deadlocks when a client that is leaving at that moment waits for the write lock in
// between; Shutdown then never returned (seen in TestConnectRefusals, mochi v2.7.9).
func (b *Bridge) closeClients(listener string) {
	for _, cl := range b.srv.Clients.GetAll() {
		if cl.Net.Listener == listener && !cl.Closed() {
			_ = b.srv.DisconnectClient(cl, packets.ErrServerShuttingDown)
		}
	}
}

// isClosing reports whether Shutdown has begun.
func (b *Bridge) isClosing() bool {
	select {
	case <-b.closing:
		return true
	default:
		return false
	}
}

// session returns a connected client's session, or nil.
func (b *Bridge) session(cl *mqtt.Client) *session {
	if v, ok := b.sessions.Load(cl); ok {
		return v.(*session)
	}
	return nil
}

// load reads the TLS files.
func (t TLSConfig) load() (*tls.Config, error) {
	if !t.Enabled() {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("mqtt tls: %w", err)
	}
	c := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if t.ClientCAFile != "" {
		pem, err := os.ReadFile(t.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("mqtt tls: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("mqtt tls: %s holds no certificate", t.ClientCAFile)
		}
		c.ClientCAs, c.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return c, nil
}

// Publish publishes payload on topic of the project as the broker itself, for zedge's own publishers (the
// mqtt: subscribers of notifications; it satisfies notify.Publisher). It reaches the project's MQTT
// subscribers only: like every publish of the inline client it never enters a queue (loop guard). A device's
// command topic is refused (ErrCommandTopic), as are topics with wildcards and $ topics (ErrBadTopic).
func (b *Bridge) Publish(project, topic string, payload []byte, qos byte, retain bool) error {
	switch {
	case b.isClosing() || !b.started.Load():
		return ErrClosed
	case topic == "" || topic[0] == '$' || !mqtt.IsValidFilter(topic, true):
		return ErrBadTopic
	case b.mapper.IsCommandTopic(topic):
		return ErrCommandTopic
	}
	return b.srv.Publish(namespaceOf(project)+topic, payload, retain, min(qos, 2))
}
