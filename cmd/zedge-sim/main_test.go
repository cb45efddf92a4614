package main

import (
	"bytes"
	"path/filepath"
	"testing"
)

// Bad flags and files are refused before anything runs.
func TestRunRefusesBadInput(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.yaml")
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"-no-such-flag"}, 2},
		{[]string{"-log-level", "loud"}, 2},
		{[]string{"-scenario", missing}, 2},
		{[]string{"-ready", missing}, 1},
		{[]string{"-jwt-secret", "too short", "-app-addr", ""}, 2},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(tc.args, &stdout, &stderr); code != tc.code || stdout.Len() != 0 {
			t.Errorf("%v: exit %d (stdout %q), want %d; stderr: %s", tc.args, code, stdout.String(), tc.code, stderr.String())
		}
	}
}
