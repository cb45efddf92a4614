package badgerstore

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"gopkg.in/yaml.v3"
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
		{"negative commit defer", func(c *Config) { c.CommitDefer = -time.Millisecond }, "commit_defer"},
		{"commit defer above 1s", func(c *Config) { c.CommitDefer = 2 * time.Second }, "commit_defer"},
		{"negative gc interval", func(c *Config) { c.GCInterval = -time.Second }, "gc_interval"},
		{"discard ratio 0", func(c *Config) { c.GCDiscardRatio = 0 }, "gc_discard_ratio"},
		{"discard ratio 1", func(c *Config) { c.GCDiscardRatio = 1 }, "gc_discard_ratio"},
		{"tiny memtable", func(c *Config) { c.MemTableSize = 1000 }, "mem_table_size"},
		{"huge value threshold", func(c *Config) { c.ValueThreshold = 2 << 20 }, "value_threshold"},
		// Badger refuses to open with a value threshold above one transaction (15% of a memtable).
		{"value threshold above a transaction", func(c *Config) { c.MemTableSize, c.ValueThreshold = 1<<20, 512<<10 }, "value_threshold"},
		{"value log file size", func(c *Config) { c.ValueLogFileSize = 4 << 30 }, "value_log_file_size"},
		{"block cache", func(c *Config) { c.BlockCacheSize = -1 }, "block_cache_size"},
		{"one compactor", func(c *Config) { c.NumCompactors = 1 }, "num_compactors"},
		{"no level-0 tables", func(c *Config) { c.NumLevelZeroTables = 0 }, "num_level_zero_tables"},
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

// The app embeds Config under store.badger in its YAML; durations are written like "500ms".
func TestConfigYAML(t *testing.T) {
	cfg := DefaultConfig("./data")
	in := `
dir: /var/lib/zedge
durability: async
sync_interval: 250ms
commit_defer: 2ms
gc_interval: 10m
gc_discard_ratio: 0.7
mem_table_size: 16777216
value_threshold: 1024
value_log_file_size: 33554432
block_cache_size: 0
num_compactors: 3
num_level_zero_tables: 4
reap_interval: 2s
body_memory_max: -1
`
	if err := yaml.Unmarshal([]byte(in), &cfg); err != nil {
		t.Fatal(err)
	}
	want := Config{Dir: "/var/lib/zedge", Durability: DurabilityAsync, SyncInterval: 250 * time.Millisecond,
		CommitDefer: 2 * time.Millisecond,
		GCInterval:  10 * time.Minute, GCDiscardRatio: 0.7, MemTableSize: 16 << 20, ValueThreshold: 1024,
		ValueLogFileSize: 32 << 20, BlockCacheSize: 0, NumCompactors: 3, NumLevelZeroTables: 4, ReapInterval: 2 * time.Second,
		BodyMemoryMax: -1}
	if cfg != want {
		t.Fatalf("decoded %+v\nwant    %+v", cfg, want)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	// Keys left out keep their defaults.
	partial := DefaultConfig("./data")
	if err := yaml.Unmarshal([]byte("durability: sync\n"), &partial); err != nil {
		t.Fatal(err)
	}
	if partial != DefaultConfig("./data") {
		t.Fatalf("partial YAML changed other fields: %+v", partial)
	}
}

// A configuration that Validate accepts opens: Validate checks the limits Badger itself enforces at Open, so a
// bad value is reported with its YAML key before any work.
func TestValidConfigOpens(t *testing.T) {
	cfg := DefaultConfig(t.TempDir())
	cfg.MemTableSize = 1 << 20
	cfg.ValueThreshold = cfg.MemTableSize * 15 / 100
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(cfg, nil)
	if err != nil {
		t.Fatalf("Open with a valid config: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// One byte more is what Badger refuses, and so does Validate.
	cfg.ValueThreshold++
	if err := cfg.Validate(); err == nil {
		t.Fatal("Validate accepts a value threshold above a transaction")
	}
	if db, err := badger.Open(badgerOptions(cfg, slog.New(slog.DiscardHandler))); err == nil {
		_ = db.Close()
		t.Fatal("Badger opened with a value threshold above a transaction; Validate's limit is not needed")
	}
}
