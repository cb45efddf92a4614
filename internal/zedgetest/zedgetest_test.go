package zedgetest

import (
	"net/http"
	"os"
	"strings"
	"testing"
)

func TestMain(m *testing.M) { Main(m) }

// A started zedge serves; a killed one does not; a restarted one serves again on the same addresses, with
// the same data directory and configuration.
func TestStartKillRestart(t *testing.T) {
	s := Start(t, Options{Env: []string{"ZEDGE_LOG_LEVEL=info"}, Config: "http:\n  admin_mode: true\n"})
	if s.HTTP == "" || s.MQTT == "" || s.WS == "" {
		t.Fatalf("addresses %q %q %q", s.HTTP, s.MQTT, s.WS)
	}
	healthy := func() bool {
		resp, err := http.Get("http://" + s.HTTP + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}
	if !healthy() {
		t.Fatal("a started zedge does not answer /healthz")
	}
	if _, err := os.Stat(s.ReadyFile); err != nil {
		t.Errorf("ready file: %v", err)
	}
	if _, err := os.Stat(s.DataDir); err != nil {
		t.Errorf("data dir: %v", err)
	}
	addrs := s.HTTP + s.MQTT + s.WS
	s.Kill()
	if healthy() {
		t.Fatal("a killed zedge still answers")
	}
	s.Restart()
	if got := s.HTTP + s.MQTT + s.WS; got != addrs || !healthy() {
		t.Fatalf("after restart: %s (was %s), healthy %v", got, addrs, healthy())
	}
	s.Stop()
	s.Stop() // stopping twice does nothing
	if !strings.Contains(s.Logs(), "zedge ready") {
		t.Errorf("the log has no ready line:\n%s", s.Logs())
	}
}
