package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// LoadResult is what a load process measured, sent to the orchestrator as JSON.
type LoadResult struct {
	Workload  string         `json:"workload"`
	Conns     int            `json:"connections"`
	Queues    int            `json:"queues"`
	Requests  uint64         `json:"requests"`
	Messages  uint64         `json:"messages"`
	Errors    uint64         `json:"errors"`
	ErrorKind map[string]int `json:"error_kinds,omitempty"` // status code or "transport" -> count
	Elapsed   float64        `json:"elapsed_s"`
	Prefilled int            `json:"prefilled,omitempty"`
	// Exhausted is set when a claim workload ran out of pre-filled messages before the end of the run.
	Exhausted bool           `json:"exhausted,omitempty"`
	Latency   LatencySummary `json:"latency"`
	// LoadCPU is the load process's own CPU seconds over the recorded window: on a small machine the load
	// generator and the server share the cores, and this shows how much the generator took.
	LoadCPU float64 `json:"load_cpu_s"`
	// Sent and Stored are mqtt-qos0's written and stored messages, and mqtt-cmd's posted commands and those
	// still in the command queues after the run.
	Sent   uint64 `json:"sent,omitempty"`
	Stored uint64 `json:"stored_or_left,omitempty"`
	// Note explains a workload's figures below the table.
	Note string `json:"note,omitempty"`
	// Soak is the soak workload's samples and verdicts.
	Soak *SoakResult `json:"soak,omitempty"`
}

// Result is one row of the report: the load figures plus what the orchestrator measured on the server.
type Result struct {
	LoadResult
	Target    string  `json:"target"` // "zedge" or "canned-201"
	ReqPerSec float64 `json:"requests_per_s"`
	MsgPerSec float64 `json:"messages_per_s"`
	ServerCPU float64 `json:"server_cpu_s"`
	CPUPer1k  float64 `json:"server_cpu_s_per_1k_requests"`
	ServerRSS int64   `json:"server_rss_bytes"`
	ServerHWM int64   `json:"server_peak_rss_bytes"`
	// RSSBefore and RSSAfter are mqtt-idle's server RSS before the devices connected and after they settled.
	RSSBefore int64 `json:"server_rss_before_bytes,omitempty"`
	RSSAfter  int64 `json:"server_rss_after_bytes,omitempty"`
	DataDir   int64 `json:"data_dir_bytes"`
	// StoreCPU is the CPU seconds of the redis-server processes over the recorded window (-store redis).
	StoreCPU   float64 `json:"store_cpu_s,omitempty"`
	VsCeiling  float64 `json:"ratio_to_canned_201,omitempty"`
	Durability string  `json:"durability,omitempty"`
}

// fill derives the rates from the raw counts.
func (r *Result) fill() {
	if r.Elapsed > 0 {
		r.ReqPerSec = float64(r.Requests) / r.Elapsed
		r.MsgPerSec = float64(r.Messages) / r.Elapsed
	}
	if r.Requests > 0 {
		r.CPUPer1k = r.ServerCPU / float64(r.Requests) * 1000
	}
}

// Report is the whole run, as written with -json.
type Report struct {
	Started    time.Time `json:"started"`
	GoVersion  string    `json:"go_version"`
	CPUs       int       `json:"cpus"`
	Short      bool      `json:"short"`
	Durability string    `json:"durability"`
	Duration   float64   `json:"duration_s"`
	Warmup     float64   `json:"warmup_s"`
	Results    []Result  `json:"results"`
	Notes      []string  `json:"notes,omitempty"`
}

func newReport(cfg Config) *Report {
	return &Report{
		Started: time.Now().UTC(), GoVersion: runtime.Version(), CPUs: runtime.NumCPU(), Short: cfg.Short,
		Durability: cfg.Durability, Duration: cfg.Duration.Seconds(), Warmup: cfg.Warmup.Seconds(),
	}
}

// applyCeiling sets each zedge row's ratio to the canned-201 reference's requests per second.
func (rep *Report) applyCeiling() {
	var ceiling float64
	for _, r := range rep.Results {
		if r.Target == targetReference && r.Workload == "post1" {
			ceiling = r.ReqPerSec
		}
	}
	if ceiling == 0 {
		return
	}
	for i := range rep.Results {
		if _, ok := mqttWorkloads[rep.Results[i].Workload]; ok || rep.Results[i].Workload == workloadSoak {
			continue // not requests against the same ceiling (soak is paced)
		}
		rep.Results[i].VsCeiling = rep.Results[i].ReqPerSec / ceiling
	}
}

// WriteJSON writes the report to path.
func (rep *Report) WriteJSON(path string) error {
	raw, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(raw, '\n'), 0o644)
}

// WriteTable prints the human-readable table.
func (rep *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "workload\ttarget\tconns\treq/s\tmsg/s\tp50\tp99\tp99.9\terrors\tcpu s/1k req\tRSS\tdata dir\tvs canned\t")
	for _, r := range rep.Results {
		ratio := "-"
		if r.VsCeiling > 0 {
			ratio = fmt.Sprintf("%.2f", r.VsCeiling)
		}
		errs := fmt.Sprintf("%d", r.Errors)
		if len(r.ErrorKind) > 0 {
			errs += " (" + formatErrorKinds(r.ErrorKind) + ")"
		}
		workload := r.Workload
		if r.Exhausted {
			workload += "*"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%.4f\t%s\t%s\t%s\t\n",
			workload, r.Target, r.Conns, formatRate(r.ReqPerSec), formatRate(r.MsgPerSec),
			formatLatency(r.Latency.P50US), formatLatency(r.Latency.P99US), formatLatency(r.Latency.P999US),
			errs, r.CPUPer1k, formatBytes(r.ServerRSS), formatBytes(r.DataDir), ratio)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, n := range rep.Notes {
		fmt.Fprintln(w, n)
	}
	return nil
}

func formatErrorKinds(kinds map[string]int) string {
	keys := make([]string, 0, len(kinds))
	for k := range kinds {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s:%d", k, kinds[k])
	}
	return strings.Join(parts, " ")
}

// formatRate prints a rate with three significant digits and a k/M suffix.
func formatRate(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.1fk", v/1e3)
	case v >= 1e3:
		return fmt.Sprintf("%.2fk", v/1e3)
	default:
		return fmt.Sprintf("%.0f", v)
	}
}

// formatLatency prints microseconds as µs below 1 ms, else ms, with three significant digits.
func formatLatency(us float64) string {
	switch {
	case us <= 0:
		return "-"
	case us < 1000:
		return fmt.Sprintf("%.0fµs", us)
	case us < 10000:
		return fmt.Sprintf("%.2fms", us/1000)
	case us < 100000:
		return fmt.Sprintf("%.1fms", us/1000)
	default:
		return fmt.Sprintf("%.0fms", us/1000)
	}
}

// formatBytes prints a size in KiB/MiB/GiB.
func formatBytes(b int64) string {
	switch {
	case b <= 0:
		return "-"
	case b < 1<<20:
		return fmt.Sprintf("%.0fKiB", float64(b)/(1<<10))
	case b < 1<<30:
		return fmt.Sprintf("%.1fMiB", float64(b)/(1<<20))
	default:
		return fmt.Sprintf("%.2fGiB", float64(b)/(1<<30))
	}
}
