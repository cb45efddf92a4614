package bridge

import (
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestDefaultConfigValid(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := map[string]func(*Config){
		"addr":             func(c *Config) { c.Addr = "nope" },
		"websocket.addr":   func(c *Config) { c.WebSocket.Addr = "x" },
		"websocket.path":   func(c *Config) { c.WebSocket.Addr = "127.0.0.1:0"; c.WebSocket.Path = "mqtt" },
		"tls.cert_file":    func(c *Config) { c.TLS.CertFile = "c.pem" },
		"tls.client_ca":    func(c *Config) { c.TLS.ClientCAFile = "ca.pem" },
		"auth":             func(c *Config) { c.Auth = "maybe" },
		"default_project":  func(c *Config) { c.DefaultProject = "" },
		"max_packet_size":  func(c *Config) { c.MaxPacketSize = 10 },
		"keepalive":        func(c *Config) { c.KeepaliveMin = time.Hour },
		"receive_maximum":  func(c *Config) { c.ReceiveMaximum = 0 },
		"max_inflight":     func(c *Config) { c.MaxInflight = 70000 },
		"max_clients":      func(c *Config) { c.MaxClients = 0 },
		"write_queue":      func(c *Config) { c.WriteQueue = 0 },
		"read_buffer":      func(c *Config) { c.ReadBuffer = 1 },
		"ingest":           func(c *Config) { c.IngestConcurrency = 0 },
		"credential_check": func(c *Config) { c.CredentialCheck = 0 },
		"commands.claim":   func(c *Config) { c.Commands.ClaimTTL = 1500 * time.Millisecond },
		"commands.window":  func(c *Config) { c.Commands.Window = 0 },
		"commands.workers": func(c *Config) { c.Commands.Workers = 0 },
		"acl.device_pub":   func(c *Config) { c.ACL.DevicePublish = []string{"a/#/b"} },
		"rules":            func(c *Config) { c.Rules.Telemetry[0].Queue = "q-{nope}" },
	}
	for name, mutate := range tests {
		c := DefaultConfig()
		c.Rules = DefaultRules()
		mutate(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: Validate accepted a bad value", name)
		}
	}
}

func TestConfigYAML(t *testing.T) {
	c := DefaultConfig()
	doc := `
addr: 127.0.0.1:0
websocket: {addr: "127.0.0.1:0", path: /ws}
keepalive_max: 2m
commands: {claim_ttl: 30s, window: 4}
`
	dec := yaml.NewDecoder(strings.NewReader(doc))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.KeepaliveMax != 2*time.Minute || c.Commands.ClaimTTL != 30*time.Second || c.Commands.Window != 4 ||
		c.Commands.Workers != 16 || c.WebSocket.Path != "/ws" {
		t.Errorf("decoded %+v", c)
	}
	// Rules have their own section.
	var r Rules
	if err := yaml.Unmarshal([]byte(`
telemetry:
  - {topic: "plant/{line}/{sensor}", queue: "line-{line}", ttl: 600}
commands:
  - {queue: "c-{device}", topic: "plant/{device}/cmd", ack_topic: "plant/{device}/ack", ack: reply}
`), &r); err != nil {
		t.Fatal(err)
	}
	if _, err := NewMapper(r); err != nil || len(r.Telemetry) != 1 || r.Telemetry[0].TTL != 600 ||
		len(r.Commands) != 1 || r.Commands[0].Ack != AckReply {
		t.Errorf("rules %+v: %v", r, err)
	}
}
