package redisrevoke

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/zedge-io/zedge/signing/revoke"
)

// Hash fields.
const (
	FieldList    = "list"
	FieldVersion = "version"
)

// KeySuffix follows the store's key prefix in the list's key.
const KeySuffix = "revocations"

// MaxAttempts bounds the compare-and-set retries of one change. Revocations are rare and each retry means
// another writer's change landed, so exhausting them means a runaway writer, reported as ErrContention.
const MaxAttempts = 32

// Errors.
var (
	// ErrInvalidConfig: a Config field is out of range.
	ErrInvalidConfig = errors.New("redisrevoke: invalid config")
	// ErrContention: MaxAttempts compare-and-sets in a row found the list changed by another writer.
	ErrContention = errors.New("redisrevoke: the revocation list kept changing under the update")
)

// Config configures the backend.
type Config struct {
	// Key is the hash that holds the list. The application derives it from the store's key_prefix (KeyFor).
	Key string
}

// DefaultConfig uses the key of the store's default prefix, "zedge:revocations".
func DefaultConfig() Config { return Config{Key: KeyFor("zedge")} }

// KeyFor is the list's key for a store key prefix, beside the store's own keys ("" means no prefix).
func KeyFor(prefix string) string {
	if prefix == "" {
		return KeySuffix
	}
	return prefix + ":" + KeySuffix
}

// Validate checks the key.
func (c Config) Validate() error {
	if c.Key == "" {
		return fmt.Errorf("%w: key is empty", ErrInvalidConfig)
	}
	if strings.ContainsAny(c.Key, "{}") {
		// A hash tag would not break the backend, but the store forbids braces in its prefix for the same
		// reason: keys are placed by the store, not by the operator.
		return fmt.Errorf("%w: key %q must not contain '{' or '}'", ErrInvalidConfig, c.Key)
	}
	return nil
}

// Backend is the revocation list in one Redis hash; see the package documentation. It is safe for concurrent
// use.
type Backend struct {
	rdb redis.UniversalClient
	key string
}

var _ revoke.Backend = (*Backend)(nil)

// New is the backend on rdb (a single Redis or a Cluster client). It does not connect: the first Load does.
func New(rdb redis.UniversalClient, cfg Config) (*Backend, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Backend{rdb: rdb, key: cfg.Key}, nil
}

// Key is the hash's key.
func (b *Backend) Key() string { return b.key }

// String is "redis key <key>".
func (b *Backend) String() string { return "redis key " + b.key }

// casScript stores ARGV[3] as the list with version ARGV[2] if the version is still ARGV[1] ("" for none) and
// returns 1, else 0.
var casScript = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], 'version')
if cur == false then cur = '' end
if cur ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'version', ARGV[2], 'list', ARGV[3])
return 1
`)

// read is the stored document and its version; no list field is an empty list with version "".
func (b *Backend) read(ctx context.Context) ([]revoke.Entry, string, error) {
	vals, err := b.rdb.HMGet(ctx, b.key, FieldVersion, FieldList).Result()
	if err != nil {
		return nil, "", fmt.Errorf("redisrevoke: read %s: %w", b.key, err)
	}
	version, _ := vals[0].(string)
	list, ok := vals[1].(string)
	if !ok {
		return nil, version, nil
	}
	entries, err := revoke.Decode([]byte(list))
	if err != nil {
		return nil, "", fmt.Errorf("redis key %s: %w", b.key, err)
	}
	return entries, version, nil
}

// Load reads the list. A key without a list field is an empty list with a nil Version.
func (b *Backend) Load(ctx context.Context) ([]revoke.Entry, revoke.Version, error) {
	entries, version, err := b.read(ctx)
	if err != nil {
		return nil, nil, err
	}
	if entries == nil && version == "" {
		return nil, nil, nil
	}
	return entries, version, nil
}

// Update reads the list, applies fn and stores the result if nobody wrote in between, else tries again.
func (b *Backend) Update(ctx context.Context, fn func([]revoke.Entry) ([]revoke.Entry, error)) ([]revoke.Entry, revoke.Version, error) {
	for range MaxAttempts {
		entries, version, err := b.read(ctx)
		if err != nil {
			return nil, nil, err
		}
		entries, err = fn(entries)
		if err != nil {
			return nil, nil, err
		}
		data, err := revoke.Encode(entries)
		if err != nil {
			return nil, nil, fmt.Errorf("redisrevoke: %w", err)
		}
		next := versionOf(data)
		stored, err := casScript.Run(ctx, b.rdb, []string{b.key}, version, next, data).Int()
		if err != nil {
			return nil, nil, fmt.Errorf("redisrevoke: write %s: %w", b.key, err)
		}
		if stored == 1 {
			return entries, next, nil
		}
	}
	return nil, nil, fmt.Errorf("%w: %d attempts on %s", ErrContention, MaxAttempts, b.key)
}

// Changed compares the stored version with v: one HGET.
func (b *Backend) Changed(ctx context.Context, v revoke.Version) (bool, error) {
	seen, _ := v.(string)
	cur, err := b.rdb.HGet(ctx, b.key, FieldVersion).Result()
	if errors.Is(err, redis.Nil) {
		return seen != "", nil
	}
	if err != nil {
		return false, fmt.Errorf("redisrevoke: poll %s: %w", b.key, err)
	}
	return cur != seen, nil
}

// versionOf is the version of a stored document: the hex SHA-256 of its bytes.
func versionOf(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
