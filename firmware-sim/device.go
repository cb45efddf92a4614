package firmwaresim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	pahov3 "github.com/eclipse/paho.mqtt.golang"

	"github.com/zedge-io/zedge/sensors"
)

// connectGiveUp bounds one connection attempt (CONNACK and SUBACK) before the device starts over.
const connectGiveUp = 30 * time.Second

// publishWait is how long firmware waits for a PUBACK before it treats the publish as failed and sends it
// again (a duplicate at worst). It is device behaviour, not an assertion.
const publishWait = 10 * time.Second

// device is one thermostat or air conditioner: an MQTT client with a device token.
type device struct {
	sim        *Sim
	id, typ    string
	building   string
	officeID   string
	room       *room
	persistent bool
	flaky      bool
	skew       time.Duration
	token      string

	sess      atomic.Pointer[session] // the current connection attempt
	connected atomic.Bool
	epoch     atomic.Pointer[chan struct{}] // closed when the current connection ends

	failStreak int // publishes failed in a row (sender goroutine only)

	mu       sync.Mutex
	lastID   string
	lastBody json.RawMessage
	applied  int
	seen     map[string]struct{} // command ids received, for duplicates
}

type outItem struct {
	id      string
	payload []byte
	born    time.Time
}

func (d *device) topic(kind string) string { return "devices/" + d.id + "/" + kind }

// session is one paho client and its connection. Every connection attempt gets a fresh one: paho's client
// state machine refuses a Connect while an earlier disconnect or loss is still being wound down, and a
// client abandoned in such a state could hang a device for good. The broker-side session (clean or
// persistent) is keyed by the client id, so it carries over.
type session struct {
	client pahov3.Client
	conn   atomic.Pointer[cuttableConn]
	lost   chan struct{} // this connection ended without our asking
	up     chan struct{} // this connection is subscribed to its command topic
}

func (d *device) newSession() *session {
	s := &session{lost: make(chan struct{}, 1), up: make(chan struct{}, 1)}
	o := pahov3.NewClientOptions().AddBroker("tcp://" + d.sim.opts.MQTT).SetClientID(d.id).SetUsername(d.id).
		SetProtocolVersion(4).SetCleanSession(!d.persistent).SetAutoReconnect(false).SetConnectRetry(false).
		SetKeepAlive(30 * time.Second).SetConnectTimeout(10 * time.Second).SetWriteTimeout(10 * time.Second).
		SetOrderMatters(false).SetAutoAckDisabled(true).
		SetDefaultPublishHandler(d.onCommand).
		SetOnConnectHandler(func(c pahov3.Client) { d.onConnect(s, c) }).
		SetConnectionLostHandler(func(pahov3.Client, error) { d.onLost(s) })
	if d.token != "" {
		o.SetPassword(d.token)
	}
	// Our own dialer keeps the connection so that a flaky device can cut it without a DISCONNECT.
	o.SetCustomOpenConnectionFn(func(uri *url.URL, _ pahov3.ClientOptions) (net.Conn, error) {
		c, err := net.DialTimeout("tcp", uri.Host, 10*time.Second)
		if err != nil {
			return nil, err
		}
		cc := &cuttableConn{Conn: c}
		s.conn.Store(cc)
		return cc, nil
	})
	s.client = pahov3.NewClient(o)
	d.sess.Store(s)
	return s
}

// onConnect (re)subscribes to the command topic, also on a resumed persistent session: firmware cannot know
// whether the broker kept it.
func (d *device) onConnect(s *session, c pahov3.Client) {
	tok := c.Subscribe(d.topic("commands"), 1, d.onCommand)
	if !tok.WaitTimeout(publishWait) || tok.Error() != nil {
		d.sim.errorf("%s: subscribe: %v", d.id, tok.Error())
		s.cut()
		return
	}
	if d.sess.Load() != s {
		return // an abandoned attempt connected late
	}
	ch := make(chan struct{})
	d.epoch.Store(&ch)
	if d.connected.CompareAndSwap(false, true) {
		d.sim.connected.Add(1)
	}
	signal(s.up)
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

func (d *device) markDown() {
	if d.connected.CompareAndSwap(true, false) {
		d.sim.connected.Add(-1)
	}
	if ch := d.epoch.Swap(nil); ch != nil {
		close(*ch)
	}
}

func (d *device) onLost(s *session) {
	if d.sess.Load() == s {
		d.markDown()
	}
	signal(s.lost)
}

// cut closes the current connection abruptly, as a power glitch or a dead Wi-Fi would.
func (d *device) cut() {
	if s := d.sess.Load(); s != nil {
		s.cut()
	}
}

func (s *session) cut() {
	if c := s.conn.Load(); c != nil {
		c.cut()
	}
}

// errCut is what a cut connection reports. paho treats an error from a connection closed locally as its own
// orderly shutdown and would never notice the loss, so reads and writes report a reset instead.
var errCut = errors.New("connection reset (simulated fault)")

// cuttableConn is a TCP connection a flaky device can cut.
type cuttableConn struct {
	net.Conn
	isCut atomic.Bool
}

func (c *cuttableConn) cut() {
	c.isCut.Store(true)
	_ = c.Conn.Close()
}

func (c *cuttableConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	if c.isCut.Load() {
		return 0, errCut
	}
	return n, err
}

func (c *cuttableConn) Write(b []byte) (int, error) {
	if c.isCut.Load() {
		return 0, errCut
	}
	n, err := c.Conn.Write(b)
	if err != nil && c.isCut.Load() {
		return n, errCut
	}
	return n, err
}

func expDuration(rng *rand.Rand, mean time.Duration) time.Duration {
	return time.Duration(rng.ExpFloat64() * float64(mean))
}

// runConn owns the connection: connect with backoff, then wait for a loss, a flaky cut or an offline spell.
// Flakiness and offline spells stop when gen ends (the drain); live ending disconnects for good.
func (d *device) runConn(gen, live context.Context, rng *rand.Rand) {
	fw := d.sim.cfg.Firmware
	backoff := fw.BackoffMin
	for attempt := 0; live.Err() == nil; attempt++ {
		if attempt > 0 {
			d.sim.reconnects.Add(1)
		}
		s := d.newSession()
		tok := s.client.Connect()
		// paho bounds the network part of an attempt (SetConnectTimeout); this bounds the rest, and the
		// attempt's client is abandoned afterwards anyway.
		giveUp := time.NewTimer(connectGiveUp)
		ok := false
		select {
		case <-tok.Done():
			ok = tok.Error() == nil
		case <-live.Done():
		case <-giveUp.C:
		}
		if ok {
			// Connected once the command subscription is in place (onConnect).
			select {
			case <-s.up:
			case <-s.lost:
				ok = false
			case <-live.Done():
			case <-giveUp.C:
				ok = false
			}
		}
		giveUp.Stop()
		if live.Err() != nil {
			s.client.Disconnect(0)
			d.markDown()
			return
		}
		if !ok {
			d.sim.connectFailures.Add(1)
			if err := tok.Error(); err != nil {
				d.sim.errorf("%s: connect: %v", d.id, err)
			} else {
				d.sim.errorf("%s: connect: no CONNACK and SUBACK within %s", d.id, connectGiveUp)
			}
			go s.client.Disconnect(0)
			d.markDown()
			sleepCtx(live, time.Duration(rng.Int64N(int64(backoff)+1)))
			backoff = min(2*backoff, fw.BackoffMax)
			continue
		}
		backoff = fw.BackoffMin
		d.sim.connects.Add(1)
		var flaky, offline <-chan time.Time
		if gen.Err() == nil {
			if d.flaky {
				flaky = time.After(expDuration(rng, fw.FlakyMeanUptime))
			}
			if fw.OfflineProbability > 0 {
				offline = time.After(expDuration(rng, time.Duration(float64(d.sim.cfg.TelemetryInterval)/fw.OfflineProbability)))
			}
		}
	wait:
		for {
			select {
			case <-s.lost:
				// Reconnect after a short, jittered pause, as firmware does.
				sleepCtx(live, time.Duration(rng.Int64N(int64(fw.BackoffMin)+1)))
				break wait
			case <-flaky:
				d.sim.flakyDrops.Add(1)
				s.cut()
				flaky = nil
			case <-offline:
				d.sim.offlineSpells.Add(1)
				d.markDown()
				s.client.Disconnect(50)
				spell := expDuration(rng, fw.OfflineDuration)
				select {
				case <-time.After(spell):
				case <-gen.Done():
				case <-live.Done():
				}
				break wait
			case <-gen.Done():
				flaky, offline = nil, nil
				gen = context.Background() // only once
			case <-live.Done():
				d.markDown()
				s.client.Disconnect(250)
				return
			}
		}
	}
}

func drainChan(c chan struct{}) {
	select {
	case <-c:
	default:
	}
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// runSender samples at every telemetry tick into an outbox and publishes the outbox in order at QoS 1
// whenever connected. After gen ends it only flushes, until the outbox is empty or live ends.
func (d *device) runSender(gen, live context.Context, rng *rand.Rand) {
	runOutbox(gen, live, rng, outboxLoop[outItem]{
		interval: d.sim.cfg.TelemetryInterval, retry: 50 * time.Millisecond, limit: d.sim.cfg.Firmware.OutboxLimit,
		flow:   d.sim.telemetry,
		sample: func() outItem { return d.sample() },
		flush:  func(outbox []outItem) []outItem { return d.flush(live, outbox) },
		dropped: func(it outItem) {
			d.sim.errorf("%s: outbox full, oldest reading %s dropped", d.id, it.id)
		},
	})
}

// outboxLoop is what a device's send loop is made of (runOutbox).
type outboxLoop[T any] struct {
	interval, retry time.Duration // sampling interval; pause between flushes once gen has ended
	limit           int           // outbox size; past it the oldest item is dropped, loudly
	flow            *flow
	sample          func() T
	flush           func([]T) []T // sends what it can, oldest first; returns what is left
	dropped         func(T)
}

// runOutbox samples at every tick (the first after a random offset within one interval, so that devices do
// not report in step) into a bounded outbox and flushes it after each sample. After gen ends it only flushes,
// until the outbox is empty or live ends: what was sampled is sent or counted, never forgotten.
func runOutbox[T any](gen, live context.Context, rng *rand.Rand, l outboxLoop[T]) {
	var outbox []T
	sleepCtx(gen, time.Duration(rng.Int64N(int64(l.interval))))
	tick := time.NewTicker(l.interval)
	defer tick.Stop()
	for first := true; gen.Err() == nil; first = false {
		if !first {
			select {
			case <-gen.Done():
				continue
			case <-tick.C:
			}
		}
		outbox = append(outbox, l.sample())
		l.flow.sent.Add(1)
		if len(outbox) > l.limit {
			l.flow.dropped.Add(1)
			l.dropped(outbox[0])
			outbox = outbox[1:]
		}
		outbox = l.flush(outbox)
	}
	for len(outbox) > 0 && live.Err() == nil {
		outbox = l.flush(outbox)
		if len(outbox) > 0 {
			sleepCtx(live, l.retry)
		}
	}
}

// flush publishes the outbox head first while connected; it returns what is left.
func (d *device) flush(live context.Context, outbox []outItem) []outItem {
	f := d.sim.telemetry
	for len(outbox) > 0 && d.connected.Load() && live.Err() == nil {
		ep := d.epoch.Load()
		if ep == nil {
			return outbox
		}
		it := outbox[0]
		start := time.Now()
		f.attempts.Add(1)
		tok := d.sess.Load().client.Publish(d.topic("telemetry"), 1, false, it.payload)
		ok := false
		t := time.NewTimer(publishWait)
		select {
		case <-tok.Done():
			ok = tok.Error() == nil
		case <-*ep:
		case <-live.Done():
		case <-t.C:
		}
		t.Stop()
		if !ok {
			f.failures.Add(1)
			// A watchdog: publishes that keep failing on a connection paho still calls open mean the
			// connection is dead; cutting it makes the loss visible and starts a reconnect.
			if d.failStreak++; d.failStreak >= 3 {
				d.failStreak = 0
				d.cut()
			}
			return outbox
		}
		d.failStreak = 0
		f.ack(it.id, time.Since(start))
		outbox = outbox[1:]
	}
	return outbox
}

// sample is the device's telemetry now, exactly the agreed JSON.
func (d *device) sample() outItem {
	now := time.Now()
	ts := now.Add(d.skew).UTC().Format(sensors.TSLayout)
	v := d.room.view()
	b := make([]byte, 0, 200)
	b = append(b, `{"type":`...)
	b = strconv.AppendQuote(b, d.typ)
	b = append(b, `,"device":`...)
	b = strconv.AppendQuote(b, d.id)
	b = append(b, `,"building":`...)
	b = strconv.AppendQuote(b, d.building)
	b = append(b, `,"office":`...)
	b = strconv.AppendQuote(b, d.officeID)
	if d.typ == TypeThermostat {
		b = append(b, `,"temperature":`...)
		b = appendOneDecimal(b, v.temp)
		b = append(b, `,"setpoint":`...)
		b = appendOneDecimal(b, v.target)
		b = append(b, `,"occupancy":`...)
		b = strconv.AppendInt(b, int64(v.occupancy), 10)
	} else {
		var a acState
		for _, x := range v.acs {
			if x.id == d.id {
				a = x
			}
		}
		b = append(b, `,"mode":`...)
		b = strconv.AppendQuote(b, a.mode)
		b = append(b, `,"setpoint":`...)
		b = appendOneDecimal(b, a.setpoint)
		b = append(b, `,"power_w":`...)
		b = strconv.AppendInt(b, int64(math.Round(a.powerW)), 10)
	}
	b = append(b, `,"ts":"`...)
	b = append(b, ts...)
	b = append(b, `"}`...)
	return outItem{id: d.id + "@" + ts, payload: b, born: now}
}

func appendOneDecimal(b []byte, v float64) []byte {
	return strconv.AppendFloat(b, math.Round(v*10)/10, 'f', 1, 64)
}

// Command is the body of a message in cmd-{device}.
type Command struct {
	Command  string   `json:"command"`
	Setpoint *float64 `json:"setpoint,omitempty"`
	Mode     string   `json:"mode,omitempty"`
	By       string   `json:"by,omitempty"`
}

// delivery is what the bridge publishes on a command topic.
type delivery struct {
	ID   string          `json:"id"`
	Body json.RawMessage `json:"body"`
}

// decodeDelivery parses a delivered command. An empty env.ID means the delivery itself is unreadable; an
// error with an id means the body is not a command object (the device still acknowledges and replies).
func decodeDelivery(payload []byte) (env delivery, cmd Command, err error) {
	if err := json.Unmarshal(payload, &env); err != nil {
		return delivery{}, Command{}, err
	}
	if env.ID == "" {
		return env, Command{}, errors.New("delivery without id")
	}
	err = json.Unmarshal(env.Body, &cmd)
	return env, cmd, err
}

// Setpoint bounds a device accepts.
const (
	MinSetpoint = 10.0
	MaxSetpoint = 35.0
)

// onCommand applies a delivered command ({"id","body","ttl","age"}), acknowledges it (PUBACK) and replies on
// the ack topic with what was applied.
func (d *device) onCommand(c pahov3.Client, m pahov3.Message) {
	env, cmd, err := decodeDelivery(m.Payload())
	if env.ID == "" {
		d.sim.errorf("%s: undecodable command %q", d.id, m.Payload())
		m.Ack() // redelivering it would not make it decodable
		return
	}
	status, errText := "rejected", "body is not a command object"
	if err == nil {
		status, errText = d.apply(cmd)
	}
	d.mu.Lock()
	_, dup := d.seen[env.ID]
	d.seen[env.ID] = struct{}{}
	d.lastID, d.lastBody = env.ID, append(json.RawMessage(nil), env.Body...)
	if status == "applied" && !dup {
		d.applied++
	}
	d.mu.Unlock()
	d.sim.commands.deliveredTo(env.ID, cmd.By)
	if dup {
		d.sim.duplicateCommands.Add(1)
	}
	m.Ack()
	reply := map[string]any{"id": env.ID, "status": status}
	v := d.room.view()
	if d.typ == TypeThermostat {
		reply["setpoint"] = v.target
	} else {
		for _, a := range v.acs {
			if a.id == d.id {
				reply["setpoint"], reply["mode"] = a.setpoint, a.mode
			}
		}
	}
	if errText != "" {
		reply["error"] = errText
	}
	raw, _ := json.Marshal(reply)
	tok := c.Publish(d.topic("acks"), 1, false, raw)
	go func() {
		if !tok.WaitTimeout(publishWait) || tok.Error() != nil {
			d.sim.replyFailures.Add(1)
		}
	}()
}

func (d *device) apply(cmd Command) (status, errText string) {
	switch cmd.Command {
	case "set_setpoint":
		if cmd.Setpoint == nil || math.IsNaN(*cmd.Setpoint) || *cmd.Setpoint < MinSetpoint || *cmd.Setpoint > MaxSetpoint {
			return "rejected", fmt.Sprintf("setpoint must be a number within %v..%v", MinSetpoint, MaxSetpoint)
		}
		if d.typ == TypeThermostat {
			d.room.setTarget(*cmd.Setpoint)
		} else {
			d.room.setAC(d.id, cmd.Setpoint, "")
		}
	case "set_mode":
		if cmd.Mode != "cool" && cmd.Mode != "off" {
			return "rejected", `mode must be "cool" or "off"`
		}
		if d.typ == TypeThermostat {
			for _, a := range d.room.view().acs {
				d.room.setAC(a.id, nil, cmd.Mode)
			}
		} else {
			d.room.setAC(d.id, nil, cmd.Mode)
		}
	default:
		return "rejected", fmt.Sprintf("unknown command %q", cmd.Command)
	}
	return "applied", ""
}

// DeviceState is a thermostat's or air conditioner's state as the sim sees it.
type DeviceState struct {
	ID              string          `json:"id"`
	Type            string          `json:"type"`
	Office          string          `json:"office"`
	Connected       bool            `json:"connected"`
	Setpoint        float64         `json:"setpoint"`
	Mode            string          `json:"mode,omitempty"`
	PowerW          float64         `json:"power_w"`
	LastCommandID   string          `json:"last_command_id,omitempty"`
	LastCommand     json.RawMessage `json:"last_command,omitempty"`
	CommandsApplied int             `json:"commands_applied"`
}

func (d *device) state() DeviceState {
	v := d.room.view()
	s := DeviceState{ID: d.id, Type: d.typ, Office: d.officeID, Connected: d.connected.Load()}
	if d.typ == TypeThermostat {
		s.Setpoint = v.target
	}
	for _, a := range v.acs {
		if a.id == d.id {
			s.Setpoint, s.Mode, s.PowerW = a.setpoint, a.mode, a.powerW
		}
	}
	d.mu.Lock()
	s.LastCommandID, s.LastCommand, s.CommandsApplied = d.lastID, d.lastBody, d.applied
	d.mu.Unlock()
	return s
}
