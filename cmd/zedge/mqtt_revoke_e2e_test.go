package main

// End-to-end test of the bridge's re-check of connected clients' tokens: `zedge revoke`, run as its own process
// against the data directory of a running zedge, ends the MQTT connections of the revoked subjects and only
// theirs.

import (
	"context"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	pahov3 "github.com/eclipse/paho.mqtt.golang"
)

// v5Watched connects an MQTT 5 device with v5Connect and also returns the DISCONNECT the server sends it, if
// any.
func v5Watched(t *testing.T, addr, clientID, token string) (*paho.Client, <-chan *paho.Disconnect) {
	t.Helper()
	disconnects := make(chan *paho.Disconnect, 1)
	c, ca, err := v5Connect(t, addr, clientID, token, func(cfg *paho.ClientConfig) {
		cfg.OnServerDisconnect = func(d *paho.Disconnect) {
			select {
			case disconnects <- d:
			default:
			}
		}
	})
	if err != nil {
		t.Fatalf("connect %s: %v %+v", clientID, err, ca)
	}
	return c, disconnects
}

// Two MQTT 5 devices and one MQTT 3.1.1 device are connected with their own device tokens; `zedge revoke
// -subject` for one v5 device and the 3.1.1 device ends exactly those two connections (DISCONNECT 0x87 "token
// revoked" for MQTT 5, a closed connection for 3.1.1), the other v5 device keeps publishing, the revoked token
// is refused at its next CONNECT, and /metrics counts the two drops.
func TestMQTTRevokeDisconnectsE2E(t *testing.T) {
	t.Parallel()
	s, env := mqttServer(t, "")
	const deviceA, deviceB, deviceC = "ac-21", "ac-22", "th-23"
	tokenA := mintToken(t, env, deviceA, "device")

	a, aDisconnects := v5Watched(t, s.mqtt, deviceA, tokenA)
	b, bDisconnects := v5Watched(t, s.mqtt, deviceB, mintToken(t, env, deviceB, "device"))
	cLost := make(chan error, 1)
	mustV3(t, s.mqtt, deviceC, mintToken(t, env, deviceC, "device"), func(o *pahov3.ClientOptions) {
		o.SetConnectionLostHandler(func(_ pahov3.Client, err error) {
			select {
			case cLost <- err:
			default:
			}
		})
	})

	// All three are live before the revocation: a drop seen later is the revocation's.
	ctx, cancel := context.WithTimeout(context.Background(), mqttWait)
	defer cancel()
	for name, dev := range map[string]*paho.Client{deviceA: a, deviceB: b} {
		if pr, err := dev.Publish(ctx, &paho.Publish{Topic: "sensors/b1/r101/temp", QoS: 1, Payload: []byte(`{"c":21.5}`)}); err != nil || pr.ReasonCode != 0 {
			t.Fatalf("%s telemetry before the revocation: %v %+v", name, err, pr)
		}
	}
	select {
	case err := <-cLost:
		t.Fatalf("%s lost its connection before any revocation: %v", deviceC, err)
	default:
	}

	zedgeOK(t, env, "revoke", "-subject", deviceA, "-reason", "air conditioner replaced")
	zedgeOK(t, env, "revoke", "-subject", deviceC, "-reason", "thermostat replaced")

	wantRevokedDisconnect(t, aDisconnects, deviceA+" (MQTT 5), its subject revoked,")
	select {
	case <-cLost:
	case <-time.After(mqttWait):
		t.Fatalf("%s (MQTT 3.1.1) kept its connection after its subject was revoked", deviceC)
	}

	// Device B was checked in the same sweeps and stays: its telemetry is still acknowledged.
	if pr, err := b.Publish(ctx, &paho.Publish{Topic: "sensors/b1/r101/temp", QoS: 1, Payload: []byte(`{"c":22}`)}); err != nil || pr.ReasonCode != 0 {
		t.Fatalf("%s telemetry after the others' revocation: %v %+v", deviceB, err, pr)
	}
	select {
	case d := <-bDisconnects:
		t.Fatalf("%s, never revoked, got DISCONNECT %#x", deviceB, d.ReasonCode)
	default:
	}

	// The revoked token gets no new session.
	if _, ca, err := v5Connect(t, s.mqtt, deviceA, tokenA); err == nil || ca == nil || ca.ReasonCode != 0x86 {
		t.Errorf("%s reconnecting with its revoked token: %v %+v, want CONNACK 0x86", deviceA, err, ca)
	}

	// Metrics are on in this harness (open in jwt mode): both drops are counted, as revocations.
	dropped := map[string]string{"event": "connection.dropped.token_revoked"}
	pollUntil(t, "two token_revoked drops counted", func() bool {
		return sample(scrape(t, s), "zedge_mqtt_events_total", dropped) >= 2
	})
	fams := scrape(t, s)
	if got := sample(fams, "zedge_mqtt_events_total", dropped); got != 2 {
		t.Errorf("connection.dropped.token_revoked = %v, want 2 (devices %s and %s)", got, deviceA, deviceC)
	}
	if got := sample(fams, "zedge_mqtt_events_total", map[string]string{"event": "connection.dropped.token_expired"}); got != 0 {
		t.Errorf("connection.dropped.token_expired = %v, want 0", got)
	}
}

// wantRevokedDisconnect waits for the DISCONNECT an MQTT 5 client gets when its token is revoked while it is
// connected: 0x87 "token revoked".
func wantRevokedDisconnect(t *testing.T, disconnects <-chan *paho.Disconnect, who string) {
	t.Helper()
	select {
	case d := <-disconnects:
		reason := ""
		if d.Properties != nil {
			reason = d.Properties.ReasonString
		}
		if d.ReasonCode != 0x87 || reason != "token revoked" {
			t.Errorf("%s got DISCONNECT %#x %q, want 0x87 \"token revoked\"", who, d.ReasonCode, reason)
		}
	case <-time.After(mqttWait):
		t.Fatalf("%s got no DISCONNECT", who)
	}
}
