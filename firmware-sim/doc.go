// Package firmwaresim simulates a campus's climate-control fleet against a running zedge: the way zedge is
// tested end to end, demonstrated (make demo) and loaded (make bench). It speaks to zedge only over the wire.
//
// A campus (Config, configs/campus-*.yaml) has buildings, floors and offices; each office has a thermostat,
// air conditioners and sensors, and a room (a small thermal model: the room drifts towards the outside
// temperature, occupants heat it, running ACs cool it and draw power). The model runs Config.TimeScale times
// faster than the wall clock, so a short run covers simulated hours.
//
//   - Thermostats and air conditioners are MQTT 3.1.1 clients (paho.mqtt.golang) with device tokens (client id
//     = device id). They publish their state at QoS 1 on devices/{device}/telemetry (stored by the bridge in
//     telemetry-devices), subscribe at QoS 1 to devices/{device}/commands, apply a command to their room,
//     acknowledge it by PUBACK and reply on devices/{device}/acks with what they applied. Firmware behaviour:
//     an outbox that keeps readings until they are PUBACKed (published again after a reconnect: at least
//     once), reconnect with jittered exponential backoff, clean or persistent sessions, a fixed clock skew in
//     their timestamps, offline spells (a clean DISCONNECT, measuring on), and flaky devices whose TCP
//     connection is cut without a DISCONNECT.
//   - Sensors post readings (package sensors) through a signed URL per building to readings-{building}, with
//     the sensors client's retries and an outbox of their own.
//   - The controller follows the "go green" directive: workers claim telemetry from telemetry-devices (task
//     distribution), update the controller's view and delete what they processed; from Directive.At on, a
//     decision loop raises the AC setpoints of empty offices, caps each building's AC power by turning ACs off,
//     and gives occupied offices back their comfort, by posting commands to cmd-{device} (point to point).
//
// Every reading is identified by its device (or sensor) and timestamp, every command by its message id. The
// sim counts what was sent, acknowledged (PUBACK, 201) and, at the end, found over REST (the controller's
// processed messages plus a listing of the queues); a reading acknowledged but not found is a loss. Commands
// are matched to the status records the bridge posts to cmd-results. Run ends with a drain (devices flush and
// stay connected until every command is acknowledged) and returns a Report: counts, losses, latency
// percentiles, the REST queue stats, and the campus's AC energy before and after the directive.
//
// Credentials: with Options.JWTSecret the sim mints device tokens and an operator token (role member) itself;
// with Options.SigningKey it signs the sensors' URLs itself, otherwise it asks zedge's share API. Without a
// JWT secret it assumes zedge runs with auth none (Options.Project must then be mqtt.default_project).
package firmwaresim
