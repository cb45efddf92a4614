package revoke

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// fileVersion is the format of the document; a reader refuses any other.
const fileVersion = 1

// MaxEncodedSize bounds the stored document a reload reads (MaxEntries entries of a few hundred bytes each).
const MaxEncodedSize = 64 << 20

// File is the Backend of one JSON file, for a single node (and the `zedge revoke` command beside it). Each
// change is a read-modify-write of the whole file under an exclusive advisory lock on a sibling file
// (<file>.lock, flock), written to a temporary file, synced and renamed over the old one, so a reader sees
// either the old list or the new one and no change is lost. Its Version is the file's stat: every write
// renames a new file into place, so a change of inode is the reliable signal; size and time catch an edit in
// place.
type File struct {
	path string
}

// NewFile is the Backend of the file at path; its directory is created when needed (the file itself on the
// first write).
func NewFile(path string) (*File, error) {
	if path == "" {
		return nil, fmt.Errorf("%w: file is empty", ErrInvalidConfig)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("revoke: %w", err)
	}
	return &File{path: path}, nil
}

// Path is the file's path.
func (f *File) Path() string { return f.path }

// String is "file <path>".
func (f *File) String() string { return "file " + f.path }

// Load reads the file; a missing file is an empty list with a nil Version.
func (f *File) Load(context.Context) ([]Entry, Version, error) {
	entries, fi, err := readFile(f.path)
	if err != nil || fi == nil {
		return entries, nil, err // a nil os.FileInfo in a Version would not be nil
	}
	return entries, fi, nil
}

// Update locks the file, reads it afresh, applies fn and replaces the file.
func (f *File) Update(_ context.Context, fn func([]Entry) ([]Entry, error)) ([]Entry, Version, error) {
	unlock, err := lockFile(f.path + ".lock")
	if err != nil {
		return nil, nil, err
	}
	defer unlock()
	entries, _, err := readFile(f.path)
	if err != nil {
		return nil, nil, err
	}
	entries, err = fn(entries)
	if err != nil {
		return nil, nil, err
	}
	fi, err := writeFile(f.path, entries)
	if err != nil {
		return nil, nil, err
	}
	return entries, fi, nil
}

// Changed stats the file and compares it with the stat of version v.
func (f *File) Changed(_ context.Context, v Version) (bool, error) {
	seen, _ := v.(os.FileInfo)
	fi, err := os.Stat(f.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return seen != nil, nil
	case err != nil:
		return false, fmt.Errorf("revoke: %w", err)
	}
	return !sameFile(seen, fi), nil
}

// sameFile reports whether two stats show the same version of the file.
func sameFile(a, b os.FileInfo) bool {
	return a != nil && b != nil && os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}

// fileDoc is the stored JSON document (the file, or the Redis value).
type fileDoc struct {
	Version int     `json:"version"`
	Entries []Entry `json:"entries"`
}

// readFile reads and checks the list. A missing file is an empty list with a nil FileInfo.
func readFile(path string) ([]Entry, os.FileInfo, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("revoke: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("revoke: %w", err)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxEncodedSize+1))
	if err != nil {
		return nil, nil, fmt.Errorf("revoke: %w", err)
	}
	if len(data) > MaxEncodedSize {
		return nil, nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrCorrupt, path, MaxEncodedSize)
	}
	entries, err := Decode(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return entries, fi, nil
}

// Decode parses a stored list strictly: the document's version must be known, unknown fields are errors (a
// misspelt field in a hand edit must not be ignored) and every entry must be valid. Every failure wraps
// ErrCorrupt.
func Decode(data []byte) ([]Entry, error) {
	if len(data) > MaxEncodedSize {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrCorrupt, MaxEncodedSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var doc fileDoc
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: data after the document", ErrCorrupt)
	}
	if doc.Version != fileVersion {
		return nil, fmt.Errorf("%w: version %d, want %d", ErrCorrupt, doc.Version, fileVersion)
	}
	if len(doc.Entries) > MaxEntries {
		return nil, fmt.Errorf("%w: more than %d entries", ErrCorrupt, MaxEntries)
	}
	for i, e := range doc.Entries {
		if err := e.Validate(); err != nil {
			return nil, fmt.Errorf("%w: entry %d: %w", ErrCorrupt, i, err)
		}
	}
	return doc.Entries, nil
}

// Encode is the stored document of entries: the file's contents, or the Redis value.
func Encode(entries []Entry) ([]byte, error) {
	if entries == nil {
		entries = []Entry{}
	}
	b, err := json.MarshalIndent(fileDoc{Version: fileVersion, Entries: entries}, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// writeFile replaces the file atomically: a temporary file in the same directory, written and synced, renamed
// over the old one, then the directory synced so the rename survives a crash.
func writeFile(path string, entries []Entry) (os.FileInfo, error) {
	data, err := Encode(entries)
	if err != nil {
		return nil, fmt.Errorf("revoke: %w", err)
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("revoke: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing left to remove
	_, werr := tmp.Write(data)
	if werr == nil {
		werr = tmp.Sync()
	}
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(tmp.Name(), 0o600)
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		return nil, fmt.Errorf("revoke: write %s: %w", path, werr)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // best effort: some file systems cannot sync a directory
		d.Close()
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("revoke: %w", err)
	}
	return fi, nil
}
