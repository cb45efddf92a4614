// Package webapp is the campus climate-control app: a small responsive web page (plain HTML, CSS and
// JavaScript, embedded with go:embed; no framework, no build step) that talks to zedge only through its
// websocket API, Zaqar v2's protocol (spec §10). cmd/zedge-sim serves it with Handler.
//
// # What the page does
//
// At start it fetches config.json (the Config given to Handler) and opens one websocket to
// Config.WebsocketURL. With a Config.Token it first sends authenticate; every frame carries the Client-ID
// (Config.ClientID, or a UUID the page picks) and X-Project-ID. It then subscribes the socket
// (subscription_create without a subscriber) to readings-{building} for every building, telemetry-devices
// and cmd-results, and lists the telemetry queues once (message_list with echo and include_claimed, since a
// controller may hold telemetry under claims) to fill in values before the first push. Zaqar's websocket listing has no next marker and starts at the oldest message, so the listing is only
// a first guess: pushed messages always win over listed ones, and a room shows its newest value within one
// reporting interval of its devices.
//
// Office cards show the room temperature (thermostat telemetry and temperature sensors), the target, each
// AC's mode, setpoint and power, occupancy, humidity and CO2, the time of the last update, and an inline
// SVG chart of recent temperatures with the target as a dashed line. Building headers sum up the average
// temperature and the AC power. The chart's window grows with the data the page has seen, from 20 seconds to
// 10 minutes; points are placed by the bridge's received_at for device telemetry (zedge's clock) and by the
// reading's ts for sensors (the sensor's clock, skew included). A room silent for a minute is dimmed.
//
// Setting a target (10 to 35 °C in steps of 0.5; anything else is refused in the page with the reason, and
// nothing is posted) posts {"command": "set_setpoint", "setpoint": x, "by": "app"} (ttl 300 s) to cmd-{ac}
// for every AC of the office, and follows each command as the bridge exposes it (bridge package
// documentation, "Commands out"): queued (message_get shows no claim), delivered (claimed by the bridge and
// published to the device), acknowledged (its status record {"id", "device", "queue", "status": "acked",
// "via", "acked_at"} was pushed from cmd-results; a device that also replies on its ack topic gives a second
// record, via "reply", whose reply status the page shows too). A command that has left its queue without a
// record yet is shown as such. The page polls message_get every 500 ms only while a command is queued or
// delivered.
//
// The page reconnects with exponential backoff (0.5 s to 30 s, jittered) and fetches config.json again
// before each attempt, so a restarted simulator can hand it a new token (the campus itself is read once: a
// new site needs a reload); a socket closed with 4003 is shown as an expired authentication, a refused
// authenticate or subscription with zedge's reason. Content-Security-Policy violations are reported with
// console.error.
//
// # Payloads it reads
//
// Sensor readings in readings-{building}: {"sensor", "kind", "value", "unit", "building", "office", "ts"}
// with kind temperature, humidity, co2, occupancy or power. Device telemetry in telemetry-devices is the
// bridge's envelope {"topic", "device", "received_at", "payload"} around a thermostat {"type": "thermostat",
// "device", "building", "office", "temperature", "setpoint", "occupancy", "ts"} or an AC {"type": "ac",
// "device", "building", "office", "mode", "setpoint", "power_w", "ts"}. Messages are matched to offices by
// their "office" field, else by device id; anything else is ignored.
//
// # Serving
//
// Handler serves exactly /, /index.html, /app.js, /style.css and /config.json (GET and HEAD), with a
// Content-Security-Policy that allows scripts and styles from the page's own origin and sockets only to
// the configured zedge. Config.Token is visible to whoever can load the page: give it a member token of the
// campus project and serve the app on loopback or to the people allowed to steer the campus.
package webapp
