package httpapi

import (
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for _, c := range []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"addr", func(c *Config) { c.Addr = "localhost" }, "http.addr"},
		{"mode", func(c *Config) { c.ClientIDMode = "lenient" }, "client_id_mode"},
		{"lengths", func(c *Config) { c.MinClientIDLength, c.MaxClientIDLength = 40, 36 }, "min_client_id_length"},
		{"timeouts", func(c *Config) { c.ReadTimeout = -time.Second }, "timeouts"},
		{"buffer", func(c *Config) { c.ReadBufferSize = 10 }, "read_buffer_size"},
		{"body", func(c *Config) { c.MaxBodySize = 0 }, "max_body_size"},
		{"conns", func(c *Config) { c.MaxConnsPerIP = -1 }, "max_conns_per_ip"},
	} {
		cfg := DefaultConfig()
		c.change(&cfg)
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

func TestConfigYAML(t *testing.T) {
	cfg := DefaultConfig()
	doc := "addr: 127.0.0.1:0\nadmin_mode: true\nclient_id_mode: off\nmin_client_id_length: 4\nread_timeout: 5s\nmax_body_size: 1024\n"
	if err := yaml.Unmarshal([]byte(doc), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:0" || !cfg.AdminMode || cfg.ClientIDMode != ClientIDOff || cfg.MinClientIDLength != 4 ||
		cfg.ReadTimeout != 5*time.Second || cfg.MaxBodySize != 1024 || cfg.MaxClientIDLength != 36 {
		t.Fatalf("decoded %+v", cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
}
