package firmwaresim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/zedge-io/zedge/sensors"
)

// Options say where zedge is and which credentials the sim may use.
type Options struct {
	// HTTP is zedge's REST base URL, e.g. http://127.0.0.1:8888 (no /v2).
	HTTP string
	// MQTT is zedge's MQTT listener, host:port.
	MQTT string
	// Project overrides Config.Project when set (with auth none it must be zedge's mqtt.default_project).
	Project string
	// JWTSecret is zedge's HS256 token secret (ZEDGE_JWT_SECRET) in auth jwt mode: the sim mints device
	// tokens (role device, subject = device id) and its operator token (role member). Empty: auth none.
	JWTSecret string
	// SigningKey is zedge's URL-signing secret (ZEDGE_SIGNING_KEY): the sim signs the sensors' URLs itself.
	// Empty: it asks zedge's share API for them with its operator credentials.
	SigningKey string
	// CredentialTTL is the lifetime of minted tokens and signed URLs (default 24h).
	CredentialTTL time.Duration
	// Logger gets the sim's errors at debug level and its milestones at info; nil discards.
	Logger *slog.Logger
	// Ready, when not nil, is closed once every MQTT device has connected and subscribed for the first time.
	Ready chan struct{}
}

// ErrAlreadyRun: Run was called twice on one Sim.
var ErrAlreadyRun = errors.New("firmwaresim: Run called twice")

// Sim is one campus run against one zedge.
type Sim struct {
	cfg    Config
	opts   Options
	layout Layout
	log    *slog.Logger
	creds  *credentials

	rooms   map[string]*room
	devices []*device
	byID    map[string]*device
	sensors []*sensorDev

	started   atomic.Bool
	startTime atomic.Pointer[time.Time]

	telemetry *flow
	readings  *flow
	commands  *commandLog

	connected         atomic.Int64
	connects          atomic.Int64
	reconnects        atomic.Int64
	connectFailures   atomic.Int64
	flakyDrops        atomic.Int64
	offlineSpells     atomic.Int64
	duplicateCommands atomic.Int64
	replyFailures     atomic.Int64
	errCount          atomic.Int64

	mu            sync.Mutex
	errSamples    []string
	processedIDs  map[string]struct{} // telemetry identities the controller processed
	processedMsgs int64               // telemetry messages the controller deleted
	energy        energyAccount
}

type energyAccount struct {
	beforeKWh, afterKWh, beforeH, afterH float64
}

// New lays out the campus and prepares its devices; nothing connects before Run.
func New(cfg Config, opts Options) (*Sim, error) {
	if opts.Project != "" {
		cfg.Project = opts.Project
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts.HTTP == "" || opts.MQTT == "" {
		return nil, fmt.Errorf("%w: Options.HTTP and Options.MQTT are required", ErrConfig)
	}
	opts.HTTP = strings.TrimRight(opts.HTTP, "/")
	if opts.CredentialTTL <= 0 {
		opts.CredentialTTL = 24 * time.Hour
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	creds, err := newCredentials(opts, cfg.Project, opts.CredentialTTL)
	if err != nil {
		return nil, err
	}
	s := &Sim{cfg: cfg, opts: opts, layout: BuildLayout(cfg), log: log, creds: creds,
		rooms: map[string]*room{}, byID: map[string]*device{},
		telemetry: newFlow(), readings: newFlow(), commands: newCommandLog(), processedIDs: map[string]struct{}{}}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
	skew := func() time.Duration {
		if cfg.Firmware.ClockSkew <= 0 {
			return 0
		}
		return time.Duration(rng.Int64N(2*int64(cfg.Firmware.ClockSkew)+1)) - cfg.Firmware.ClockSkew
	}
	for _, b := range s.layout.Buildings {
		for _, o := range b.Offices {
			r := newRoom(o.ID, b.ID, o.ACs, cfg, rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64())))
			// Settle the room at the comfort setpoint first, so that the energy before the directive is the
			// campus's steady state rather than its first cool-down.
			r.step(burnIn)
			s.rooms[o.ID] = r
			ids := o.ACs
			if o.Thermostat != "" {
				ids = append([]string{o.Thermostat}, o.ACs...)
			}
			for _, id := range ids {
				typ := TypeAC
				if id == o.Thermostat {
					typ = TypeThermostat
				}
				d := &device{sim: s, id: id, typ: typ, building: b.ID, officeID: o.ID, room: r,
					persistent: rng.Float64() < cfg.Firmware.PersistentFraction,
					flaky:      rng.Float64() < cfg.Firmware.FlakyFraction,
					skew:       skew(), seen: map[string]struct{}{}}
				s.devices = append(s.devices, d)
				s.byID[id] = d
			}
			for _, sn := range o.Sensors {
				s.sensors = append(s.sensors, &sensorDev{sim: s, id: sn.ID, kind: sn.Kind, building: b.ID,
					officeID: o.ID, room: r, skew: skew()})
			}
		}
	}
	return s, nil
}

// Layout is the campus, available from New on.
func (s *Sim) Layout() Layout { return s.layout }

// Config is the scenario as run (after Options.Project).
func (s *Sim) Config() Config { return s.cfg }

func (s *Sim) errorf(format string, a ...any) {
	s.errCount.Add(1)
	msg := fmt.Sprintf(format, a...)
	s.log.Debug("sim error", "error", msg)
	s.mu.Lock()
	if len(s.errSamples) < 20 {
		s.errSamples = append(s.errSamples, msg)
	}
	s.mu.Unlock()
}

func (s *Sim) processed(ids []string, messages int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		s.processedIDs[id] = struct{}{}
	}
	s.processedMsgs += int64(messages)
}

// directiveActive reports whether "go green" is in force.
func (s *Sim) directiveActive() bool {
	st := s.startTime.Load()
	return st != nil && s.cfg.Directive.At > 0 && time.Since(*st) >= s.cfg.Directive.At
}

// Snapshot is the sim's live counters.
type Snapshot struct {
	Devices           int           `json:"devices"`
	DevicesConnected  int64         `json:"devices_connected"`
	Sensors           int           `json:"sensors"`
	TelemetrySent     int64         `json:"telemetry_sent"`
	TelemetryAcked    int64         `json:"telemetry_acked"`
	ReadingsSent      int64         `json:"readings_sent"`
	ReadingsAcked     int64         `json:"readings_acked"`
	CommandsSent      int64         `json:"commands_sent"`
	CommandsDelivered int64         `json:"commands_delivered"`
	CommandsAcked     int64         `json:"commands_acked"`
	Errors            int64         `json:"errors"`
	DirectiveActive   bool          `json:"directive_active"`
	Elapsed           time.Duration `json:"elapsed_ns"`
}

// Stats returns the live counters; safe at any time.
func (s *Sim) Stats() Snapshot {
	sent, delivered, acked := s.commands.counts()
	snap := Snapshot{Devices: len(s.devices), DevicesConnected: s.connected.Load(), Sensors: len(s.sensors),
		TelemetrySent: s.telemetry.sent.Load(), TelemetryAcked: s.telemetry.acked.Load(),
		ReadingsSent: s.readings.sent.Load(), ReadingsAcked: s.readings.acked.Load(),
		CommandsSent: sent, CommandsDelivered: delivered, CommandsAcked: acked, Errors: s.errCount.Load(),
		DirectiveActive: s.directiveActive()}
	if st := s.startTime.Load(); st != nil {
		snap.Elapsed = time.Since(*st)
	}
	return snap
}

// OfficeState is an office's simulated room.
type OfficeState struct {
	ID          string        `json:"id"`
	Building    string        `json:"building"`
	Temperature float64       `json:"temperature"`
	Setpoint    float64       `json:"setpoint"`
	OutsideTemp float64       `json:"outside_temp"`
	Occupancy   int           `json:"occupancy"`
	ACPowerW    float64       `json:"ac_power_w"`
	Devices     []DeviceState `json:"devices"`
}

// OfficeState returns an office's room and devices; false for an unknown office.
func (s *Sim) OfficeState(id string) (OfficeState, bool) {
	r, ok := s.rooms[id]
	if !ok {
		return OfficeState{}, false
	}
	v := r.view()
	os := OfficeState{ID: id, Building: r.building, Temperature: v.temp, Setpoint: v.target, OutsideTemp: v.outside,
		Occupancy: v.occupancy, ACPowerW: v.totalACW}
	for _, d := range s.devices {
		if d.officeID == id {
			os.Devices = append(os.Devices, d.state())
		}
	}
	return os, true
}

// DeviceState returns a thermostat's or AC's state; false for an unknown device.
func (s *Sim) DeviceState(id string) (DeviceState, bool) {
	d, ok := s.byID[id]
	if !ok {
		return DeviceState{}, false
	}
	return d.state(), true
}

// burnIn is the simulated time a room runs before the campus starts.
const burnIn = 3 * time.Hour

// physicsTick is how often the rooms are advanced.
const physicsTick = 200 * time.Millisecond

func (s *Sim) runPhysics(live context.Context) {
	t := time.NewTicker(physicsTick)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-live.Done():
			return
		case now := <-t.C:
			simDT := time.Duration(float64(now.Sub(last)) * s.cfg.TimeScale)
			last = now
			kWh := 0.0
			for _, r := range s.rooms {
				kWh += r.step(simDT)
			}
			s.mu.Lock()
			if s.directiveActive() {
				s.energy.afterKWh += kWh
				s.energy.afterH += simDT.Hours()
			} else {
				s.energy.beforeKWh += kWh
				s.energy.beforeH += simDT.Hours()
			}
			s.mu.Unlock()
		}
	}
}

// Run runs the campus until ctx ends, then drains (devices flush what they hold and stay connected until
// every command the controller sent is acknowledged, at most Config.DrainTimeout), verifies the counts over
// REST and returns the report. An error means the run could not start (credentials, signed URLs).
func (s *Sim) Run(ctx context.Context) (*Report, error) {
	if !s.started.CompareAndSwap(false, true) {
		return nil, ErrAlreadyRun
	}
	start := time.Now()
	s.startTime.Store(&start)
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 128,
		IdleConnTimeout: 30 * time.Second}}
	defer hc.CloseIdleConnections()
	opToken, err := s.creds.token("zedge-sim-operator", "member")
	if err != nil {
		return nil, fmt.Errorf("operator token: %w", err)
	}
	rest := &restClient{base: s.opts.HTTP, project: s.cfg.Project, token: opToken, clientID: uuid.NewString(), hc: hc}

	clients := map[string]*sensors.Client{}
	for _, b := range s.layout.Buildings {
		u, err := s.creds.readingsURL(ctx, rest, b.ID)
		if err != nil {
			return nil, err
		}
		sc := sensors.DefaultConfig()
		sc.URL, sc.TTL, sc.MaxBatch = u, s.cfg.ReadingTTL, sensorBatch
		sc.MaxBackoff = 2 * time.Second
		c, err := sensors.NewClient(sc, sensors.WithHTTPClient(hc), sensors.WithLogger(s.log))
		if err != nil {
			return nil, err
		}
		clients[b.ID] = c
	}
	for _, d := range s.devices {
		tok, err := s.creds.token(d.id, "device")
		if err != nil {
			return nil, fmt.Errorf("device token: %w", err)
		}
		d.token = tok
	}

	gen, stopGen := context.WithCancel(context.Background())
	live, stopLive := context.WithCancel(context.Background())
	defer stopGen()
	defer stopLive()
	var wg, physics sync.WaitGroup
	physics.Add(2)
	go func() { defer physics.Done(); s.runPhysics(live) }()
	go func() { defer physics.Done(); s.watchResults(live, rest) }()
	seed := rand.New(rand.NewPCG(s.cfg.Seed, 0xd1ce))
	newRNG := func() *rand.Rand { return rand.New(rand.NewPCG(seed.Uint64(), seed.Uint64())) }
	for _, d := range s.devices {
		wg.Add(2)
		connRNG, sendRNG := newRNG(), newRNG()
		go func() { defer wg.Done(); d.runConn(gen, live, connRNG) }()
		go func() { defer wg.Done(); d.runSender(gen, live, sendRNG) }()
	}
	for _, sn := range s.sensors {
		sn.client = clients[sn.building]
		wg.Add(1)
		r := newRNG()
		go func() { defer wg.Done(); sn.run(gen, live, r) }()
	}
	var ctrlWG sync.WaitGroup
	if s.cfg.Controller.Enabled {
		ctl := newController(s, rest)
		for range s.cfg.Controller.Workers {
			ctrlWG.Add(1)
			go func() { defer ctrlWG.Done(); ctl.claimLoop(gen) }()
		}
		ctrlWG.Add(1)
		go func() { defer ctrlWG.Done(); ctl.decideLoop(gen) }()
	}
	if s.opts.Ready != nil {
		go func() {
			for s.connected.Load() < int64(len(s.devices)) {
				select {
				case <-gen.Done():
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
			close(s.opts.Ready)
		}()
	}
	s.log.Info("campus running", "devices", len(s.devices), "sensors", len(s.sensors), "offices", len(s.rooms))

	<-ctx.Done()
	runFor := time.Since(start)
	s.log.Info("draining", "after", runFor)
	stopGen()
	ctrlWG.Wait()
	deadline := time.Now().Add(s.cfg.DrainTimeout)
	for time.Now().Before(deadline) {
		sent, _, acked := s.commands.counts()
		if s.pendingTelemetry() == 0 && s.pendingReadings() == 0 && acked == sent {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	stopLive()
	wg.Wait()
	physics.Wait()
	vctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	return s.report(vctx, rest, runFor, time.Since(start)), nil
}

func (s *Sim) pendingTelemetry() int64 {
	f := s.telemetry
	return f.sent.Load() - f.acked.Load() - f.dropped.Load() - f.rejected.Load()
}

func (s *Sim) pendingReadings() int64 {
	f := s.readings
	return f.sent.Load() - f.acked.Load() - f.dropped.Load() - f.rejected.Load()
}
