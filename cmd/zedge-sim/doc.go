// Command zedge-sim runs a simulated campus (package firmwaresim) against a running zedge: thermostats and
// air conditioners over MQTT with device tokens, sensors over signed URLs, and the "go green" controller. It
// prints a live progress line on a terminal and a report at the end.
//
//	zedge-sim -http http://127.0.0.1:8888 -mqtt 127.0.0.1:1883 -jwt-secret "$ZEDGE_JWT_SECRET" \
//	    -signing-key "$ZEDGE_SIGNING_KEY" -scenario configs/campus-small.yaml -duration 60s
//	zedge-sim -ready /tmp/zedge-ready.json -devices 1000 -duration 30s -json
//
// Flags (environment in brackets):
//
//	-http URL          zedge's REST base [ZEDGE_SIM_HTTP], default http://127.0.0.1:8888
//	-mqtt HOST:PORT    zedge's MQTT listener [ZEDGE_SIM_MQTT], default 127.0.0.1:1883
//	-ready FILE        take -http and -mqtt from zedge's ZEDGE_READY_FILE instead
//	-project P         project of queues and tokens (default: the scenario's, "campus"); with auth none it
//	                   must be zedge's mqtt.default_project
//	-jwt-secret S      zedge's HS256 secret [ZEDGE_JWT_SECRET]: mint device and operator tokens (auth jwt);
//	                   empty: zedge runs with auth none
//	-signing-key S     zedge's URL-signing key [ZEDGE_SIGNING_KEY]: sign sensor URLs locally; empty: ask
//	                   zedge's share API
//	-scenario FILE     campus YAML (default: the built-in small campus, as configs/campus-small.yaml)
//	-devices N         resize the campus to about N devices (thermostats, ACs and sensors)
//	-duration D        how long to generate (default 60s; 0 runs until SIGINT); the drain and the
//	                   verification follow
//	-json              print the report as JSON on stdout instead of text
//	-progress          force the progress line on (default: on when stderr is a terminal)
//	-log-level L       debug shows every error as it happens (default warn)
//	-app-addr H:P      serve the climate-control web app (package firmware-sim/webapp) there
//	                   [ZEDGE_SIM_APP_ADDR], default 127.0.0.1:8090; "" turns it off
//	-ws URL            zedge's websocket API for the web app [ZEDGE_SIM_WS]; default the ready file's ws
//	                   listener, else ws://<-http host>/v2/ws. With a JWT secret the page gets a member token.
//
// The first SIGINT or SIGTERM ends generation early (drain, verify, report); a second exits at once.
// Exit status: 0 when nothing was lost, every reading was acknowledged by the end of the drain and every
// command was acknowledged; 3 otherwise (see the report); 1 when the run could not start; 2 for bad flags.
package main
