package firmwaresim

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/zedge-io/zedge/sensors"
)

// Report is the outcome of a run.
type Report struct {
	Scenario    string    `json:"scenario"`
	Project     string    `json:"project"`
	Started     time.Time `json:"started"`
	Buildings   int       `json:"buildings"`
	Offices     int       `json:"offices"`
	Devices     int       `json:"devices"`
	MQTTDevices int       `json:"mqtt_devices"`
	Sensors     int       `json:"sensors"`
	// RunSeconds is the generating phase; WallSeconds adds the drain and the verification.
	RunSeconds     float64 `json:"run_seconds"`
	WallSeconds    float64 `json:"wall_seconds"`
	TimeScale      float64 `json:"time_scale"`
	SimulatedHours float64 `json:"simulated_hours"`

	// Telemetry is the MQTT flow (QoS 1, devices/{device}/telemetry → telemetry-devices).
	Telemetry FlowReport `json:"telemetry"`
	// Readings is the signed-URL flow (sensors → readings-{building}).
	Readings FlowReport     `json:"readings"`
	Commands CommandReport  `json:"commands"`
	Energy   EnergyReport   `json:"energy"`
	Firmware FirmwareReport `json:"firmware"`
	// Queues are the REST stats of the sim's queues at the end (cmd-* summed under "cmd-*").
	Queues map[string]QueueStats `json:"queues"`
	// Verified: the queues were listed over REST and every acknowledged item looked up.
	Verified     bool     `json:"verified"`
	Errors       int64    `json:"errors"`
	ErrorSamples []string `json:"error_samples,omitempty"`
}

// FlowReport counts one upstream flow. Items are identified by device (or sensor) and timestamp.
type FlowReport struct {
	// Sent: items produced by the devices. Acked: items the broker acknowledged (PUBACK or 201).
	Sent  int64 `json:"sent"`
	Acked int64 `json:"acked"`
	// Pending: produced but not acknowledged when the drain ended. Dropped: pushed out of a full outbox.
	// Rejected: refused by the broker for good (4xx).
	Pending  int64 `json:"pending"`
	Dropped  int64 `json:"dropped"`
	Rejected int64 `json:"rejected"`
	// Attempts: publishes or posts made, retries included; Failures: those that failed and were retried.
	Attempts int64 `json:"attempts"`
	Failures int64 `json:"failures"`
	// StoredMessages: messages found over REST (left in the queues plus deleted by the controller after
	// processing), duplicates included. StoredUnique: distinct items among them. Duplicates: the difference
	// (at-least-once redelivery after a lost acknowledgement).
	StoredMessages int64 `json:"stored_messages"`
	StoredUnique   int64 `json:"stored_unique"`
	Duplicates     int64 `json:"duplicates"`
	// InQueues: messages left in the queues at the end; Processed: messages the controller claimed,
	// processed and deleted.
	InQueues  int64 `json:"in_queues"`
	Processed int64 `json:"processed"`
	// Lost: acknowledged but not found over REST. Must be 0.
	Lost int64 `json:"lost"`
	// StoredUnacked: found over REST but never acknowledged to the device (stored, then the connection broke
	// before the PUBACK); at least once, not a loss.
	StoredUnacked int64 `json:"stored_unacked"`
	// Latency: publish → stored (PUBACK or 201 received).
	Latency Percentiles `json:"latency"`
}

// CommandReport counts the commands the sim posted.
type CommandReport struct {
	Sent      int64 `json:"sent"`
	Delivered int64 `json:"delivered"`
	Acked     int64 `json:"acked"`
	Unacked   int64 `json:"unacked"`
	// ResultRecords: status records in cmd-results at the end (a command may have a puback and a reply
	// record).
	ResultRecords int64 `json:"result_records"`
	// DuplicateDeliveries: deliveries of a command a device had already received.
	DuplicateDeliveries int64 `json:"duplicate_deliveries"`
	// AppDelivered: commands from others ("by":"app") the devices received.
	AppDelivered int64 `json:"app_delivered"`
	// ReplyFailures: ack-topic replies that were not PUBACKed.
	ReplyFailures int64 `json:"reply_failures"`
	// Latency: command post → the device's PUBACK, on the sim's clock (the status record follows the PUBACK by
	// one store write).
	Latency Percentiles `json:"latency"`
}

// EnergyReport is the campus's AC energy in simulated time, before and after the directive.
type EnergyReport struct {
	DirectiveAtSeconds float64 `json:"directive_at_seconds"`
	BeforeKWh          float64 `json:"before_kwh"`
	BeforeHours        float64 `json:"before_hours"`
	BeforeAvgKW        float64 `json:"before_avg_kw"`
	AfterKWh           float64 `json:"after_kwh"`
	AfterHours         float64 `json:"after_hours"`
	AfterAvgKW         float64 `json:"after_avg_kw"`
	// SavingPercent compares the average power after with before.
	SavingPercent float64 `json:"saving_percent"`
}

// FirmwareReport counts connection behaviour.
type FirmwareReport struct {
	Connects          int64 `json:"connects"`
	Reconnects        int64 `json:"reconnects"`
	ConnectFailures   int64 `json:"connect_failures"`
	FlakyDrops        int64 `json:"flaky_drops"`
	OfflineSpells     int64 `json:"offline_spells"`
	PersistentDevices int   `json:"persistent_devices"`
	FlakyDevices      int   `json:"flaky_devices"`
}

func (s *Sim) report(ctx context.Context, rest *restClient, runFor, wall time.Duration) *Report {
	r := &Report{Scenario: s.cfg.Name, Project: s.cfg.Project, Started: *s.startTime.Load(),
		Buildings: len(s.layout.Buildings), Offices: len(s.rooms), Devices: len(s.devices) + len(s.sensors),
		MQTTDevices: len(s.devices), Sensors: len(s.sensors), RunSeconds: runFor.Seconds(),
		WallSeconds: wall.Seconds(), TimeScale: s.cfg.TimeScale, Queues: map[string]QueueStats{}}
	for _, d := range s.devices {
		if d.persistent {
			r.Firmware.PersistentDevices++
		}
		if d.flaky {
			r.Firmware.FlakyDevices++
		}
	}
	r.Firmware.Connects, r.Firmware.Reconnects = s.connects.Load(), s.reconnects.Load()
	r.Firmware.ConnectFailures, r.Firmware.FlakyDrops = s.connectFailures.Load(), s.flakyDrops.Load()
	r.Firmware.OfflineSpells = s.offlineSpells.Load()

	s.mu.Lock()
	e := s.energy
	processed := make(map[string]struct{}, len(s.processedIDs))
	for k := range s.processedIDs {
		processed[k] = struct{}{}
	}
	processedMsgs := s.processedMsgs
	s.mu.Unlock()
	r.SimulatedHours = e.beforeH + e.afterH
	r.Energy = EnergyReport{DirectiveAtSeconds: s.cfg.Directive.At.Seconds(), BeforeKWh: e.beforeKWh,
		BeforeHours: e.beforeH, AfterKWh: e.afterKWh, AfterHours: e.afterH}
	if e.beforeH > 0 {
		r.Energy.BeforeAvgKW = e.beforeKWh / e.beforeH
	}
	if e.afterH > 0 {
		r.Energy.AfterAvgKW = e.afterKWh / e.afterH
	}
	if r.Energy.BeforeAvgKW > 0 && e.afterH > 0 {
		r.Energy.SavingPercent = 100 * (1 - r.Energy.AfterAvgKW/r.Energy.BeforeAvgKW)
	}

	r.Telemetry = flowCounts(s.telemetry)
	r.Readings = flowCounts(s.readings)
	r.Telemetry.Processed = processedMsgs
	verified := s.cfg.Verify
	if verified {
		// Telemetry: what the controller processed plus what is left in the queue.
		left, err := rest.listAll(ctx, TelemetryQueue)
		if err != nil {
			s.errorf("verify: list %s: %v", TelemetryQueue, err)
			verified = false
		}
		found := processed
		for _, m := range left {
			var env telemetryEnvelope
			if json.Unmarshal(m.Body, &env) == nil {
				found[env.Payload.Device+"@"+env.Payload.TS] = struct{}{}
			}
		}
		r.Telemetry.InQueues = int64(len(left))
		r.Telemetry.StoredMessages = processedMsgs + int64(len(left))
		compare(&r.Telemetry, s.telemetry.ackedSet(), found)

		found = map[string]struct{}{}
		var listed int64
		for _, b := range s.layout.Buildings {
			msgs, err := rest.listAll(ctx, b.ReadingsQueue)
			if err != nil {
				s.errorf("verify: list %s: %v", b.ReadingsQueue, err)
				verified = false
			}
			listed += int64(len(msgs))
			for _, m := range msgs {
				if rd, err := sensors.Decode(m.Body); err == nil {
					found[rd.ID()] = struct{}{}
				}
			}
		}
		r.Readings.InQueues, r.Readings.StoredMessages = listed, listed
		compare(&r.Readings, s.readings.ackedSet(), found)

		// Commands: the whole results queue, once more, is the authoritative acknowledgement record.
		results, err := rest.listAll(ctx, ResultsQueue)
		if err != nil {
			s.errorf("verify: list %s: %v", ResultsQueue, err)
			verified = false
		}
		for _, m := range results {
			s.noteResult(m.Body, true)
		}
	}
	r.Verified = verified

	sent, delivered, acked := s.commands.counts()
	latency := s.commands.latency()
	s.commands.mu.Lock()
	r.Commands = CommandReport{Sent: sent, Delivered: delivered, Acked: acked, Unacked: sent - acked,
		ResultRecords: s.commands.final, AppDelivered: s.commands.byApp, Latency: latency}
	if !verified {
		r.Commands.ResultRecords = s.commands.records
	}
	s.commands.mu.Unlock()
	r.Commands.DuplicateDeliveries = s.duplicateCommands.Load()
	r.Commands.ReplyFailures = s.replyFailures.Load()

	queues := []string{TelemetryQueue, ResultsQueue}
	for _, b := range s.layout.Buildings {
		queues = append(queues, b.ReadingsQueue)
	}
	for _, q := range queues {
		if st, err := rest.stats(ctx, q); err == nil {
			r.Queues[q] = st
		} else {
			s.errorf("stats %s: %v", q, err)
		}
	}
	var cmdTotal QueueStats
	for _, d := range s.devices {
		if st, err := rest.stats(ctx, CommandQueue(d.id)); err == nil {
			cmdTotal.Total += st.Total
			cmdTotal.Claimed += st.Claimed
			cmdTotal.Free += st.Free
		}
	}
	r.Queues["cmd-*"] = cmdTotal

	r.Errors = s.errCount.Load()
	s.mu.Lock()
	r.ErrorSamples = append([]string(nil), s.errSamples...)
	s.mu.Unlock()
	return r
}

func flowCounts(f *flow) FlowReport {
	fr := FlowReport{Sent: f.sent.Load(), Acked: f.acked.Load(), Dropped: f.dropped.Load(),
		Rejected: f.rejected.Load(), Attempts: f.attempts.Load(), Failures: f.failures.Load()}
	fr.Pending = fr.Sent - fr.Acked - fr.Dropped - fr.Rejected
	f.mu.Lock()
	fr.Latency = f.latencies.percentiles()
	f.mu.Unlock()
	return fr
}

func compare(fr *FlowReport, acked, found map[string]struct{}) {
	fr.StoredUnique = int64(len(found))
	fr.Duplicates = fr.StoredMessages - fr.StoredUnique
	for id := range acked {
		if _, ok := found[id]; !ok {
			fr.Lost++
		}
	}
	for id := range found {
		if _, ok := acked[id]; !ok {
			fr.StoredUnacked++
		}
	}
}

// Text renders the report for people.
func (r *Report) Text() string {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	p("zedge-sim report: %s (project %s)", r.Scenario, r.Project)
	p("  campus      %d buildings, %d offices, %d devices (%d MQTT thermostats/ACs, %d signed-URL sensors)",
		r.Buildings, r.Offices, r.Devices, r.MQTTDevices, r.Sensors)
	p("  time        %.1f s generating, %.1f s in all; %.2f simulated hours (time scale %g)",
		r.RunSeconds, r.WallSeconds, r.SimulatedHours, r.TimeScale)
	flow := func(name string, f FlowReport) {
		p("  %-11s sent %d, acked %d, pending %d, dropped %d, rejected %d; attempts %d (%d failed)",
			name, f.Sent, f.Acked, f.Pending, f.Dropped, f.Rejected, f.Attempts, f.Failures)
		p("  %-11s stored %d messages = %d in queues + %d processed; %d unique, %d duplicates, %d stored unacked; LOST %d",
			"", f.StoredMessages, f.InQueues, f.Processed, f.StoredUnique, f.Duplicates, f.StoredUnacked, f.Lost)
		p("  %-11s latency publish→stored p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms (%d samples)",
			"", f.Latency.P50, f.Latency.P90, f.Latency.P99, f.Latency.Max, f.Latency.Count)
	}
	flow("telemetry", r.Telemetry)
	flow("readings", r.Readings)
	c := r.Commands
	p("  commands    sent %d, delivered %d, acked %d, UNACKED %d; %d result records; %d duplicate deliveries; %d app commands delivered",
		c.Sent, c.Delivered, c.Acked, c.Unacked, c.ResultRecords, c.DuplicateDeliveries, c.AppDelivered)
	p("  %-11s latency post→PUBACK p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms", "",
		c.Latency.P50, c.Latency.P90, c.Latency.P99, c.Latency.Max)
	e := r.Energy
	if e.DirectiveAtSeconds > 0 {
		p("  energy      before the directive %.2f kWh in %.2f h (%.2f kW), after %.2f kWh in %.2f h (%.2f kW): %.1f%% less power",
			e.BeforeKWh, e.BeforeHours, e.BeforeAvgKW, e.AfterKWh, e.AfterHours, e.AfterAvgKW, e.SavingPercent)
	} else {
		p("  energy      %.2f kWh in %.2f h (%.2f kW); no directive", e.BeforeKWh, e.BeforeHours, e.BeforeAvgKW)
	}
	f := r.Firmware
	p("  firmware    %d connects, %d reconnects (%d failed), %d flaky drops, %d offline spells; %d persistent-session and %d flaky devices",
		f.Connects, f.Reconnects, f.ConnectFailures, f.FlakyDrops, f.OfflineSpells, f.PersistentDevices, f.FlakyDevices)
	names := make([]string, 0, len(r.Queues))
	for q := range r.Queues {
		names = append(names, q)
	}
	sort.Strings(names)
	for _, q := range names {
		st := r.Queues[q]
		p("  queue       %-20s total %d (claimed %d, free %d)", q, st.Total, st.Claimed, st.Free)
	}
	p("  verified    %v; %d errors", r.Verified, r.Errors)
	for _, e := range r.ErrorSamples {
		p("    error: %s", e)
	}
	return b.String()
}
