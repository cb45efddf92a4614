package main

// End-to-end tests of the MQTT bridge against the real binary: paho clients (MQTT 3.1.1 and 5) as sensors,
// thermostats and air conditioners, REST as the operator, and a SIGKILL in the middle of a telemetry stream.

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	pahov3 "github.com/eclipse/paho.mqtt.golang"
)

const mqttWait = 20 * time.Second // only keeps a broken build from hanging; never a speed check

// tokenTransport adds a bearer token to every REST request.
type tokenTransport struct{ token string }

func (t tokenTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Auth-Token", t.token)
	return http.DefaultTransport.RoundTrip(r)
}

// mqttServer starts zedge in jwt mode with extra config and returns it with the env that `zedge token` needs.
func mqttServer(t *testing.T, config string) (*server, []string) {
	t.Helper()
	env := []string{"ZEDGE_JWT_SECRET=" + e2eJWTSecret, "ZEDGE_AUTH=jwt"}
	s := startServer(t, serverOptions{env: env, config: config})
	if s.mqtt == "" {
		t.Fatal("the ready file names no mqtt address")
	}
	return s, append(env, "ZEDGE_HTTP_ADDR="+s.addr, "ZEDGE_DATA_DIR="+s.dataDir)
}

func mintToken(t *testing.T, env []string, sub, roles string) string {
	t.Helper()
	return strings.TrimSpace(zedgeOK(t, env, "token", "-sub", sub, "-project", "campus", "-roles", roles, "-ttl", "1h"))
}

// v3Device connects an MQTT 3.1.1 client; MQTT 3.1.1 sends a password only with a username (which zedge
// ignores).
func v3Device(t *testing.T, addr, clientID, token string, tweak ...func(*pahov3.ClientOptions)) (pahov3.Client, error) {
	t.Helper()
	o := pahov3.NewClientOptions().AddBroker("tcp://" + addr).SetClientID(clientID).SetUsername(clientID).
		SetPassword(token).SetProtocolVersion(4).SetAutoReconnect(false).SetConnectTimeout(mqttWait)
	for _, f := range tweak {
		f(o)
	}
	c := pahov3.NewClient(o)
	tok := c.Connect()
	if !tok.WaitTimeout(mqttWait) {
		t.Fatal("mqtt connect timed out")
	}
	if tok.Error() != nil {
		return nil, tok.Error()
	}
	t.Cleanup(func() { c.Disconnect(0) })
	return c, nil
}

func mustV3(t *testing.T, addr, clientID, token string, tweak ...func(*pahov3.ClientOptions)) pahov3.Client {
	t.Helper()
	c, err := v3Device(t, addr, clientID, token, tweak...)
	if err != nil {
		t.Fatalf("connect %s: %v", clientID, err)
	}
	return c
}

func waitToken(t *testing.T, tok pahov3.Token) error {
	t.Helper()
	if !tok.WaitTimeout(mqttWait) {
		t.Fatal("mqtt operation timed out")
	}
	return tok.Error()
}

// subscribeChan subscribes at QoS 1 and returns the messages on a channel.
func subscribeChan(t *testing.T, c pahov3.Client, filter string) <-chan pahov3.Message {
	t.Helper()
	ch := make(chan pahov3.Message, 100)
	if err := waitToken(t, c.Subscribe(filter, 1, func(_ pahov3.Client, m pahov3.Message) { ch <- m })); err != nil {
		t.Fatal(err)
	}
	return ch
}

func nextMsg(t *testing.T, ch <-chan pahov3.Message) pahov3.Message {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(mqttWait):
		t.Fatal("no MQTT message arrived")
		return nil
	}
}

type deviceCommand struct {
	ID   string          `json:"id"`
	Body json.RawMessage `json:"body"`
}

func decodeDeviceCommand(t *testing.T, payload []byte) deviceCommand {
	t.Helper()
	var c deviceCommand
	if err := json.Unmarshal(payload, &c); err != nil || c.ID == "" {
		t.Fatalf("command payload %s: %v", payload, err)
	}
	return c
}

// v5Connect connects an MQTT 5 client (paho.golang) and returns it with its CONNACK; configure may set
// callbacks that paho only takes at creation.
func v5Connect(t *testing.T, addr, clientID, token string, configure ...func(*paho.ClientConfig)) (*paho.Client, *paho.Connack, error) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	cfg := paho.ClientConfig{Conn: conn}
	for _, f := range configure {
		f(&cfg)
	}
	c := paho.NewClient(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), mqttWait)
	defer cancel()
	ca, err := c.Connect(ctx, &paho.Connect{ClientID: clientID, CleanStart: true, KeepAlive: 30,
		Username: clientID, UsernameFlag: true, Password: []byte(token), PasswordFlag: true})
	if err != nil {
		conn.Close()
		return nil, ca, err
	}
	t.Cleanup(func() { _ = c.Disconnect(&paho.Disconnect{}) })
	return c, ca, nil
}

// The campus flows over MQTT and REST together: sensor readings are listed over REST once PUBACKed; an
// operator's REST command reaches the air conditioner, whose PUBACK deletes it; an offline thermostat gets
// its command when it comes back; devices stay inside their own topics; a bad token is refused at CONNECT.
func TestMQTTCampusE2E(t *testing.T) {
	t.Parallel()
	s, env := mqttServer(t, "")
	operator := mintToken(t, env, "ops", "member")
	rest := newClient(t, s, "campus")
	rest.hc = &http.Client{Transport: tokenTransport{operator}}

	// Telemetry: 20 QoS 1 readings, each listed over REST as soon as it was acknowledged.
	sensor := mustV3(t, s.mqtt, "s-17", mintToken(t, env, "s-17", "device"))
	for i := range 20 {
		if err := waitToken(t, sensor.Publish("sensors/b1/r101/temp", 1, false, fmt.Sprintf(`{"seq":%d,"c":21.5}`, i))); err != nil {
			t.Fatal(err)
		}
	}
	readings := rest.listAll("telemetry-b1", "echo=true")
	if len(readings) != 20 {
		t.Fatalf("REST lists %d readings, want 20", len(readings))
	}
	for i, m := range readings {
		var env struct {
			Topic, Device string
			Payload       struct{ Seq int }
		}
		if err := json.Unmarshal(m.Body, &env); err != nil || env.Topic != "sensors/b1/r101/temp" ||
			env.Device != "s-17" || env.Payload.Seq != i {
			t.Errorf("reading %d: %s (%v)", i, m.Body, err)
		}
	}

	// A command posted over REST reaches the connected air conditioner; its PUBACK deletes it.
	ac := mustV3(t, s.mqtt, "ac-12", mintToken(t, env, "ac-12", "device"))
	acCmds := subscribeChan(t, ac, "devices/ac-12/commands")
	ids := rest.post("cmd-ac-12", map[string]any{"body": map[string]any{"setpoint": 21}, "ttl": 300})
	got := decodeDeviceCommand(t, nextMsg(t, acCmds).Payload())
	if got.ID != ids[0] || string(got.Body) != `{"setpoint":21}` {
		t.Errorf("air conditioner got %+v", got)
	}
	pollUntil(t, "acknowledged command deleted", func() bool {
		_, r := rest.get("cmd-ac-12", ids[0])
		return r.status == http.StatusNotFound
	})
	// The status record follows the deletion.
	var results []message
	pollUntil(t, "status record in cmd-results", func() bool {
		results = rest.listAll("cmd-results", "echo=true")
		return len(results) > 0
	})
	if len(results) != 1 || !strings.Contains(string(results[0].Body), `"id":"`+ids[0]+`"`) ||
		!strings.Contains(string(results[0].Body), `"via":"puback"`) {
		t.Errorf("results queue: %s", results[0].Body)
	}

	// An offline thermostat: the command waits in its queue, then arrives when the thermostat connects.
	thIDs := rest.post("cmd-th-7", map[string]any{"body": map[string]any{"mode": "eco"}, "ttl": 600})
	th := mustV3(t, s.mqtt, "th-7", mintToken(t, env, "th-7", "device"))
	if got := decodeDeviceCommand(t, nextMsg(t, subscribeChan(t, th, "devices/th-7/commands")).Payload()); got.ID != thIDs[0] {
		t.Errorf("thermostat got %+v, want %s", got, thIDs[0])
	}

	// Devices stay in their own topics (MQTT 5 shows the reason codes).
	dev, _, err := v5Connect(t, s.mqtt, "ac-13", mintToken(t, env, "ac-13", "device"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), mqttWait)
	defer cancel()
	if pr, _ := dev.Publish(ctx, &paho.Publish{Topic: "devices/ac-12/telemetry", QoS: 1, Payload: []byte(`{}`)}); pr == nil || pr.ReasonCode != 0x87 {
		t.Errorf("publish to another device's topic: %+v", pr)
	}
	if sa, _ := dev.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "devices/ac-12/commands", QoS: 1}}}); sa == nil || sa.Reasons[0] != 0x87 {
		t.Errorf("subscribe to another device's commands: %+v", sa)
	}
	if sa, _ := dev.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "devices/+/commands", QoS: 1}}}); sa == nil || sa.Reasons[0] != 0x87 {
		t.Errorf("subscribe to every device's commands: %+v", sa)
	}

	// Bad tokens never get a session.
	if _, err := v3Device(t, s.mqtt, "ac-12", "not.a.token"); err == nil {
		t.Error("3.1.1 CONNECT with a bad token accepted")
	}
	forged := mintToken(t, []string{"ZEDGE_JWT_SECRET=another-secret-of-at-least-thirty-two-bytes", "ZEDGE_DATA_DIR=" + t.TempDir()}, "ac-12", "device")
	if _, ca, err := v5Connect(t, s.mqtt, "ac-12", forged); err == nil || ca == nil || ca.ReasonCode != 0x86 {
		t.Errorf("MQTT 5 CONNECT with a token signed by another key: %v %+v", err, ca)
	}
}

// A device that never acknowledges gets its command again after each claim expiry, until the queue's
// _max_claim_count moves it to the dead-letter queue, all visible over REST.
func TestMQTTCommandDeadLetteredE2E(t *testing.T) {
	t.Parallel()
	s, env := mqttServer(t, shortTTLConfig+`
mqtt:
  commands:
    claim_ttl: 1s
    claim_grace: 1s
`)
	rest := newClient(t, s, "campus")
	rest.hc = &http.Client{Transport: tokenTransport{mintToken(t, env, "ops", "admin")}}
	rest.do("PUT", "/v2/queues/cmd-ac-9", map[string]any{"_max_claim_count": 2, "_dead_letter_queue": "cmd-dead"}).expect(t, 201)
	ac := mustV3(t, s.mqtt, "ac-9", mintToken(t, env, "ac-9", "device"), func(o *pahov3.ClientOptions) { o.SetAutoAckDisabled(true) })
	cmds := subscribeChan(t, ac, "devices/ac-9/commands")
	ids := rest.post("cmd-ac-9", map[string]any{"body": map[string]any{"setpoint": 18}, "ttl": 300})
	for i := range 2 {
		if got := decodeDeviceCommand(t, nextMsg(t, cmds).Payload()); got.ID != ids[0] {
			t.Fatalf("delivery %d: %+v", i, got)
		}
	}
	pollUntil(t, "command dead-lettered", func() bool { return len(rest.list("cmd-dead", "echo=true")) == 1 })
	if left := rest.list("cmd-ac-9", "echo=true&include_claimed=true"); len(left) != 0 {
		t.Errorf("command still queued: %v", left)
	}
}

// SIGKILL in the middle of a telemetry stream from several sensors: after a restart on the same data
// directory, every reading that got a PUBACK is in its queue (the default durability is sync). A kill that
// happens to find no publish in flight proves nothing, so the stream is run again (after a restart) until one
// does, up to three times; every reading acknowledged in any attempt is checked at the end.
func TestMQTTKillMidStreamE2E(t *testing.T) {
	t.Parallel()
	s := startServer(t, serverOptions{env: []string{"ZEDGE_MQTT_PROJECT=campus"}})
	const sensors, killAfter, attempts = 8, 600, 3
	var (
		mu       sync.Mutex
		acked    = map[string][]int{} // queue → acknowledged sensor*1e6+seq
		total    int
		inFlight int
	)
	for attempt := range attempts {
		if attempt > 0 {
			t.Logf("attempt %d: no publish was in flight at the kill; restarting and streaming again", attempt)
			s = s.restart(t)
		}
		total = 0
		killed := make(chan struct{})
		var once sync.Once
		var wg sync.WaitGroup
		for i := range sensors {
			sensor := attempt*sensors + i
			c := mustV3(t, s.mqtt, fmt.Sprintf("s-%d", sensor), "")
			queue := fmt.Sprintf("telemetry-b%d", i%4)
			topic := fmt.Sprintf("sensors/b%d/r%d/temp", i%4, sensor)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for seq := 0; ; seq++ {
					tok := c.Publish(topic, 1, false, fmt.Sprintf(`{"sensor":%d,"seq":%d}`, sensor, seq))
					if !tok.WaitTimeout(mqttWait) || tok.Error() != nil {
						mu.Lock()
						inFlight++
						mu.Unlock()
						return
					}
					mu.Lock()
					acked[queue] = append(acked[queue], sensor*1_000_000+seq)
					total++
					n := total
					mu.Unlock()
					if n >= killAfter {
						once.Do(func() { s.kill(); close(killed) })
					}
					select {
					case <-killed:
						return
					default:
					}
				}
			}()
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		t.Logf("attempt %d: %d readings acknowledged before SIGKILL, %d publishes cut off", attempt, total, inFlight)
		if inFlight > 0 {
			break
		}
	}
	if inFlight == 0 {
		t.Fatalf("no publish was in flight at the kill in %d attempts; the test did not test anything", attempts)
	}
	s = s.restart(t)
	rest := newClient(t, s, "campus")
	for queue, want := range acked {
		stored := map[int]bool{}
		for _, m := range rest.listAll(queue, "echo=true") {
			var env struct {
				Payload struct{ Sensor, Seq int }
			}
			if err := json.Unmarshal(m.Body, &env); err != nil {
				t.Fatalf("%s: %s: %v", queue, m.Body, err)
			}
			stored[env.Payload.Sensor*1_000_000+env.Payload.Seq] = true
		}
		for _, k := range want {
			if !stored[k] {
				t.Errorf("%s: acknowledged reading sensor %d seq %d is missing after the restart", queue, k/1_000_000, k%1_000_000)
			}
		}
	}
	// The restarted broker takes readings again.
	c := mustV3(t, s.mqtt, "s-new", "")
	if err := waitToken(t, c.Publish("sensors/b0/r0/temp", 1, false, `{"after":"restart"}`)); err != nil {
		t.Fatal(err)
	}
}
