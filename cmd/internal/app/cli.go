package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
)

// Version is the zedge version, set at build time with
// -ldflags '-X github.com/zedge-io/zedge/cmd/internal/app.Version=...'; without it the module version from the
// build info is used.
var Version = ""

// Exit codes of the zedge command.
const (
	ExitOK      = 0
	ExitFailure = 1 // startup or runtime failure: bad configuration when serving, port in use, store locked
	ExitUsage   = 2 // bad command line, or -check found the configuration invalid
)

const usage = `zedge: an edge message broker that speaks OpenStack Zaqar's v2 API.

Usage:
  zedge [serve] [-config FILE] [-check]   run the broker (the default command)
  zedge sign -queue Q -project P [-methods POST] [-paths messages] [-expires 1h] [-url BASE] [-json]
                                          print a signed URL (query form, header form, a curl line)
  zedge token -sub S -project P [-roles device] [-ttl 24h] [-queues 'telemetry-*']
                                          print a JWT (its jti and expiry go to stderr)
  zedge revoke (-url URL | -signature S | -fingerprint F | -token T | -jti J | -subject S)
               [-expires T] [-reason TEXT] [-remove]
  zedge revoke -list                      withdraw a signed URL or tokens; a running zedge follows within 1s
  zedge version                           print the version

Flags of serve:
  -config FILE   YAML configuration; overrides the embedded defaults, and the ZEDGE_* environment overrides it
  -check         load and validate the configuration, print "ok" and exit (status 2 when invalid)
sign, token and revoke read the same configuration (-config FILE and the environment) and work offline.

Environment: ZEDGE_HTTP_ADDR, ZEDGE_DATA_DIR, ZEDGE_ADMIN_MODE, ZEDGE_DURABILITY, ZEDGE_STORE,
ZEDGE_REDIS_ADDRS, ZEDGE_REDIS_CLUSTER, ZEDGE_REDIS_PASSWORD,
ZEDGE_LOG_LEVEL, ZEDGE_LOG_FORMAT, ZEDGE_AUTH, ZEDGE_JWT_SECRET, ZEDGE_SIGNING_KEY, ZEDGE_READY_FILE.
`

// Main runs the zedge command line with args (without the program name) and returns the exit code.
// Serving stops on SIGINT or SIGTERM; a second signal ends the process at once.
func Main(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		// From now on the default action applies again: a second signal terminates the process even while
		// the shutdown is still draining.
		stop()
	}()
	return Command(ctx, args, stdout, stderr, os.LookupEnv)
}

// Command runs the command line as Main does, but stops serving when ctx is done and reads the environment
// through env, so a test can drive it.
func Command(ctx context.Context, args []string, stdout, stderr io.Writer, env LookupEnv) int {
	cmd, rest := "serve", args
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, rest = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, rest, stdout, stderr, env)
	case "sign":
		return signCommand(rest, stdout, stderr, env)
	case "token":
		return tokenCommand(rest, stdout, stderr, env)
	case "revoke":
		return revokeCommand(rest, stdout, stderr, env)
	case "version":
		if len(rest) > 0 {
			fmt.Fprintf(stderr, "zedge: version takes no arguments\n")
			return ExitUsage
		}
		fmt.Fprintf(stdout, "zedge %s %s\n", version(), runtime.Version())
		return ExitOK
	case "help":
		fmt.Fprint(stdout, usage)
		return ExitOK
	default:
		fmt.Fprintf(stderr, "zedge: unknown command %q\n\n%s", cmd, usage)
		return ExitUsage
	}
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer, env LookupEnv) int {
	fs := flag.NewFlagSet("zedge serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	configFile := fs.String("config", "", "YAML configuration `file`")
	check := fs.Bool("check", false, "validate the configuration and exit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "zedge: unexpected arguments %q\n\n%s", fs.Args(), usage)
		return ExitUsage
	}

	cfg, err := Load(*configFile, env)
	if err != nil {
		// Validate reports one problem per line; indent the ones after the first.
		fmt.Fprintf(stderr, "zedge: %s\n", strings.ReplaceAll(err.Error(), "\n", "\n  "))
		if *check {
			return ExitUsage
		}
		return ExitFailure
	}
	if *check {
		fmt.Fprintln(stdout, "ok")
		return ExitOK
	}
	log, err := NewLogger(cfg.Log, stderr)
	if err != nil { // unreachable after Load's validation, but never run without a logger
		fmt.Fprintf(stderr, "zedge: log: %v\n", err)
		return ExitFailure
	}
	readyFile, _ := env(EnvReadyFile)
	a, err := New(cfg, log, Options{ReadyFile: readyFile})
	if err != nil {
		log.Error("zedge failed to start", "err", err)
		return ExitFailure
	}
	if err := a.Run(ctx); err != nil {
		return ExitFailure
	}
	return ExitOK
}

func version() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
