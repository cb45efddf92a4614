package app

import (
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	pahov3 "github.com/eclipse/paho.mqtt.golang"

	"github.com/zedge-io/zedge/signing"
	"github.com/zedge-io/zedge/signing/revoke"
)

func mqttConnect(t *testing.T, addr, clientID, password string) (pahov3.Client, error) {
	t.Helper()
	o := pahov3.NewClientOptions().AddBroker("tcp://" + addr).SetClientID(clientID).SetUsername(clientID).SetPassword(password).
		SetProtocolVersion(4).SetAutoReconnect(false).SetConnectTimeout(10 * time.Second)
	c := pahov3.NewClient(o)
	tok := c.Connect()
	if !tok.WaitTimeout(15 * time.Second) {
		t.Fatal("mqtt connect timed out")
	}
	if tok.Error() != nil {
		return nil, tok.Error()
	}
	t.Cleanup(func() { c.Disconnect(0) })
	return c, nil
}

// The ready file names the MQTT listener too, and a reading published there (auth none, project from
// ZEDGE_MQTT_PROJECT) is listed over REST once its PUBACK came back.
func TestMQTTServedWithTheApp(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{EnvMQTTAddr: "127.0.0.1:0", EnvMQTTProject: "app-test"}
	cfg, err := Load("", envOf(env))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MQTT.Addr != "127.0.0.1:0" || cfg.MQTT.DefaultProject != "app-test" {
		t.Fatalf("env not applied: %+v", cfg.MQTT)
	}
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.Store.Kind = StoreMemory
	cfg.Store.Badger.Dir = filepath.Join(dir, "data")
	ready := filepath.Join(dir, "ready.json")
	r := start(t, cfg, Options{ReadyFile: ready})
	waitForFile(t, ready, r.done)
	raw, err := os.ReadFile(ready)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		HTTP, MQTT string
		PID        int
	}
	if err := json.Unmarshal(raw, &got); err != nil || got.MQTT != r.app.MQTTAddr() || got.MQTT == "" {
		t.Fatalf("ready file %s: %v", raw, err)
	}
	if !strings.Contains(r.logs.String(), "mqtt="+got.MQTT) {
		t.Errorf("start line without the mqtt address:\n%s", r.logs.String())
	}
	c, err := mqttConnect(t, got.MQTT, "s-1", "")
	if err != nil {
		t.Fatal(err)
	}
	if tok := c.Publish("sensors/b1/r1/temp", 1, false, `{"v":20.5}`); !tok.WaitTimeout(15*time.Second) || tok.Error() != nil {
		t.Fatalf("publish: %v", tok.Error())
	}
	code, body := call(t, got.HTTP, "GET", "/v2/queues/telemetry-b1/messages?echo=true", consumerID, "")
	if code != http.StatusOK || !strings.Contains(body, `"payload":{"v":20.5}`) || !strings.Contains(body, `"device":"s-1"`) {
		t.Errorf("GET messages = %d %s", code, body)
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	// Stopped: nothing listens on the MQTT address any more.
	if conn, err := net.DialTimeout("tcp", got.MQTT, time.Second); err == nil {
		conn.Close()
		t.Error("MQTT still accepting connections after shutdown")
	}
}

// With auth jwt, the MQTT password is a token checked with the signing keys and the revocation list.
func TestMQTTJWTAuth(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	env := authEnv(dir)
	cfg, err := Load("", envOf(env))
	if err != nil {
		t.Fatal(err)
	}
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.MQTT.Addr = "127.0.0.1:0"
	cfg.Websocket.Addr = "127.0.0.1:0"
	r := start(t, cfg, Options{})
	signer, err := cfg.Signing.TokenSigner()
	if err != nil || signer == nil {
		t.Fatalf("signer: %v", err)
	}
	claims, _ := signing.NewClaims("ac-12", "campus", []string{signing.RoleDevice}, time.Now().Add(-time.Minute), time.Hour)
	tok, _ := signing.IssueToken(signer, claims)
	if _, err := mqttConnect(t, r.app.MQTTAddr(), "ac-12", "not-a-token"); err == nil {
		t.Error("bad token accepted")
	}
	if _, err := mqttConnect(t, r.app.MQTTAddr(), "ac-12", tok); err != nil {
		t.Fatalf("good token refused: %v\n%s", err, r.logs.String())
	}
	if _, err := r.app.revoked.Revoke(revoke.Entry{Kind: revoke.Subject, ID: "ac-12"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := mqttConnect(t, r.app.MQTTAddr(), "ac-12", tok); err == nil {
		t.Error("revoked token accepted")
	}
	if c := r.app.Bridge().Counters(); c["connect.refused.token"] != 2 || c["connect.ok"] != 1 {
		t.Errorf("counters %v", c)
	}
}

// A busy MQTT port fails New, and what New opened is closed again.
func TestNewFailsOnMQTTPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg := testConfig(t, StoreBadger)
	cfg.MQTT.Addr = ln.Addr().String()
	if _, err := New(cfg, slog.New(slog.DiscardHandler), Options{}); err == nil || !strings.Contains(err.Error(), "mqtt") {
		t.Fatalf("New on a busy MQTT port = %v", err)
	}
	cfg.MQTT.Addr = "127.0.0.1:0"
	cfg.Websocket.Addr = "127.0.0.1:0"
	r := start(t, cfg, Options{}) // the store directory and the HTTP port were released
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
}

// Bad MQTT settings and rules are reported by section.
func TestMQTTConfigErrors(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MQTT.MaxPacketSize = 1
	cfg.Bridge.Telemetry[0].Queue = "q-{nope}"
	err := cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), "mqtt: max_packet_size") ||
		!strings.Contains(err.Error(), "bridge.telemetry[0]") {
		t.Errorf("Validate = %v", err)
	}
	cfg = DefaultConfig()
	cfg.MQTT.Commands.ClaimTTL = time.Second // below limits.min_claim_ttl
	cfg.HTTP.Addr, cfg.MQTT.Addr, cfg.Store.Kind = "127.0.0.1:0", "127.0.0.1:0", StoreMemory
	cfg.Websocket.Addr = "127.0.0.1:0"
	if _, err := New(cfg, slog.New(slog.DiscardHandler), Options{}); err == nil || !strings.Contains(err.Error(), "claim_ttl") {
		t.Errorf("New with a claim ttl below the limits = %v", err)
	}
}

// A subscription whose subscriber is mqtt:<topic> (zedge's extension) is accepted over REST and republishes
// each posted message, as Zaqar's notification payload, on that topic of the embedded broker, among the topics
// of the queue's project (an MQTT client without auth belongs to mqtt.default_project).
func TestMQTTSubscriberGetsNotifications(t *testing.T) {
	cfg := testConfig(t, StoreMemory)
	cfg.MQTT.Addr = "127.0.0.1:0"
	cfg.MQTT.DefaultProject = "app-test" // the project of call()
	r := start(t, cfg, Options{})
	c, err := mqttConnect(t, r.app.MQTTAddr(), "alarm-panel", "")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte, 4)
	if tok := c.Subscribe("alerts/b1", 1, func(_ pahov3.Client, m pahov3.Message) { got <- m.Payload() }); !tok.WaitTimeout(15*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	code, body := call(t, r.app.HTTPAddr(), "POST", "/v2/queues/alarms/subscriptions", producerID,
		`{"subscriber": "mqtt:alerts/b1", "ttl": 3600}`)
	if code != http.StatusCreated {
		t.Fatalf("POST subscription = %d %s", code, body)
	}
	code, body = call(t, r.app.HTTPAddr(), "POST", "/v2/queues/alarms/messages", producerID,
		`{"messages": [{"body": {"smoke": "b1-r101"}, "ttl": 300}]}`)
	if code != http.StatusCreated {
		t.Fatalf("POST messages = %d %s", code, body)
	}
	select {
	case p := <-got:
		var n struct {
			Body        map[string]string `json:"body"`
			TTL         int               `json:"ttl"`
			QueueName   string            `json:"queue_name"`
			MessageType string            `json:"Message_Type"`
		}
		if err := json.Unmarshal(p, &n); err != nil {
			t.Fatalf("notification %s: %v", p, err)
		}
		if n.Body["smoke"] != "b1-r101" || n.TTL != 300 || n.QueueName != "alarms" || n.MessageType != "Notification" {
			t.Errorf("notification = %s", p)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no notification arrived on alerts/b1")
	}

	// A scheme nobody delivers is still refused with Zaqar's text, which does not list mqtt.
	code, body = call(t, r.app.HTTPAddr(), "POST", "/v2/queues/alarms/subscriptions", producerID,
		`{"subscriber": "ftp://example/x"}`)
	if code != http.StatusBadRequest || strings.Contains(body, "mqtt") {
		t.Errorf("ftp subscriber = %d %s", code, body)
	}
}
