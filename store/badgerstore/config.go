package badgerstore

import (
	"errors"
	"fmt"
	"time"
)

// Durability says when a write is acknowledged.
type Durability string

const (
	// DurabilitySync acknowledges a write once it is fsynced. Concurrent writes share one fsync (group commit).
	DurabilitySync Durability = "sync"
	// DurabilityAsync acknowledges a write once Badger has applied it (its WAL is a memory-mapped file, so the
	// write survives a crash of the process but not of the machine); a background sync every SyncInterval
	// bounds what a power loss can take.
	DurabilityAsync Durability = "async"
)

// Config configures the Badger store. The YAML tags are the keys under store.badger in zedge's configuration.
type Config struct {
	// Dir holds the database; it is created if missing. Only one process may use it at a time.
	Dir string `yaml:"dir"`
	// Durability is sync or async.
	Durability Durability `yaml:"durability"`
	// SyncInterval is how often async mode fsyncs.
	SyncInterval time.Duration `yaml:"sync_interval"`
	// CommitDefer bounds how long a write made with store.WithDeferredCommit waits, in sync mode, for another
	// write to share its fsync before it starts a commit of its own. Zero commits such writes at once.
	CommitDefer time.Duration `yaml:"commit_defer"`
	// GCInterval is how often value-log garbage collection runs; zero disables the loop.
	GCInterval time.Duration `yaml:"gc_interval"`
	// GCDiscardRatio is the share of a value-log file that must be garbage before it is rewritten, in (0, 1).
	GCDiscardRatio float64 `yaml:"gc_discard_ratio"`
	// MemTableSize is the size of one memtable in bytes; it also bounds one transaction (15% of it).
	MemTableSize int64 `yaml:"mem_table_size"`
	// ValueThreshold is the largest value kept inline in the LSM tree; larger ones go to the value log.
	ValueThreshold int64 `yaml:"value_threshold"`
	// ValueLogFileSize is the size at which a value-log file is closed; only closed files can be collected.
	ValueLogFileSize int64 `yaml:"value_log_file_size"`
	// BlockCacheSize is Badger's block cache in bytes (reads of bodies and compactions).
	BlockCacheSize int64 `yaml:"block_cache_size"`
	// NumCompactors is the number of compaction goroutines (at least 2).
	NumCompactors int `yaml:"num_compactors"`
	// NumLevelZeroTables is how many flushed memtables (level-0 tables) may pile up before they are compacted
	// into the tree; expired and deleted entries in them hold disk space until then. Writes stall at
	// max(15, 3×) of it.
	NumLevelZeroTables int `yaml:"num_level_zero_tables"`
	// ReapInterval is how often expired messages, claims and subscriptions are dropped from memory.
	ReapInterval time.Duration `yaml:"reap_interval"`
	// BodyMemoryMax is the largest message body (bytes) also kept in memory; larger bodies stay only on disk
	// and are read back from Badger when their message is listed, fetched, claimed, popped or dead-lettered.
	// Zero keeps no body in memory; -1 keeps every body in memory.
	BodyMemoryMax int `yaml:"body_memory_max"`
}

// DefaultConfig returns the defaults for a database in dir, chosen for high volumes of small, short-lived
// messages on a small machine.
func DefaultConfig(dir string) Config {
	return Config{
		Dir:                dir,
		Durability:         DurabilitySync,
		SyncInterval:       time.Second,
		CommitDefer:        5 * time.Millisecond,
		GCInterval:         time.Minute,
		GCDiscardRatio:     0.5,
		MemTableSize:       16 << 20, // half the Go heap of 32 MiB at no measured throughput cost (doc.go)
		ValueThreshold:     4 << 10,
		ValueLogFileSize:   64 << 20,
		BlockCacheSize:     32 << 20,
		NumCompactors:      2,
		NumLevelZeroTables: 2,
		ReapInterval:       time.Second,
		BodyMemoryMax:      512,
	}
}

// Validate checks the configuration.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.Dir == "" {
		bad("badger: dir is required")
	}
	switch c.Durability {
	case DurabilitySync, DurabilityAsync:
	default:
		bad("badger: durability %q: want %q or %q", c.Durability, DurabilitySync, DurabilityAsync)
	}
	if c.Durability == DurabilityAsync && c.SyncInterval <= 0 {
		bad("badger: sync_interval must be positive in async mode")
	}
	if c.CommitDefer < 0 || c.CommitDefer > time.Second {
		bad("badger: commit_defer %v: want 0..1s", c.CommitDefer)
	}
	if c.GCInterval < 0 {
		bad("badger: gc_interval must not be negative")
	}
	if c.GCDiscardRatio <= 0 || c.GCDiscardRatio >= 1 {
		bad("badger: gc_discard_ratio %v: want a value between 0 and 1 (exclusive)", c.GCDiscardRatio)
	}
	if c.MemTableSize < 1<<20 {
		bad("badger: mem_table_size %d: want at least 1 MiB", c.MemTableSize)
	}
	if c.ValueThreshold < 0 || c.ValueThreshold > 1<<20 {
		bad("badger: value_threshold %d: want 0..1 MiB", c.ValueThreshold)
	} else if c.MemTableSize >= 1<<20 && c.ValueThreshold > maxTxnBytes(c.MemTableSize) {
		// Badger refuses to open otherwise: an inline value must fit in one transaction.
		bad("badger: value_threshold %d: want at most %d (15%% of mem_table_size)", c.ValueThreshold, maxTxnBytes(c.MemTableSize))
	}
	if c.ValueLogFileSize < 1<<20 || c.ValueLogFileSize >= 2<<30 {
		bad("badger: value_log_file_size %d: want 1 MiB..2 GiB", c.ValueLogFileSize)
	}
	if c.BlockCacheSize < 0 {
		bad("badger: block_cache_size must not be negative")
	}
	if c.NumCompactors < 2 {
		bad("badger: num_compactors %d: want at least 2", c.NumCompactors)
	}
	if c.NumLevelZeroTables < 1 || c.NumLevelZeroTables > 32 {
		bad("badger: num_level_zero_tables %d: want 1..32", c.NumLevelZeroTables)
	}
	if c.BodyMemoryMax < -1 {
		bad("badger: body_memory_max %d: want -1 (all), 0 (none) or a size in bytes", c.BodyMemoryMax)
	}
	if c.ReapInterval <= 0 {
		bad("badger: reap_interval must be positive")
	}
	return errors.Join(errs...)
}

// maxTxnBytes is the most one Badger transaction may hold with memtables of the given size.
func maxTxnBytes(memTableSize int64) int64 { return memTableSize * 15 / 100 }
