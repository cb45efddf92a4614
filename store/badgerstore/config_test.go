package badgerstore

import (
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig("/tmp/x").Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
	cases := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"no dir", func(c *Config) { c.Dir = "" }, "dir is required"},
		{"durability", func(c *Config) { c.Durability = "fast" }, `durability "fast"`},
		{"async without interval", func(c *Config) { c.Durability = DurabilityAsync; c.SyncInterval = 0 }, "sync_interval"},
		{"negative gc interval", func(c *Config) { c.GCInterval = -time.Second }, "gc_interval"},
		{"discard ratio 0", func(c *Config) { c.GCDiscardRatio = 0 }, "gc_discard_ratio"},
		{"discard ratio 1", func(c *Config) { c.GCDiscardRatio = 1 }, "gc_discard_ratio"},
		{"tiny memtable", func(c *Config) { c.MemTableSize = 1000 }, "mem_table_size"},
		{"huge value threshold", func(c *Config) { c.ValueThreshold = 2 << 20 }, "value_threshold"},
		{"value log file size", func(c *Config) { c.ValueLogFileSize = 4 << 30 }, "value_log_file_size"},
		{"block cache", func(c *Config) { c.BlockCacheSize = -1 }, "block_cache_size"},
		{"one compactor", func(c *Config) { c.NumCompactors = 1 }, "num_compactors"},
		{"reap interval", func(c *Config) { c.ReapInterval = 0 }, "reap_interval"},
		{"body memory max", func(c *Config) { c.BodyMemoryMax = -2 }, "body_memory_max"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := DefaultConfig("/tmp/x")
			c.change(&cfg)
			err := cfg.Validate()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Validate() = %v, want an error about %q", err, c.want)
			}
		})
	}
	// Sync mode does not need a sync interval; GC can be turned off.
	cfg := DefaultConfig("/tmp/x")
	cfg.SyncInterval, cfg.GCInterval = 0, 0
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
}
