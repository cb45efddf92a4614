package app

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/zedge-io/zedge/bridge"
	"github.com/zedge-io/zedge/broker"
	"github.com/zedge-io/zedge/broker/httpapi"
)

// Environment variables of the MQTT listener.
const (
	// EnvMQTTAddr sets mqtt.addr (default 127.0.0.1:1883; 127.0.0.1:0 picks a free port).
	EnvMQTTAddr = "ZEDGE_MQTT_ADDR"
	// EnvMQTTProject sets mqtt.default_project, the project of every MQTT client when auth.mode is none.
	EnvMQTTProject = "ZEDGE_MQTT_PROJECT"
)

// applyMQTTEnv sets the options named by the MQTT variables (get reports unset and empty alike as absent).
func applyMQTTEnv(cfg *Config, get func(string) (string, bool)) {
	if v, ok := get(EnvMQTTAddr); ok {
		cfg.MQTT.Addr = v
	}
	if v, ok := get(EnvMQTTProject); ok {
		cfg.MQTT.DefaultProject = v
	}
}

// bridgeConfig is the bridge's whole configuration: the mqtt section, the rules of the bridge section, and
// the auth mode the HTTP API uses too (the two never disagree).
func (c Config) bridgeConfig() bridge.Config {
	m := c.MQTT
	m.Rules = c.Bridge
	m.Auth = bridge.AuthNone
	if c.Auth.Mode == httpapi.AuthJWT {
		m.Auth = bridge.AuthJWT
	}
	return m
}

// newMQTT builds the MQTT bridge over svc; New starts it once the HTTP listener is bound, so that a port in
// use fails New. In jwt mode MQTT passwords are verified with the token keys and the revocation list of the
// HTTP API.
func (a *App) newMQTT(svc *broker.Service, log *slog.Logger) error {
	bcfg := a.cfg.bridgeConfig()
	var verifier bridge.Verifier
	if bcfg.Auth == bridge.AuthJWT {
		keys, err := a.cfg.Signing.TokenKeys()
		if err != nil {
			return fmt.Errorf("mqtt: %w", err)
		}
		verifier = bridge.TokenVerifier{Keys: keys, Leeway: a.cfg.Signing.Token.Leeway, Revoked: a.revoked.TokenRevoked}
	}
	b, err := bridge.New(svc, bcfg, verifier, log)
	if err != nil {
		return fmt.Errorf("mqtt: %w", err)
	}
	a.mqtt = b
	return nil
}

// MQTTAddr is the address the MQTT listener is bound to.
func (a *App) MQTTAddr() string { return a.mqtt.Addr() }

// Bridge is the MQTT bridge (its counters, for tests and a later metrics exporter).
func (a *App) Bridge() *bridge.Bridge { return a.mqtt }

// stopMQTT disconnects the MQTT clients and waits for the publishes being stored and the commands being
// delivered, before the store is closed.
func (a *App) stopMQTT(ctx context.Context) error {
	if a.mqtt == nil {
		return nil
	}
	if err := a.mqtt.Shutdown(ctx); err != nil {
		return fmt.Errorf("mqtt shutdown: %w", err)
	}
	return nil
}

// defaultMQTTConfig is the bridge's default mqtt section. Its auth mode and rules come from other sections
// (bridgeConfig), so they are left empty here, as the YAML leaves them.
func defaultMQTTConfig() bridge.Config {
	m := bridge.DefaultConfig()
	m.Auth = ""
	m.Rules = bridge.Rules{}
	return m
}
