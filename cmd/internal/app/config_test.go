package app

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/zedge-io/zedge/broker/httpapi"
	"github.com/zedge-io/zedge/configs"
)

// noEnv is an empty environment.
func noEnv(string) (string, bool) { return "", false }

// envOf is an environment holding exactly vars.
func envOf(vars map[string]string) LookupEnv {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "zedge.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// The embedded file is the operator's reference for the defaults, so it must state exactly the defaults the
// packages define: decoded onto a zero Config it must give DefaultConfig.
func TestEmbeddedYAMLStatesTheDefaults(t *testing.T) {
	var fromYAML Config
	if err := decodeYAML(strings.NewReader(configs.ZedgeYAML), &fromYAML); err != nil {
		t.Fatalf("embedded zedge.yaml does not decode: %v", err)
	}
	if want := DefaultConfig(); !reflect.DeepEqual(fromYAML, want) {
		t.Errorf("embedded zedge.yaml and DefaultConfig differ:\n yaml:     %+v\n defaults: %+v", fromYAML, want)
	}
}

// Every option of every section must appear in the embedded file with a comment saying what it does.
func TestEmbeddedYAMLDocumentsEveryOption(t *testing.T) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(configs.ZedgeYAML), &doc); err != nil {
		t.Fatal(err)
	}
	root := doc.Content[0]
	paths := yamlPaths(reflect.TypeFor[Config](), "")
	if len(paths) < 20 {
		t.Fatalf("found only %d options in Config, the walk is broken: %v", len(paths), paths)
	}
	for _, path := range paths {
		key := lookupKey(root, strings.Split(path, "."))
		if key == nil {
			t.Errorf("option %s is missing from configs/zedge.yaml", path)
			continue
		}
		if strings.TrimSpace(key.HeadComment+key.LineComment) == "" {
			t.Errorf("option %s has no comment in configs/zedge.yaml", path)
		}
	}
}

// yamlPaths lists the dotted YAML paths of t's leaf options.
func yamlPaths(t reflect.Type, prefix string) []string {
	var paths []string
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if strings.Contains(opts, "inline") {
			paths = append(paths, yamlPaths(ft, prefix)...)
			continue
		}
		if ft.Kind() == reflect.Struct && ft != reflect.TypeFor[time.Time]() {
			paths = append(paths, yamlPaths(ft, prefix+name+".")...)
			continue
		}
		paths = append(paths, prefix+name)
	}
	return paths
}

// lookupKey finds the key node at path in a YAML mapping.
func lookupKey(m *yaml.Node, path []string) *yaml.Node {
	if m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value != path[0] {
			continue
		}
		if len(path) == 1 {
			return m.Content[i]
		}
		return lookupKey(m.Content[i+1], path[1:])
	}
	return nil
}

func TestLoadWithoutFileOrEnvGivesTheDefaults(t *testing.T) {
	cfg, err := Load("", noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if want := DefaultConfig(); !reflect.DeepEqual(cfg, want) {
		t.Errorf("Load() = %+v, want the defaults %+v", cfg, want)
	}
	if cfg.HTTP.Addr != "127.0.0.1:8888" || cfg.Store.Kind != StoreBadger || cfg.Store.Badger.Dir != "./data" {
		t.Errorf("defaults are not the documented ones: addr %q, store %q, dir %q",
			cfg.HTTP.Addr, cfg.Store.Kind, cfg.Store.Badger.Dir)
	}
}

// defaults < file < environment, and a partial file leaves every other option at its default.
func TestLoadPrecedence(t *testing.T) {
	path := writeFile(t, `
http:
  addr: 127.0.0.1:7001
log:
  level: debug
limits:
  min_message_ttl: 1
shutdown_timeout: 3s
`)
	cfg, err := Load(path, envOf(map[string]string{EnvHTTPAddr: "127.0.0.1:7002", EnvLogFormat: "json"}))
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig()
	want.HTTP.Addr = "127.0.0.1:7002" // file and env: env wins
	want.Log.Level = "debug"          // file only
	want.Log.Format = "json"          // env only
	want.Limits.MinMessageTTL = 1     // file, one key of a section
	want.ShutdownTimeout = 3 * time.Second
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("Load =\n %+v\nwant\n %+v", cfg, want)
	}
}

func TestLoadEnvironment(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		check func(Config) bool
	}{
		{"http addr", map[string]string{EnvHTTPAddr: "127.0.0.1:0"},
			func(c Config) bool { return c.HTTP.Addr == "127.0.0.1:0" }},
		{"data dir", map[string]string{EnvDataDir: "/var/lib/zedge"},
			func(c Config) bool { return c.Store.Badger.Dir == "/var/lib/zedge" }},
		{"admin mode on", map[string]string{EnvAdminMode: "true"},
			func(c Config) bool { return c.HTTP.AdminMode }},
		{"admin mode 1", map[string]string{EnvAdminMode: "1"},
			func(c Config) bool { return c.HTTP.AdminMode }},
		{"admin mode off", map[string]string{EnvAdminMode: "false"},
			func(c Config) bool { return !c.HTTP.AdminMode }},
		{"durability", map[string]string{EnvDurability: "async"},
			func(c Config) bool { return string(c.Store.Badger.Durability) == "async" }},
		{"store", map[string]string{EnvStore: "memory"},
			func(c Config) bool { return c.Store.Kind == StoreMemory }},
		{"log level", map[string]string{EnvLogLevel: "warn"},
			func(c Config) bool { return c.Log.Level == "warn" }},
		{"log format", map[string]string{EnvLogFormat: "json"},
			func(c Config) bool { return c.Log.Format == "json" }},
		{"redis", map[string]string{EnvStore: "redis", EnvRedisAddrs: " 127.0.0.1:7000, 127.0.0.1:7001,127.0.0.1:7002 ",
			EnvRedisCluster: "true", EnvRedisPassword: "s3cret"},
			func(c Config) bool {
				r := c.Store.Redis
				return c.Store.Kind == StoreRedis && r.Cluster && r.Password == "s3cret" &&
					reflect.DeepEqual(r.Addrs, []string{"127.0.0.1:7000", "127.0.0.1:7001", "127.0.0.1:7002"})
			}},
		{"redis single", map[string]string{EnvStore: "redis", EnvRedisAddrs: "10.0.0.5:6380"},
			func(c Config) bool {
				return c.Store.Kind == StoreRedis && !c.Store.Redis.Cluster &&
					reflect.DeepEqual(c.Store.Redis.Addrs, []string{"10.0.0.5:6380"})
			}},
		{"empty means unset", map[string]string{EnvHTTPAddr: "", EnvStore: ""},
			func(c Config) bool { return c.HTTP.Addr == "127.0.0.1:8888" && c.Store.Kind == StoreBadger }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load("", envOf(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(cfg) {
				t.Errorf("env %v not applied: %+v", tt.env, cfg)
			}
		})
	}
}

// A file that only names the allowed origins turns CORS on with the documented lists.
func TestLoadCORS(t *testing.T) {
	cfg, err := Load(writeFile(t, "http:\n  cors:\n    allowed_origins: [\"https://dashboard.example.com\"]\n"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	c, want := cfg.HTTP.CORS, httpapi.DefaultCORSConfig()
	if !c.Enabled() || !reflect.DeepEqual(c.AllowedOrigins, []string{"https://dashboard.example.com"}) ||
		!reflect.DeepEqual(c.AllowedHeaders, want.AllowedHeaders) || !reflect.DeepEqual(c.ExposeHeaders, want.ExposeHeaders) ||
		!reflect.DeepEqual(c.AllowedMethods, want.AllowedMethods) || c.MaxAge != want.MaxAge || c.AllowCredentials {
		t.Errorf("cors = %+v", c)
	}
	if cfg, err := Load("", noEnv); err != nil || cfg.HTTP.CORS.Enabled() {
		t.Errorf("CORS on by default: %+v, %v", cfg.HTTP.CORS, err)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name    string
		file    string // YAML content; "" means no file
		env     map[string]string
		mention string // the error must name the culprit
	}{
		{"unknown key", "http:\n  adr: 127.0.0.1:1\n", nil, "adr"},
		{"unknown section", "mqtt:\n  addr: x\n", nil, "mqtt"},
		{"not yaml", "http: [\n", nil, "yaml"},
		{"wrong type", "limits:\n  min_message_ttl: soon\n", nil, "soon"},
		{"bad duration", "shutdown_timeout: forever\n", nil, "forever"},
		{"two documents", "log:\n  level: info\n---\nlog:\n  level: debug\n", nil, "single YAML document"},
		{"bad log level", "log:\n  level: loud\n", nil, "loud"},
		{"bad log format", "log:\n  format: xml\n", nil, "xml"},
		{"bad store kind", "store:\n  kind: postgres\n", nil, "postgres"},
		{"redis without addrs", "store:\n  kind: redis\n  redis:\n    addrs: []\n", nil, "store: redis: addrs"},
		{"redis addrs without cluster", "", map[string]string{EnvStore: "redis", EnvRedisAddrs: "127.0.0.1:7000,127.0.0.1:7001"}, "cluster"},
		{"bad redis addr", "", map[string]string{EnvStore: "redis", EnvRedisAddrs: "localhost"}, "localhost"},
		{"empty redis addrs env", "", map[string]string{EnvRedisAddrs: " , "}, EnvRedisAddrs},
		{"bad redis cluster env", "", map[string]string{EnvRedisCluster: "maybe"}, EnvRedisCluster},
		{"zero shutdown timeout", "shutdown_timeout: 0s\n", nil, "shutdown_timeout"},
		{"incoherent limits", "limits:\n  min_message_ttl: 0\n", nil, "limits: "},
		{"bad admin mode env", "", map[string]string{EnvAdminMode: "yes please"}, EnvAdminMode},
		{"bad store env", "", map[string]string{EnvStore: "sqlite"}, "sqlite"},
		{"bad log level env", "", map[string]string{EnvLogLevel: "chatty"}, "chatty"},
		{"bad memory limit", "memory_limit: lots\n", nil, "lots"},
		{"negative memory limit", "memory_limit: -1\n", nil, "-1"},
		{"bad memory limit env", "", map[string]string{EnvMemoryLimit: "1GB"}, EnvMemoryLimit},
		{"cors origin with a path", "http:\n  cors:\n    allowed_origins: [https://app.example.com/]\n", nil,
			"http.cors.allowed_origins"},
		{"cors method", "http:\n  cors:\n    allowed_methods: [GET, TRACE]\n", nil, "TRACE"},
		{"cors max age", "http:\n  cors:\n    max_age: 48h\n", nil, "http.cors.max_age"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.file != "" {
				path = writeFile(t, tt.file)
			}
			_, err := Load(path, envOf(tt.env))
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("Load = %v, want an error wrapping ErrInvalidConfig", err)
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error %q does not mention %q", err, tt.mention)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"), noEnv)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load of a missing file = %v, want fs.ErrNotExist", err)
	}
}

func TestLoadEmptyFileChangesNothing(t *testing.T) {
	cfg, err := Load(writeFile(t, "# nothing here\n"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg, DefaultConfig()) {
		t.Errorf("an empty file changed the configuration: %+v", cfg)
	}
}

// Validate reports every problem at once, one per line, each naming its section.
func TestValidateReportsAllSections(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Log.Level = "loud"
	cfg.HTTP.Addr = "no port"
	cfg.HTTP.ReadBufferSize = 1
	cfg.Store.Badger.Dir = ""
	cfg.Store.Badger.NumCompactors = 0
	cfg.Limits.MaxMessagesPostSize = 0
	cfg.Limits.MaxQueueMetadata = 0
	cfg.ShutdownTimeout = -time.Second
	err := cfg.Validate()
	if !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("Validate = %v, want ErrInvalidConfig", err)
	}
	lines := strings.Split(strings.TrimPrefix(err.Error(), ErrInvalidConfig.Error()+": "), "\n")
	want := []string{"log: ", "http", "http", "store: badger: ", "store: badger: ", "limits: ", "limits: ", "shutdown_timeout"}
	if len(lines) != len(want) {
		t.Fatalf("Validate gave %d problems, want %d:\n%v", len(lines), len(want), err)
	}
	for i, line := range lines {
		if !strings.HasPrefix(line, want[i]) {
			t.Errorf("problem %d = %q, want it to start with %q", i, line, want[i])
		}
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Errorf("the defaults do not validate: %v", err)
	}
}

// Only the store in use is validated: a memory store does not care about the Badger section.
func TestValidateChecksTheBadgerSectionOnlyWhenUsed(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Store.Badger.Dir = ""
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "store: badger: ") {
		t.Errorf("badger store without a dir: Validate = %v, want a store: badger: error", err)
	}
	cfg.Store.Kind = StoreMemory
	if err := cfg.Validate(); err != nil {
		t.Errorf("memory store: Validate = %v, want nil", err)
	}
	cfg.Store.Kind = StoreRedis
	if err := cfg.Validate(); err != nil {
		t.Errorf("redis store with the default redis section: Validate = %v, want nil", err)
	}
	cfg.Store.Redis.KeyPrefix = "{bad}"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "store: redis: key_prefix") {
		t.Errorf("redis store with a bad key prefix: Validate = %v, want a store: redis: error", err)
	}
	cfg.Store.Kind = StoreBadger
	cfg.Store.Badger.Dir = "./data"
	if err := cfg.Validate(); err != nil {
		t.Errorf("badger store with a bad redis section: Validate = %v, want nil (redis is not in use)", err)
	}
}

func TestNewLogger(t *testing.T) {
	var b strings.Builder
	log, err := NewLogger(LogConfig{Level: "warn", Format: "json"}, &b)
	if err != nil {
		t.Fatal(err)
	}
	log.Info("hidden")
	log.Warn("shown", "component", "test")
	out := b.String()
	if strings.Contains(out, "hidden") || !strings.Contains(out, `"msg":"shown"`) || !strings.Contains(out, `"component":"test"`) {
		t.Errorf("json logger at warn wrote %q", out)
	}
	b.Reset()
	log, err = NewLogger(LogConfig{Level: "debug", Format: "text"}, &b)
	if err != nil {
		t.Fatal(err)
	}
	log.Debug("details", "k", 1)
	if got := b.String(); !strings.Contains(got, "level=DEBUG msg=details k=1") {
		t.Errorf("text logger at debug wrote %q", got)
	}
	if _, err := NewLogger(LogConfig{Level: "info", Format: "xml"}, &b); err == nil {
		t.Error("NewLogger accepted format xml")
	}
}
