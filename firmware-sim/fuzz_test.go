package firmwaresim

import (
	"math"
	"testing"
)

// FuzzDecodeDelivery: whatever arrives on a command topic, decoding never panics, an accepted command is
// either applied within bounds or rejected with a reason, and the room stays physical.
func FuzzDecodeDelivery(f *testing.F) {
	f.Add([]byte(`{"id":"0000000000000007","body":{"command":"set_setpoint","setpoint":21.5,"by":"app"},"ttl":300,"age":0}`))
	f.Add([]byte(`{"id":"1","body":{"command":"set_mode","mode":"off"}}`))
	f.Add([]byte(`{"id":"1","body":"set_setpoint"}`))
	f.Add([]byte(`{"id":"","body":{}}`))
	f.Add([]byte(`{"id":"1","body":{"command":"set_setpoint","setpoint":1e400}}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		env, cmd, err := decodeDelivery(payload)
		if env.ID == "" && err == nil {
			t.Fatalf("no id and no error for %q", payload)
		}
		if err != nil {
			return
		}
		r := testRoom(1)
		ac := &device{id: "b1-f1-o1-ac1", typ: TypeAC, room: r}
		status, why := ac.apply(cmd)
		switch status {
		case "applied":
			a := r.view().acs[0]
			if a.setpoint < MinSetpoint || a.setpoint > MaxSetpoint || math.IsNaN(a.setpoint) || (a.mode != "cool" && a.mode != "off") {
				t.Fatalf("applied %+v and got %+v", cmd, a)
			}
		case "rejected":
			if why == "" {
				t.Fatalf("rejected %+v without a reason", cmd)
			}
		default:
			t.Fatalf("status %q", status)
		}
	})
}

// FuzzParse: any scenario text either fails with ErrConfig or gives a config that validates and lays out
// exactly the devices it counts.
func FuzzParse(f *testing.F) {
	f.Add([]byte("buildings: 3\nfloors: 2\noffices_per_floor: 4\n"))
	f.Add([]byte("office: {thermostats: 0, acs: 1, sensors: [co2]}\noffices: 3\n"))
	f.Add([]byte("firmware: {flaky_fraction: 0.5, flaky_mean_uptime: 1s}\n"))
	f.Add([]byte("directive: {at: 0s}\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		cfg, err := Parse(raw)
		if err != nil {
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("Parse accepted what Validate refuses: %v", err)
		}
		if cfg.OfficeCount() > 5000 {
			return // laying out a huge campus proves nothing more
		}
		l := BuildLayout(cfg)
		if got := l.MQTTDevices() + l.Sensors(); got != cfg.Devices() {
			t.Fatalf("layout has %d devices, config counts %d", got, cfg.Devices())
		}
	})
}
