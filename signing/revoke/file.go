package revoke

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// fileVersion is the format of the file; a reader refuses any other.
const fileVersion = 1

// maxFileSize bounds what a reload reads (MaxEntries entries of a few hundred bytes each).
const maxFileSize = 64 << 20

// fileDoc is the file's JSON document.
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
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, nil, fmt.Errorf("revoke: %w", err)
	}
	if len(data) > maxFileSize {
		return nil, nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrCorruptFile, path, maxFileSize)
	}
	entries, err := decode(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return entries, fi, nil
}

// decode parses the file's contents strictly: the version must be known, unknown fields are errors (a
// misspelt field in a hand edit must not be ignored) and every entry must be valid.
func decode(data []byte) ([]Entry, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var doc fileDoc
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorruptFile, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: data after the document", ErrCorruptFile)
	}
	if doc.Version != fileVersion {
		return nil, fmt.Errorf("%w: version %d, want %d", ErrCorruptFile, doc.Version, fileVersion)
	}
	if len(doc.Entries) > MaxEntries {
		return nil, fmt.Errorf("%w: more than %d entries", ErrCorruptFile, MaxEntries)
	}
	for i, e := range doc.Entries {
		if err := e.Validate(); err != nil {
			return nil, fmt.Errorf("%w: entry %d: %w", ErrCorruptFile, i, err)
		}
	}
	return doc.Entries, nil
}

// encode is the file's contents for entries.
func encode(entries []Entry) ([]byte, error) {
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
	data, err := encode(entries)
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
