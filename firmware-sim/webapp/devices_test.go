package webapp_test

// A minimal campus of real device clients for the browser test: per office a thermostat and an air
// conditioner on MQTT (paho, device tokens) and a temperature sensor posting over a signed URL, sharing a
// simple thermal model of the room. The fleet engineer's simulator (package firmwaresim) does all of this
// at scale; this driver keeps the test independent of its progress.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	pahov3 "github.com/eclipse/paho.mqtt.golang"
	"github.com/google/uuid"

	"github.com/zedge-io/zedge/firmware-sim/webapp"
	"github.com/zedge-io/zedge/signing"
)

const outsideTemp = 27.0

// room is one office's thermal state.
type room struct {
	building, office string
	mu               sync.Mutex
	temp, setpoint   float64
	occupancy        int
}

// step advances the room by one tick: the AC pulls it to its setpoint, the outside and the occupants warm
// it, and a little noise keeps readings moving.
func (r *room) step(rng *rand.Rand) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.temp += 0.10*(r.setpoint-r.temp) + 0.02*(outsideTemp-r.temp) + 0.01*float64(r.occupancy) + (rng.Float64()-0.5)*0.06
}

func (r *room) snapshot() (temp, setpoint float64, occupancy int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return math.Round(r.temp*100) / 100, r.setpoint, r.occupancy
}

// receivedCommand is a command an AC took from its command topic.
type receivedCommand struct {
	Device, ID, Command, By string
	Setpoint                float64
}

// ownCampus is the driver: Site for the page, Commands for what the ACs received, Temperature for the rooms.
type ownCampus struct {
	site     webapp.Site
	rooms    map[string]*room
	commands chan receivedCommand
	mu       sync.Mutex
	errs     []error
}

func (c *ownCampus) fail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.errs) < 20 {
		c.errs = append(c.errs, err)
	}
}

func (c *ownCampus) errors() []error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]error(nil), c.errs...)
}

// Temperature is the simulated room's temperature now.
func (c *ownCampus) Temperature(office string) float64 {
	t, _, _ := c.rooms[office].snapshot()
	return t
}

// startOwnCampus connects buildings × offices rooms to zedge and runs them until the test ends.
func startOwnCampus(t *testing.T, z *zedgeProc, buildings, offices int) *ownCampus {
	t.Helper()
	c := &ownCampus{site: webapp.Site{Name: "Test campus"}, rooms: map[string]*room{}, commands: make(chan receivedCommand, 64)}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	stop := func() { cancel(); wg.Wait() }
	t.Cleanup(stop) // on a failed start; the one registered last runs first, before the devices disconnect
	for b := 1; b <= buildings; b++ {
		bid := fmt.Sprintf("b%d", b)
		building := webapp.Building{ID: bid, Name: fmt.Sprintf("Building %d", b)}
		postURL := signedPostURL(t, z, "readings-"+bid)
		for o := 1; o <= offices; o++ {
			oid := fmt.Sprintf("%s-f1-o%d", bid, o)
			office := webapp.Office{ID: oid, Name: fmt.Sprintf("Office %d.%d", b, o), Floor: "1",
				Thermostat: oid + "-th", ACs: []string{oid + "-ac1"}, Sensors: []string{oid + "-temp"}}
			building.Offices = append(building.Offices, office)
			r := &room{building: bid, office: oid, temp: 24 + float64(o)*0.4, setpoint: 22, occupancy: o % 3}
			c.rooms[oid] = r
			thermostat := c.connect(t, z, office.Thermostat)
			ac := c.connect(t, z, office.ACs[0])
			c.subscribeCommands(t, ac, office.ACs[0], r)
			rng := rand.New(rand.NewPCG(uint64(b), uint64(o)))
			wg.Add(1)
			go func() {
				defer wg.Done()
				c.run(ctx, r, rng, thermostat, office.Thermostat, ac, office.ACs[0], office.Sensors[0], postURL)
			}()
		}
		c.site.Buildings = append(c.site.Buildings, building)
	}
	t.Cleanup(stop)
	return c
}

// signedPostURL signs a URL that lets a sensor POST to the queue's messages, as `zedge sign` does.
func signedPostURL(t *testing.T, z *zedgeProc, queue string) string {
	t.Helper()
	path := "/v2/queues/" + queue + "/messages"
	su, err := z.urlRing.Sign(signing.URLGrant{Paths: []string{path}, Methods: []string{"POST"}, Project: testProject,
		Expires: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	q := su.Query()
	q.Set("project", testProject)
	return "http://" + z.http + path + "?" + q.Encode()
}

// connect connects a device with its own device token (MQTT 3.1.1: the password needs a username).
func (c *ownCampus) connect(t *testing.T, z *zedgeProc, device string) pahov3.Client {
	t.Helper()
	o := pahov3.NewClientOptions().AddBroker("tcp://" + z.mqtt).SetClientID(device).SetUsername(device).
		SetPassword(z.token(t, device, signing.RoleDevice)).SetProtocolVersion(4).SetCleanSession(true).
		SetAutoReconnect(false).SetConnectTimeout(20 * time.Second)
	cl := pahov3.NewClient(o)
	if tok := cl.Connect(); !tok.WaitTimeout(20*time.Second) || tok.Error() != nil {
		t.Fatalf("device %s: connect: %v", device, tok.Error())
	}
	t.Cleanup(func() { cl.Disconnect(100) })
	return cl
}

// subscribeCommands makes the AC apply set_setpoint commands to its room. paho acknowledges (PUBACK) when the
// handler returns, which is what the bridge takes as the acknowledgement.
func (c *ownCampus) subscribeCommands(t *testing.T, cl pahov3.Client, device string, r *room) {
	t.Helper()
	tok := cl.Subscribe("devices/"+device+"/commands", 1, func(_ pahov3.Client, m pahov3.Message) {
		var cmd struct {
			ID   string `json:"id"`
			Body struct {
				Command  string   `json:"command"`
				Setpoint *float64 `json:"setpoint"`
				By       string   `json:"by"`
			} `json:"body"`
		}
		if err := json.Unmarshal(m.Payload(), &cmd); err != nil || cmd.ID == "" {
			c.fail(fmt.Errorf("%s: undecodable command %s: %v", device, m.Payload(), err))
			return
		}
		rc := receivedCommand{Device: device, ID: cmd.ID, Command: cmd.Body.Command, By: cmd.Body.By}
		if cmd.Body.Command == "set_setpoint" && cmd.Body.Setpoint != nil {
			rc.Setpoint = *cmd.Body.Setpoint
			r.mu.Lock()
			r.setpoint = *cmd.Body.Setpoint
			r.mu.Unlock()
		}
		select {
		case c.commands <- rc:
		default:
		}
	})
	if !tok.WaitTimeout(20*time.Second) || tok.Error() != nil {
		t.Fatalf("%s: subscribe: %v", device, tok.Error())
	}
}

// run ticks the room and publishes: thermostat and AC telemetry every 400 ms, a sensor reading every 800 ms.
func (c *ownCampus) run(ctx context.Context, r *room, rng *rand.Rand, thermostat pahov3.Client, thID string,
	ac pahov3.Client, acID, sensor, postURL string) {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	hc := &http.Client{Timeout: 20 * time.Second}
	clientID := uuid.NewString()
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		r.step(rng)
		temp, sp, occ := r.snapshot()
		ts := time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
		if n%2 == 0 {
			power := math.Round(math.Max(0, temp-sp+0.5) * 600)
			c.publish(thermostat, thID, map[string]any{"type": "thermostat", "device": thID, "building": r.building,
				"office": r.office, "temperature": temp, "setpoint": sp, "occupancy": occ, "ts": ts})
			c.publish(ac, acID, map[string]any{"type": "ac", "device": acID, "building": r.building, "office": r.office,
				"mode": "cool", "setpoint": sp, "power_w": power, "ts": ts})
		}
		if n%4 == 1 {
			reading := map[string]any{"sensor": sensor, "kind": "temperature", "value": temp, "unit": "celsius",
				"building": r.building, "office": r.office, "ts": ts}
			body, _ := json.Marshal(map[string]any{"messages": []any{map[string]any{"ttl": 300, "body": reading}}})
			req, _ := http.NewRequestWithContext(ctx, "POST", postURL, bytes.NewReader(body))
			req.Header.Set("Client-ID", clientID)
			req.Header.Set("Content-Type", "application/json")
			resp, err := hc.Do(req)
			if err != nil {
				if ctx.Err() == nil {
					c.fail(fmt.Errorf("%s: post reading: %v", sensor, err))
				}
				continue
			}
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				c.fail(fmt.Errorf("%s: post reading over the signed URL: %s", sensor, resp.Status))
			}
		}
	}
}

func (c *ownCampus) publish(cl pahov3.Client, device string, payload map[string]any) {
	b, _ := json.Marshal(payload)
	tok := cl.Publish("devices/"+device+"/telemetry", 1, false, b)
	if !tok.WaitTimeout(20*time.Second) || tok.Error() != nil {
		c.fail(fmt.Errorf("%s: publish telemetry: %v", device, tok.Error()))
	}
}

// restGet reads a zedge REST resource with a token (for checks independent of the page).
func restGet(t *testing.T, z *zedgeProc, token, path string, query url.Values, out any) int {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+z.http+path+"?"+query.Encode(), nil)
	req.Header.Set("Client-ID", uuid.NewString())
	req.Header.Set("X-Project-ID", testProject)
	req.Header.Set("X-Auth-Token", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil && resp.StatusCode == 200 {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
	}
	return resp.StatusCode
}
