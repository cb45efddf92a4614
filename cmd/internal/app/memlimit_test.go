package app

import (
	"math"
	"runtime/debug"
	"testing"
)

func TestParseByteSize(t *testing.T) {
	for in, want := range map[string]ByteSize{
		"0": 0, "1048576": 1 << 20, "512MiB": 512 << 20, "1GiB": 1 << 30, "2 GiB": 2 << 30, "64KiB": 64 << 10,
		"100B": 100, "1TiB": 1 << 40,
	} {
		if got, err := ParseByteSize(in); err != nil || got != want {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "-1", "1GB", "1.5GiB", "MiB", "9999999999TiB"} {
		if got, err := ParseByteSize(bad); err == nil {
			t.Errorf("ParseByteSize(%q) = %d, want an error", bad, got)
		}
	}
}

// memory_limit and ZEDGE_MEMORY_LIMIT set the limit, the variable last; New applies it to the runtime.
func TestMemoryLimit(t *testing.T) {
	prev := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(prev) })

	cfg, err := Load(writeFile(t, "memory_limit: 256MiB\n"), noEnv)
	if err != nil || cfg.MemoryLimit != 256<<20 {
		t.Fatalf("memory_limit: %d, %v", cfg.MemoryLimit, err)
	}
	cfg, err = Load(writeFile(t, "memory_limit: 268435456\n"), envOf(map[string]string{EnvMemoryLimit: "1GiB"}))
	if err != nil || cfg.MemoryLimit != 1<<30 {
		t.Fatalf("env over file: %d, %v", cfg.MemoryLimit, err)
	}

	debug.SetMemoryLimit(math.MaxInt64)
	c := testConfig(t, StoreMemory)
	c.MemoryLimit = 300 << 20
	start(t, c, Options{})
	if got := debug.SetMemoryLimit(-1); got != 300<<20 {
		t.Errorf("runtime memory limit %d after New, want %d", got, 300<<20)
	}
	// Zero leaves whatever the runtime has (GOMEMLIMIT's value, here the one set before).
	c = testConfig(t, StoreMemory)
	start(t, c, Options{})
	if got := debug.SetMemoryLimit(-1); got != 300<<20 {
		t.Errorf("runtime memory limit %d after New with memory_limit 0, want it unchanged", got)
	}
}
