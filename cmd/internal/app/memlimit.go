package app

import (
	"fmt"
	"math"
	"runtime/debug"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// EnvMemoryLimit sets memory_limit (bytes, or a number with a B, KiB, MiB, GiB or TiB suffix as GOMEMLIMIT
// takes; 0 leaves the Go runtime's default).
const EnvMemoryLimit = "ZEDGE_MEMORY_LIMIT"

// ByteSize is a size in bytes, written in YAML as a plain integer or with a GOMEMLIMIT-style suffix
// ("512MiB").
type ByteSize int64

var byteSuffixes = []struct {
	suffix string
	mult   int64
}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}}

// ParseByteSize reads "1073741824", "1024MiB" or "1GiB".
func ParseByteSize(s string) (ByteSize, error) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range byteSuffixes {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("%q: want a non-negative number of bytes, optionally with a B, KiB, MiB, GiB or TiB suffix", s)
	}
	return ByteSize(n * mult), nil
}

// UnmarshalYAML accepts an integer or a string with a suffix.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseByteSize(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*b = v
	return nil
}

// applyMemoryLimit sets the Go runtime's soft memory limit (debug.SetMemoryLimit, GOMEMLIMIT's semantics: the
// garbage collector runs more often as the process's Go memory nears it; it is not a hard cap). It is
// process-wide. Zero leaves the limit as it is: unlimited, or GOMEMLIMIT from the environment. It returns the
// limit in force.
func applyMemoryLimit(limit ByteSize) int64 {
	if limit > 0 {
		debug.SetMemoryLimit(int64(limit))
	}
	return debug.SetMemoryLimit(-1)
}
