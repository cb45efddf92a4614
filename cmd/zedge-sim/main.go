package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	firmwaresim "github.com/zedge-io/zedge/firmware-sim"
	"github.com/zedge-io/zedge/firmware-sim/webapp"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("zedge-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	httpBase := fs.String("http", envOr("ZEDGE_SIM_HTTP", "http://127.0.0.1:8888"), "zedge's REST base URL")
	mqttAddr := fs.String("mqtt", envOr("ZEDGE_SIM_MQTT", "127.0.0.1:1883"), "zedge's MQTT listener host:port")
	readyFile := fs.String("ready", "", "zedge's ready file (ZEDGE_READY_FILE): take -http and -mqtt from it")
	project := fs.String("project", "", "project of the queues and tokens (default: the scenario's)")
	jwtSecret := fs.String("jwt-secret", os.Getenv("ZEDGE_JWT_SECRET"), "zedge's HS256 token secret (auth jwt); empty: auth none")
	signingKey := fs.String("signing-key", os.Getenv("ZEDGE_SIGNING_KEY"), "zedge's URL-signing key; empty: use zedge's share API")
	scenario := fs.String("scenario", "", "campus YAML (default: the small campus)")
	devices := fs.Int("devices", 0, "resize the campus to about N devices")
	duration := fs.Duration("duration", 60*time.Second, "how long to generate (0: until SIGINT)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	progress := fs.Bool("progress", isTerminal(stderr), "show the live progress line")
	logLevel := fs.String("log-level", "warn", "debug, info, warn or error")
	appAddr := fs.String("app-addr", envOr("ZEDGE_SIM_APP_ADDR", "127.0.0.1:8090"), "serve the climate-control web app on host:port (\"\": off)")
	wsURL := fs.String("ws", os.Getenv("ZEDGE_SIM_WS"), "zedge's websocket URL for the web app (default: the ready file's ws listener, else ws://<http host>/v2/ws)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintln(stderr, "zedge-sim: -log-level:", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	cfg := firmwaresim.DefaultConfig()
	if *scenario != "" {
		var err error
		if cfg, err = firmwaresim.Load(*scenario); err != nil {
			fmt.Fprintln(stderr, "zedge-sim:", err)
			return 2
		}
	}
	if *devices > 0 {
		cfg = cfg.ScaleTo(*devices)
	}
	if *readyFile != "" {
		raw, err := os.ReadFile(*readyFile)
		var ready struct{ HTTP, MQTT, WS string }
		if err == nil {
			err = json.Unmarshal(raw, &ready)
		}
		if err != nil || ready.HTTP == "" || ready.MQTT == "" {
			fmt.Fprintf(stderr, "zedge-sim: ready file %s: %v (want http and mqtt addresses)\n", *readyFile, err)
			return 1
		}
		*httpBase, *mqttAddr = "http://"+ready.HTTP, ready.MQTT
		if *wsURL == "" && ready.WS != "" {
			*wsURL = "ws://" + ready.WS + "/"
		}
	}
	if *wsURL == "" {
		*wsURL = "ws://" + strings.TrimPrefix(strings.TrimPrefix(strings.TrimRight(*httpBase, "/"), "http://"), "https://") + "/v2/ws"
	}
	sim, err := firmwaresim.New(cfg, firmwaresim.Options{HTTP: *httpBase, MQTT: *mqttAddr, Project: *project,
		JWTSecret: *jwtSecret, SigningKey: *signingKey, Logger: log})
	if err != nil {
		fmt.Fprintln(stderr, "zedge-sim:", err)
		return 2
	}

	if *appAddr != "" {
		token, err := appToken(*jwtSecret, sim.Config().Project)
		if err != nil {
			fmt.Fprintln(stderr, "zedge-sim: web app token:", err)
			return 1
		}
		url, stopApp, err := serveApp(*appAddr, webapp.Config{WebsocketURL: *wsURL, ProjectID: sim.Config().Project,
			Token: token, Site: siteOf(cfg.Name, sim.Layout())})
		if err != nil {
			fmt.Fprintln(stderr, "zedge-sim: web app:", err)
			return 1
		}
		defer stopApp()
		fmt.Fprintf(stderr, "zedge-sim: web app at %s (websocket %s)\n", url, *wsURL)
	}

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		fmt.Fprintln(stderr, "\nzedge-sim: stopping: draining and verifying (again to quit at once)")
		stop()
		<-sigs
		os.Exit(130)
	}()
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	howLong := duration.String()
	if *duration <= 0 {
		howLong = "until Ctrl-C"
	}
	fmt.Fprintf(stderr, "zedge-sim: %s: %d devices (%d MQTT, %d sensors) against %s / %s, %s\n", cfg.Name,
		cfg.Devices(), sim.Layout().MQTTDevices(), sim.Layout().Sensors(), *httpBase, *mqttAddr, howLong)

	done := make(chan struct{})
	if *progress {
		go showProgress(sim, stderr, done)
	}
	report, err := sim.Run(ctx)
	close(done)
	if err != nil {
		fmt.Fprintln(stderr, "zedge-sim:", err)
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(report)
	} else {
		fmt.Fprint(stdout, report.Text())
	}
	if report.Telemetry.Lost > 0 || report.Readings.Lost > 0 || report.Commands.Unacked > 0 ||
		report.Telemetry.Pending > 0 || report.Readings.Pending > 0 {
		return 3
	}
	return 0
}

// showProgress rewrites one line on stderr every second until done.
func showProgress(sim *firmwaresim.Sim, w io.Writer, done <-chan struct{}) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var lastTel, lastRead int64
	for {
		select {
		case <-done:
			fmt.Fprint(w, "\r\033[K")
			return
		case <-t.C:
		}
		s := sim.Stats()
		dir := ""
		if s.DirectiveActive {
			dir = " [go green]"
		}
		fmt.Fprintf(w, "\r\033[K%5.0fs  connected %d/%d  telemetry %d/s (%d acked)  readings %d/s (%d acked)  commands %d sent, %d delivered, %d acked  errors %d%s",
			s.Elapsed.Seconds(), s.DevicesConnected, s.Devices, s.TelemetryAcked-lastTel, s.TelemetryAcked,
			s.ReadingsAcked-lastRead, s.ReadingsAcked, s.CommandsSent, s.CommandsDelivered, s.CommandsAcked, s.Errors, dir)
		lastTel, lastRead = s.TelemetryAcked, s.ReadingsAcked
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
