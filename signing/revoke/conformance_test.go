package revoke_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/zedge-io/zedge/signing/revoke"
	"github.com/zedge-io/zedge/signing/revoke/revoketest"
)

// TestFileConformance runs the backend suite against the file backend, each subtest on a file of its own.
func TestFileConformance(t *testing.T) {
	revoketest.Run(t, func(t *testing.T) revoketest.Target {
		path := filepath.Join(t.TempDir(), "data", revoke.DefaultFileName)
		return revoketest.Target{
			Open: func(t *testing.T) revoke.Backend {
				f, err := revoke.NewFile(path)
				if err != nil {
					t.Fatal(err)
				}
				return f
			},
			// A new file renamed into place, as an editor that saves atomically does: a new inode.
			Overwrite: func(t *testing.T, data []byte) {
				tmp := path + ".edit"
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(tmp, data, 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.Rename(tmp, path); err != nil {
					t.Fatal(err)
				}
			},
			Clear: func(t *testing.T) {
				if err := os.Remove(path); err != nil {
					t.Fatal(err)
				}
			},
		}
	})
}
