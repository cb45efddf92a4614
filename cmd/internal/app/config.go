package app

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/zedge-io/zedge/bridge"
	"github.com/zedge-io/zedge/broker"
	"github.com/zedge-io/zedge/broker/httpapi"
	"github.com/zedge-io/zedge/broker/notify"
	"github.com/zedge-io/zedge/broker/wsapi"
	"github.com/zedge-io/zedge/configs"
	"github.com/zedge-io/zedge/signing"
	"github.com/zedge-io/zedge/signing/revoke"
	"github.com/zedge-io/zedge/store/badgerstore"
	"github.com/zedge-io/zedge/store/redisstore"
)

// Config is the whole configuration of the zedge binary. Each section that belongs to a package is that
// package's own Config type, with its own yaml tags, defaults and Validate.
type Config struct {
	Log    LogConfig      `yaml:"log"`
	HTTP   httpapi.Config `yaml:"http"`
	Store  StoreConfig    `yaml:"store"`
	Limits broker.Limits  `yaml:"limits"`
	// Auth chooses noauth or jwt and places the revocation list.
	Auth httpapi.AuthConfig `yaml:"auth"`
	// Signing holds the URL-signing secrets and the token keys.
	Signing signing.Config `yaml:"signing"`
	// MQTT is the embedded MQTT broker; its auth mode is Auth.Mode.
	MQTT bridge.Config `yaml:"mqtt"`
	// Bridge holds the topic↔queue rules of the MQTT bridge.
	Bridge bridge.Rules `yaml:"bridge"`
	// Websocket is Zaqar's websocket API; its auth mode is Auth.Mode.
	Websocket wsapi.Config `yaml:"websocket"`
	// Notify delivers subscription notifications (webhooks, email).
	Notify notify.Config `yaml:"notify"`
	// ShutdownTimeout bounds how long in-flight HTTP requests may take to finish after a stop signal.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// Debug holds diagnostics that are off by default (pprof).
	Debug DebugConfig `yaml:"debug"`
	// MemoryLimit is the Go runtime's soft memory limit in bytes (debug.SetMemoryLimit, as GOMEMLIMIT); 0 leaves
	// the runtime's default, which GOMEMLIMIT in the environment sets.
	MemoryLimit ByteSize `yaml:"memory_limit"`
}

// Store kinds.
const (
	StoreBadger = "badger"
	StoreMemory = "memory"
	// StoreRedis is a Redis or Redis Cluster shared by every zedge node of a deployment.
	StoreRedis = "redis"
)

// StoreConfig chooses the store backend and configures it.
type StoreConfig struct {
	// Kind is StoreBadger, StoreRedis or StoreMemory.
	Kind string `yaml:"kind"`
	// Badger configures the Badger store; used only when Kind is StoreBadger.
	Badger badgerstore.Config `yaml:"badger"`
	// Redis configures the Redis store; used only when Kind is StoreRedis.
	Redis redisstore.Config `yaml:"redis"`
}

// DefaultDataDir is where the Badger store lives unless configured otherwise (relative to the working
// directory).
const DefaultDataDir = "./data"

// DefaultConfig returns the defaults of every section, as the packages define them. configs/zedge.yaml states
// the same values (a test keeps the two equal), so an operator can read the defaults there.
func DefaultConfig() Config {
	return Config{
		Log:             LogConfig{Level: "info", Format: "text"},
		HTTP:            httpapi.DefaultConfig(),
		Store:           StoreConfig{Kind: StoreBadger, Badger: badgerstore.DefaultConfig(DefaultDataDir), Redis: redisstore.DefaultConfig()},
		Limits:          broker.DefaultLimits(),
		Auth:            httpapi.DefaultAuthConfig(),
		Signing:         signing.DefaultConfig(),
		MQTT:            defaultMQTTConfig(),
		Bridge:          bridge.DefaultRules(),
		Websocket:       wsapi.DefaultConfig(),
		Notify:          notify.DefaultConfig(),
		ShutdownTimeout: 10 * time.Second,
	}
}

// Validate checks every section and reports all problems at once, one per line, each naming its section. The
// error wraps ErrInvalidConfig.
func (c Config) Validate() error {
	var errs []error
	errs = append(errs, inSection("log", c.Log.Validate())...)
	errs = append(errs, inSection("http", c.HTTP.Validate())...)
	errs = append(errs, inSection("store", c.Store.Validate())...)
	errs = append(errs, inSection("limits", c.Limits.Validate())...)
	auth := c.Auth
	auth.Revocations.File = c.RevocationFile()
	errs = append(errs, inSection("auth", auth.Validate())...)
	errs = append(errs, inSection("signing", c.Signing.Validate())...)
	mqtt := c.bridgeConfig()
	mqtt.Rules = bridge.Rules{} // checked as their own section
	errs = append(errs, inSection("mqtt", mqtt.Validate())...)
	errs = append(errs, inSection("bridge", c.Bridge.Validate())...)
	errs = append(errs, inSection("websocket", c.Websocket.Validate())...)
	errs = append(errs, inSection("notify", c.Notify.Validate())...)
	errs = append(errs, inSection("debug", c.Debug.Validate())...)
	if c.Auth.Mode == httpapi.AuthJWT {
		if keys, err := c.Signing.TokenKeys(); err == nil && keys == nil {
			errs = append(errs, fmt.Errorf("auth.mode jwt needs a token key: set %s or signing.token.secrets, "+
				"public_keys or private_keys", EnvJWTSecret))
		}
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("shutdown_timeout must be positive, got %v", c.ShutdownTimeout))
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrInvalidConfig, errors.Join(errs...))
}

// RevocationFile is where the revocation list lives: auth.revocations.file, or revocations.json in the data
// directory (store.badger.dir, also with the memory store, so that revocations survive restarts either way).
func (c Config) RevocationFile() string {
	if c.Auth.Revocations.File != "" {
		return c.Auth.Revocations.File
	}
	return filepath.Join(c.Store.Badger.Dir, revoke.DefaultFileName)
}

// inSection splits a section's (possibly joined) error into its problems and prefixes each with the section's
// name, unless the package's text already starts with it (httpapi writes "http.addr ...").
func inSection(name string, err error) []error {
	if err == nil {
		return nil
	}
	list := []error{err}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		list = joined.Unwrap()
	}
	out := make([]error, 0, len(list))
	for _, e := range list {
		if strings.HasPrefix(e.Error(), name) {
			out = append(out, e)
		} else {
			out = append(out, fmt.Errorf("%s: %w", name, e))
		}
	}
	return out
}

// Validate checks the store kind and the configuration of the backend in use.
func (c StoreConfig) Validate() error {
	switch c.Kind {
	case StoreBadger:
		return errors.Join(inSection("badger", c.Badger.Validate())...)
	case StoreRedis:
		return errors.Join(inSection("redis", c.Redis.Validate())...)
	case StoreMemory:
		return nil
	default:
		return fmt.Errorf("kind must be %q, %q or %q, got %q", StoreBadger, StoreRedis, StoreMemory, c.Kind)
	}
}

// LookupEnv reads one environment variable; os.LookupEnv is the real one, tests pass their own.
type LookupEnv func(name string) (string, bool)

// Load builds the configuration in layers, each overriding the one before: the package defaults, the
// embedded configs/zedge.yaml, the YAML file at path (skipped when path is empty; it may hold only some keys),
// then the ZEDGE_* environment variables read through env (nil means os.LookupEnv). The result is validated.
// Unknown YAML keys are errors. Every error except a failure to read the file wraps ErrInvalidConfig.
func Load(path string, env LookupEnv) (Config, error) {
	if env == nil {
		env = os.LookupEnv
	}
	cfg := DefaultConfig()
	if err := decodeYAML(strings.NewReader(configs.ZedgeYAML), &cfg); err != nil {
		return Config{}, fmt.Errorf("%w: embedded zedge.yaml: %w", ErrInvalidConfig, err)
	}
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return Config{}, fmt.Errorf("read config: %w", err)
		}
		if err := decodeYAML(bytes.NewReader(data), &cfg); err != nil {
			return Config{}, fmt.Errorf("%w: %s: %w", ErrInvalidConfig, path, err)
		}
	}
	if err := applyEnv(&cfg, env); err != nil {
		return Config{}, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// decodeYAML decodes one YAML document onto cfg, leaving the fields it does not name as they are.
// An empty document changes nothing.
func decodeYAML(r io.Reader, cfg *Config) error {
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		return err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return errors.New("expected a single YAML document")
	}
	return nil
}

// Environment variables that override the configuration. The names are fixed: tooling outside this
// repository uses them.
const (
	EnvHTTPAddr   = "ZEDGE_HTTP_ADDR"
	EnvDataDir    = "ZEDGE_DATA_DIR"
	EnvAdminMode  = "ZEDGE_ADMIN_MODE"
	EnvDurability = "ZEDGE_DURABILITY"
	EnvStore      = "ZEDGE_STORE"
	EnvLogLevel   = "ZEDGE_LOG_LEVEL"
	EnvLogFormat  = "ZEDGE_LOG_FORMAT"
	// EnvAuth sets auth.mode (none or jwt).
	EnvAuth = "ZEDGE_AUTH"
	// EnvJWTSecret replaces signing.token.secrets with one HS256 secret of id "default" (at least 32 bytes),
	// which also signs the tokens of `zedge token` unless signing.token.signing_key names a private key.
	EnvJWTSecret = "ZEDGE_JWT_SECRET"
	// EnvSigningKey replaces signing.url_keys with one URL-signing secret of id "default" (Zaqar's
	// [signed_url] secret_key).
	EnvSigningKey = "ZEDGE_SIGNING_KEY"
	// EnvRedisAddrs sets store.redis.addrs: comma-separated host:port (spaces around commas are ignored).
	EnvRedisAddrs = "ZEDGE_REDIS_ADDRS"
	// EnvRedisCluster sets store.redis.cluster (true or false).
	EnvRedisCluster = "ZEDGE_REDIS_CLUSTER"
	// EnvRedisPassword sets store.redis.password.
	EnvRedisPassword = "ZEDGE_REDIS_PASSWORD"
	// EnvReadyFile names a file zedge writes once it serves; it is not configuration (see Options.ReadyFile).
	EnvReadyFile = "ZEDGE_READY_FILE"
)

// applyEnv sets the options named by the ZEDGE_* variables. A variable that is unset or empty changes
// nothing, so `ZEDGE_X= zedge` behaves like plain `zedge`.
func applyEnv(cfg *Config, env LookupEnv) error {
	get := func(name string) (string, bool) {
		v, ok := env(name)
		return v, ok && v != ""
	}
	if v, ok := get(EnvHTTPAddr); ok {
		cfg.HTTP.Addr = v
	}
	if v, ok := get(EnvDataDir); ok {
		cfg.Store.Badger.Dir = v
	}
	if v, ok := get(EnvAdminMode); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%s=%q: want true or false", EnvAdminMode, v)
		}
		cfg.HTTP.AdminMode = b
	}
	if v, ok := get(EnvDurability); ok {
		cfg.Store.Badger.Durability = badgerstore.Durability(v)
	}
	if v, ok := get(EnvStore); ok {
		cfg.Store.Kind = v
	}
	if err := applyRedisEnv(cfg, get); err != nil {
		return err
	}
	if v, ok := get(EnvLogLevel); ok {
		cfg.Log.Level = v
	}
	if v, ok := get(EnvMemoryLimit); ok {
		n, err := ParseByteSize(v)
		if err != nil {
			return fmt.Errorf("%s=%w", EnvMemoryLimit, err)
		}
		cfg.MemoryLimit = n
	}
	if v, ok := get(EnvLogFormat); ok {
		cfg.Log.Format = v
	}
	if v, ok := get(EnvAuth); ok {
		cfg.Auth.Mode = v
	}
	applyMQTTEnv(cfg, get)
	applyWSEnv(cfg, get)
	if v, ok := get(EnvSigningKey); ok {
		cfg.Signing.URLKeys = []signing.SecretKeyConfig{{ID: EnvKeyID, Secret: signing.Secret(v)}}
		cfg.Signing.URLPrimaryKey = ""
	}
	if v, ok := get(EnvJWTSecret); ok {
		t := &cfg.Signing.Token
		signsWithPrivateKey := slices.ContainsFunc(t.PrivateKeys, func(k signing.PEMKeyConfig) bool { return k.ID == t.SigningKey })
		t.Secrets = []signing.SecretKeyConfig{{ID: EnvKeyID, Secret: signing.Secret(v)}}
		if !signsWithPrivateKey {
			t.SigningKey = EnvKeyID
		}
	}
	return nil
}

// EnvKeyID is the key id of a secret given through ZEDGE_SIGNING_KEY or ZEDGE_JWT_SECRET.
const EnvKeyID = "default"

// applyRedisEnv sets the options named by the Redis variables.
func applyRedisEnv(cfg *Config, get func(string) (string, bool)) error {
	if v, ok := get(EnvRedisAddrs); ok {
		var addrs []string
		for _, a := range strings.Split(v, ",") {
			if a = strings.TrimSpace(a); a != "" {
				addrs = append(addrs, a)
			}
		}
		if len(addrs) == 0 {
			return fmt.Errorf("%s=%q: want host:port[,host:port...]", EnvRedisAddrs, v)
		}
		cfg.Store.Redis.Addrs = addrs
	}
	if v, ok := get(EnvRedisCluster); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%s=%q: want true or false", EnvRedisCluster, v)
		}
		cfg.Store.Redis.Cluster = b
	}
	if v, ok := get(EnvRedisPassword); ok {
		cfg.Store.Redis.Password = v
	}
	return nil
}
