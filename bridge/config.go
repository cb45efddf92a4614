package bridge

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// Auth modes of the MQTT listener; the application sets Config.Auth from its own auth mode.
const (
	// AuthJWT: the MQTT password is a zedge JWT (signing.Claims); its project_id is the client's project.
	AuthJWT = "jwt"
	// AuthNone: any client may connect, do anything the ACL of an operator allows, and belongs to
	// Config.DefaultProject. A client's device id is its username, or its client id when the username is empty.
	AuthNone = "none"
)

// Config configures the embedded MQTT broker and the bridge. The application reads it from its `mqtt:`
// section, and Rules from its `bridge:` section.
type Config struct {
	// Addr is the MQTT TCP listener (MQTT 3.1.1 and 5); "127.0.0.1:0" picks a free port.
	Addr string `yaml:"addr"`
	// WebSocket is the optional MQTT-over-websocket listener.
	WebSocket WebSocketConfig `yaml:"websocket"`
	// TLS, when CertFile is set, makes both listeners speak TLS (mqtts, wss).
	TLS TLSConfig `yaml:"tls"`

	// Auth is AuthJWT or AuthNone. It has no YAML key: the application copies its auth mode here, so that
	// REST and MQTT never disagree.
	Auth string `yaml:"-"`
	// DefaultProject is the project of every client in AuthNone mode.
	DefaultProject string `yaml:"default_project"`

	// MaxPacketSize bounds an MQTT packet in bytes (announced to MQTT 5 clients in CONNACK).
	MaxPacketSize int `yaml:"max_packet_size"`
	// KeepaliveMin and KeepaliveMax bound the keepalive a client may ask for. MQTT 5 clients are told the
	// server's value (Server Keep Alive); a 3.1.1 client asking for 0 (none) or more than the maximum is held
	// to the maximum, so an idle half-open connection is closed after 1.5 × KeepaliveMax.
	KeepaliveMin time.Duration `yaml:"keepalive_min"`
	KeepaliveMax time.Duration `yaml:"keepalive_max"`
	// ReceiveMaximum is how many unacknowledged QoS 1/2 publishes a client may send (announced in CONNACK).
	ReceiveMaximum int `yaml:"receive_maximum"`
	// MaxInflight bounds the outbound QoS 1/2 messages held per client; more are dropped by the MQTT server
	// (commands are then redelivered when their claim expires).
	MaxInflight int `yaml:"max_inflight"`
	// MaxSessionExpiry bounds how long a disconnected persistent session is kept.
	MaxSessionExpiry time.Duration `yaml:"max_session_expiry"`
	// MaxClients bounds the connected clients; more are refused with "server busy".
	MaxClients int `yaml:"max_clients"`
	// WriteQueue is the number of outbound packets queued per client before further ones are dropped. Each
	// slot costs 8 bytes of every connection, used or not (the default's 0.6 KiB of the ~27 KiB an idle
	// device costs, see the package documentation).
	WriteQueue int `yaml:"write_queue"`
	// ReadBuffer is the per-connection read buffer in bytes, held by every connection, idle or not.
	ReadBuffer int `yaml:"read_buffer"`
	// TopicAliasMaximum is how many topic aliases a client may use in each direction. It costs an idle
	// connection nothing: the server allocates its alias tables whatever the value, and fills them as used.
	TopicAliasMaximum int `yaml:"topic_alias_maximum"`

	// IngestConcurrency bounds the telemetry store writes in progress at once. When all are busy an MQTT 5
	// publisher waits up to IngestWait and is then refused with 0x97 (quota exceeded); an MQTT 3.1.1
	// publisher waits (its connection is not read meanwhile, which throttles it).
	IngestConcurrency int           `yaml:"ingest_concurrency"`
	IngestWait        time.Duration `yaml:"ingest_wait"`
	// IngestSharedCommits lets each telemetry store write wait (up to the store's commit_defer, 5 ms with
	// Badger) to share its fsync with other writes rather than start a commit of its own
	// (store.WithDeferredCommit). The PUBACK still follows the durable write; it may come up to that much
	// later when traffic is light, for ~10-20 % less broker CPU per message at moderate rates. False: every
	// write commits at once.
	IngestSharedCommits bool `yaml:"ingest_shared_commits"`

	// CredentialCheck is how often the token of every connected client is checked again (jwt auth): a client
	// whose token has expired or been revoked since it connected is disconnected (MQTT 5: DISCONNECT 0xA0
	// "token expired" or 0x87 "token revoked"; MQTT 3.1.1: the connection is closed).
	CredentialCheck time.Duration `yaml:"credential_check"`

	// Commands configures command delivery.
	Commands CommandsConfig `yaml:"commands"`
	// ACL configures what device tokens may do beyond their telemetry and command topics.
	ACL ACLConfig `yaml:"acl"`
	// Rules map topics to queues. They have no YAML key here: the application reads them from its own
	// `bridge:` section.
	Rules Rules `yaml:"-"`
}

// WebSocketConfig is the MQTT-over-websocket listener; an empty Addr disables it.
type WebSocketConfig struct {
	Addr string `yaml:"addr"`
	Path string `yaml:"path"`
}

// TLSConfig names PEM files. CertFile and KeyFile enable TLS; ClientCAFile additionally requires client
// certificates signed by that CA (the MQTT password still carries the token).
type TLSConfig struct {
	CertFile     string `yaml:"cert_file"`
	KeyFile      string `yaml:"key_file"`
	ClientCAFile string `yaml:"client_ca_file"`
}

// Enabled reports whether TLS is configured.
func (t TLSConfig) Enabled() bool { return t.CertFile != "" }

// CommandsConfig configures how commands are claimed and handed to devices.
type CommandsConfig struct {
	// ClaimTTL is how long a delivered command stays claimed waiting for its acknowledgement; an unacknowledged
	// command is delivered again after it. It must lie within the broker limits (min_claim_ttl, max_claim_ttl).
	ClaimTTL time.Duration `yaml:"claim_ttl"`
	// ClaimGrace extends the message's life past the claim if it would expire sooner (Zaqar's claim grace),
	// within min_claim_grace and max_claim_grace.
	ClaimGrace time.Duration `yaml:"claim_grace"`
	// Window is how many commands one device may have delivered but not yet acknowledged.
	Window int `yaml:"window"`
	// Workers is the number of goroutines that claim and publish commands for all devices.
	Workers int `yaml:"workers"`
}

// ACLConfig lists MQTT topic filters a device token may use besides those the rules give it. "{device}" in a
// filter stands for the token's subject. Operators (member or admin role) may publish and subscribe anywhere.
type ACLConfig struct {
	// DevicePublish: filters a device may publish to, besides the telemetry rule topics (with its own id
	// where the rule names {device}) and its ack topics. A device never publishes to a command topic.
	DevicePublish []string `yaml:"device_publish"`
	// DeviceSubscribe: filters a device may subscribe to, besides its own command topics.
	DeviceSubscribe []string `yaml:"device_subscribe"`
}

// Default values. The per-connection ones were weighed against the memory of an idle device and kept:
// halving write_queue (-256 B, ~1% of an idle device) would drop plain MQTT deliveries and retained messages
// sent on SUBSCRIBE sooner in a burst, and halving read_buffer (-256 B) made no difference measurable on
// this machine's noise but would split pipelined QoS 0 publishes over more reads. Most of an idle device's
// cost is the MQTT server's goroutine stacks (20-24 KiB), which no setting changes.
const (
	DefaultAddr           = "127.0.0.1:1883"
	DefaultProject        = "default"
	DefaultMaxPacketSize  = 64 << 10
	DefaultWriteQueue     = 64
	DefaultReadBuffer     = 512
	DefaultReceiveMaximum = 64
	DefaultMaxInflight    = 256
)

// DefaultConfig returns the defaults: TCP on 127.0.0.1:1883, no websocket, no TLS, jwt auth, 64 KiB packets,
// a 64-slot write queue, and the campus rules (DefaultRules).
func DefaultConfig() Config {
	return Config{
		Addr:                DefaultAddr,
		WebSocket:           WebSocketConfig{Path: "/mqtt"},
		Auth:                AuthJWT,
		DefaultProject:      DefaultProject,
		MaxPacketSize:       DefaultMaxPacketSize,
		KeepaliveMin:        5 * time.Second,
		KeepaliveMax:        5 * time.Minute,
		ReceiveMaximum:      DefaultReceiveMaximum,
		MaxInflight:         DefaultMaxInflight,
		MaxSessionExpiry:    24 * time.Hour,
		MaxClients:          100000,
		WriteQueue:          DefaultWriteQueue,
		ReadBuffer:          DefaultReadBuffer,
		TopicAliasMaximum:   16,
		IngestConcurrency:   512,
		IngestWait:          time.Second,
		CredentialCheck:     time.Second,
		IngestSharedCommits: true,
		Commands: CommandsConfig{
			ClaimTTL:   60 * time.Second,
			ClaimGrace: 60 * time.Second,
			Window:     8,
			Workers:    16,
		},
		ACL:   ACLConfig{DevicePublish: []string{"devices/{device}/#"}},
		Rules: DefaultRules(),
	}
}

// Validate checks the configuration, reporting every problem. Rules are compiled to check them.
func (c Config) Validate() error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(validAddr(c.Addr), "addr must be host:port, got %q", c.Addr)
	if c.WebSocket.Addr != "" {
		check(validAddr(c.WebSocket.Addr), "websocket.addr must be host:port, got %q", c.WebSocket.Addr)
		check(strings.HasPrefix(c.WebSocket.Path, "/"), "websocket.path must start with /, got %q", c.WebSocket.Path)
	}
	check(c.TLS.Enabled() == (c.TLS.KeyFile != ""), "tls.cert_file and tls.key_file go together")
	check(c.TLS.ClientCAFile == "" || c.TLS.Enabled(), "tls.client_ca_file needs tls.cert_file and tls.key_file")
	check(c.Auth == AuthJWT || c.Auth == AuthNone, "auth must be %q or %q, got %q", AuthJWT, AuthNone, c.Auth)
	check(c.DefaultProject != "" && len(c.DefaultProject) <= 256, "default_project must have 1 to 256 characters")
	check(c.MaxPacketSize >= 1024 && c.MaxPacketSize <= 256<<20, "max_packet_size must be within [1024, 268435456]")
	check(c.KeepaliveMin >= time.Second && c.KeepaliveMin <= c.KeepaliveMax && c.KeepaliveMax <= 65535*time.Second,
		"need 1s <= keepalive_min <= keepalive_max <= 65535s")
	check(c.ReceiveMaximum >= 1 && c.ReceiveMaximum <= 65535, "receive_maximum must be within [1, 65535]")
	check(c.MaxInflight >= 1 && c.MaxInflight <= 65535, "max_inflight must be within [1, 65535]")
	check(c.MaxSessionExpiry >= 0 && c.MaxSessionExpiry <= (1<<32-1)*time.Second,
		"max_session_expiry must be within [0, 4294967295s]")
	check(c.MaxClients >= 1, "max_clients must be positive")
	check(c.WriteQueue >= 1 && c.WriteQueue <= 1<<16, "write_queue must be within [1, 65536]")
	check(c.ReadBuffer >= 256 && c.ReadBuffer <= 1<<20, "read_buffer must be within [256, 1048576]")
	check(c.TopicAliasMaximum >= 0 && c.TopicAliasMaximum <= 65535, "topic_alias_maximum must be within [0, 65535]")
	check(c.IngestConcurrency >= 1, "ingest_concurrency must be positive")
	check(c.IngestWait >= 0, "ingest_wait must not be negative")
	check(c.CredentialCheck >= 10*time.Millisecond && c.CredentialCheck <= time.Hour,
		"credential_check must be within [10ms, 1h]")
	check(c.Commands.ClaimTTL >= time.Second && c.Commands.ClaimTTL%time.Second == 0,
		"commands.claim_ttl must be a positive whole number of seconds")
	check(c.Commands.ClaimGrace >= 0 && c.Commands.ClaimGrace%time.Second == 0,
		"commands.claim_grace must be a whole number of seconds")
	check(c.Commands.Window >= 1 && c.Commands.Window <= 1000, "commands.window must be within [1, 1000]")
	check(c.Commands.Workers >= 1 && c.Commands.Workers <= 1024, "commands.workers must be within [1, 1024]")
	for _, f := range c.ACL.DevicePublish {
		if _, err := ParsePattern(f); err != nil {
			errs = append(errs, fmt.Errorf("acl.device_publish: %w", err))
		}
	}
	for _, f := range c.ACL.DeviceSubscribe {
		if _, err := ParsePattern(f); err != nil {
			errs = append(errs, fmt.Errorf("acl.device_subscribe: %w", err))
		}
	}
	if _, err := NewMapper(c.Rules); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func validAddr(addr string) bool {
	_, port, err := net.SplitHostPort(addr)
	return err == nil && port != ""
}
