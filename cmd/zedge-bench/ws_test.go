package main

import (
	"strings"
	"testing"
)

func TestWSSocketsFor(t *testing.T) {
	for _, tc := range []struct {
		n     int
		short bool
		want  int
	}{{0, false, 1000}, {0, true, 200}, {50, false, 50}, {50, true, 50}} {
		if got := wsSocketsFor(tc.n, tc.short); got != tc.want {
			t.Errorf("wsSocketsFor(%d, %v) = %d, want %d", tc.n, tc.short, got, tc.want)
		}
	}
}

func TestWSIdleNote(t *testing.T) {
	note := wsIdleNote(1000, 20<<20, 20<<20+16*1024*1000)
	if !strings.Contains(note, "16.0 KiB per idle socket") || !strings.Contains(note, "1000 idle websockets") {
		t.Errorf("note %q", note)
	}
	if strings.Contains(defaultWorkloadSet, workloadWSIdle) == false {
		t.Errorf("%s is not in the default set %q", workloadWSIdle, defaultWorkloadSet)
	}
}
