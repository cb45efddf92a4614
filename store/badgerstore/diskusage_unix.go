//go:build unix

package badgerstore

import (
	"io/fs"
	"syscall"
)

// allocated returns the bytes a file occupies on disk (its allocated blocks), which for Badger's sparse,
// preallocated WAL and value-log files is far less than their apparent size.
func allocated(info fs.FileInfo) int64 {
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		return int64(st.Blocks) * 512
	}
	return info.Size()
}
