package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTicks is USER_HZ, the unit of utime/stime in /proc/<pid>/stat; it is 100 on every Linux ABI Go runs on.
const clockTicks = 100

// cpuSeconds returns the user+system CPU time a process has used so far.
func cpuSeconds(pid int) (float64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseStatCPU(string(raw))
}

// parseStatCPU extracts utime+stime from the text of /proc/<pid>/stat. The command name (field 2) is in
// parentheses and may contain spaces, so fields are counted from the last ')'.
func parseStatCPU(stat string) (float64, error) {
	end := strings.LastIndexByte(stat, ')')
	if end < 0 {
		return 0, errors.New("malformed /proc stat: no ')'")
	}
	fields := strings.Fields(stat[end+1:])
	// fields[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(fields) < 13 {
		return 0, fmt.Errorf("malformed /proc stat: %d fields", len(fields))
	}
	utime, err1 := strconv.ParseUint(fields[11], 10, 64)
	stime, err2 := strconv.ParseUint(fields[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("malformed /proc stat: %w", err)
	}
	return float64(utime+stime) / clockTicks, nil
}

// memoryBytes returns a process's current and peak resident set size.
func memoryBytes(pid int) (rss, peak int64, err error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(raw), "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("%s: %w", name, err)
		}
		if name == "VmRSS" {
			rss = kb << 10
		} else {
			peak = kb << 10
		}
	}
	return rss, peak, nil
}

// diskUsage returns the bytes allocated on disk under dir (like du: sparse and preallocated files count only
// what is really allocated).
func diskUsage(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) { // files come and go while the server runs
				return nil
			}
			return err
		}
		info, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			total += st.Blocks * 512
		} else {
			total += info.Size()
		}
		return nil
	})
	return total, err
}

// child is a server process the harness started (zedge or the canned reference).
type child struct {
	name    string
	cmd     *exec.Cmd
	addr    string
	mqtt    string // zedge's MQTT listener, from the ready file ("" for the reference server)
	ws      string // zedge's websocket listener, from the ready file
	pid     int
	logPath string
	done    chan struct{}
	waitErr error
}

// startChild starts cmd with ZEDGE_READY_FILE set and waits for the ready file ({"http": addr, "pid": n}).
func startChild(name string, cmd *exec.Cmd, workDir string) (*child, error) {
	readyFile := filepath.Join(workDir, name+".ready.json")
	logPath := filepath.Join(workDir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child keeps its own descriptor
	cmd.Env = append(cmd.Env, "ZEDGE_READY_FILE="+readyFile)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	c := &child{name: name, cmd: cmd, pid: cmd.Process.Pid, logPath: logPath, done: make(chan struct{})}
	go func() {
		c.waitErr = cmd.Wait()
		close(c.done)
	}()
	deadline := time.After(60 * time.Second)
	for {
		if raw, err := os.ReadFile(readyFile); err == nil {
			var ready struct {
				HTTP string `json:"http"`
				MQTT string `json:"mqtt"`
				WS   string `json:"ws"`
			}
			if err := json.Unmarshal(raw, &ready); err != nil || ready.HTTP == "" {
				c.kill()
				return nil, fmt.Errorf("%s: bad ready file %q: %v", name, raw, err)
			}
			c.addr, c.mqtt, c.ws = ready.HTTP, ready.MQTT, ready.WS
			return c, nil
		}
		select {
		case <-c.done:
			return nil, fmt.Errorf("%s exited before it was ready (%v); log:\n%s", name, c.waitErr, c.logTail())
		case <-deadline:
			c.kill()
			return nil, fmt.Errorf("%s was not ready within a minute; log:\n%s", name, c.logTail())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// stop sends SIGTERM and waits for a clean exit.
func (c *child) stop() error {
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(60 * time.Second):
		c.kill()
		return fmt.Errorf("%s did not stop within a minute of SIGTERM", c.name)
	}
	if c.waitErr != nil {
		return fmt.Errorf("%s exited with %v; log:\n%s", c.name, c.waitErr, c.logTail())
	}
	return nil
}

func (c *child) kill() {
	_ = c.cmd.Process.Kill()
	<-c.done
}

// logTail returns the last few KiB of the child's log.
func (c *child) logTail() string {
	raw, _ := os.ReadFile(c.logPath)
	if len(raw) > 4096 {
		raw = raw[len(raw)-4096:]
	}
	return string(raw)
}
