package revoke

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/zedge-io/zedge/signing"
)

// Kind is what an entry names.
type Kind string

// Kinds of entries.
const (
	// Signature names a signed URL by the fingerprint of its signature (signing.Fingerprint).
	Signature Kind = "signature"
	// TokenID names one token by its jti.
	TokenID Kind = "jti"
	// Subject names every token of a subject issued at or before the revocation.
	Subject Kind = "subject"
)

// Errors.
var (
	// ErrInvalidEntry: an entry's kind is unknown or its id is empty, too long, or not printable.
	ErrInvalidEntry = errors.New("revoke: invalid entry")
	// ErrInvalidConfig: a Config field is out of range.
	ErrInvalidConfig = errors.New("revoke: invalid config")
	// ErrCorrupt: the stored list (the file, or the Redis value) is not a revocation list.
	ErrCorrupt = errors.New("revoke: corrupt revocation list")
	// ErrNotFound: Remove found no such entry.
	ErrNotFound = errors.New("revoke: no such entry")
)

// Limits.
const (
	// MaxIDLength bounds an entry's id (a jti or a subject; fingerprints are 64 characters).
	MaxIDLength = 256
	// MaxReasonLength bounds the free-text reason.
	MaxReasonLength = 512
	// MaxEntries bounds the list, so that a runaway script cannot make every reload expensive.
	MaxEntries = 100000
	// MaxLeeway is how long after its credential's expiry an entry is kept: the largest clock skew a token
	// verifier may allow (signing.MaxTokenLeeway).
	MaxLeeway = signing.MaxTokenLeeway
	// MaxPollInterval keeps "refused within a second" true for changes made by another process or node.
	MaxPollInterval = time.Second
	// MinPollInterval keeps the watcher from spinning.
	MinPollInterval = 10 * time.Millisecond
)

// DefaultFileName is the file's name in the data directory.
const DefaultFileName = "revocations.json"

// Entry is one revoked credential.
type Entry struct {
	Kind Kind `json:"kind"`
	// ID is the fingerprint, jti or subject.
	ID string `json:"id"`
	// RevokedAt is when the entry was made; for Subject it is the cut-off for iat.
	RevokedAt time.Time `json:"revoked_at"`
	// Expires, when set, is when the credential expires on its own; the entry is dropped MaxLeeway later.
	Expires time.Time `json:"expires,omitzero"`
	// Reason is the operator's note.
	Reason string `json:"reason,omitempty"`
}

// Validate checks the kind and the id.
func (e Entry) Validate() error {
	switch e.Kind {
	case Signature:
		if len(e.ID) != 64 || strings.Trim(e.ID, "0123456789abcdef") != "" {
			return fmt.Errorf("%w: a signature entry's id is the 64 hex digits of its fingerprint", ErrInvalidEntry)
		}
	case TokenID, Subject:
		if e.ID == "" || len(e.ID) > MaxIDLength || !printable(e.ID) {
			return fmt.Errorf("%w: %s must be 1..%d printable characters", ErrInvalidEntry, e.Kind, MaxIDLength)
		}
	default:
		return fmt.Errorf("%w: kind %q is not %s, %s or %s", ErrInvalidEntry, e.Kind, Signature, TokenID, Subject)
	}
	if len(e.Reason) > MaxReasonLength || !utf8.ValidString(e.Reason) {
		return fmt.Errorf("%w: reason longer than %d bytes or not UTF-8", ErrInvalidEntry, MaxReasonLength)
	}
	return nil
}

func printable(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return false
		}
	}
	return true
}

// ForSignature is the entry that revokes the signed URL with this signature; expires is the URL's expiry
// (zero when unknown). The signature is not kept, only its fingerprint.
func ForSignature(signature string, expires time.Time) Entry {
	return Entry{Kind: Signature, ID: signing.Fingerprint(signature), Expires: expires}
}

// live reports whether the entry still matters at now.
func (e Entry) live(now time.Time) bool {
	return e.Expires.IsZero() || now.Before(e.Expires.Add(MaxLeeway))
}

// Config configures the revocation list.
type Config struct {
	// File is the revocation list's path. The application defaults it to revocations.json in the data
	// directory.
	File string `yaml:"file"`
	// PollInterval is how often a running server checks the stored list (the file, or the version in Redis)
	// for changes made by another process or node.
	PollInterval time.Duration `yaml:"poll_interval"`
}

// DefaultConfig polls four times a second; File is left for the application to place.
func DefaultConfig() Config { return Config{PollInterval: 250 * time.Millisecond} }

// Validate checks the file name and the poll interval.
func (c Config) Validate() error {
	if c.File == "" {
		return fmt.Errorf("%w: file is empty", ErrInvalidConfig)
	}
	if c.PollInterval < MinPollInterval || c.PollInterval > MaxPollInterval {
		return fmt.Errorf("%w: poll_interval %v outside %v..%v", ErrInvalidConfig, c.PollInterval,
			MinPollInterval, MaxPollInterval)
	}
	return nil
}

// snapshot is one immutable state of the list.
type snapshot struct {
	entries    []Entry
	signatures map[[sha256.Size]byte]struct{} // fingerprints, decoded
	tokenIDs   map[string]struct{}
	subjects   map[string]time.Time // subject -> latest revocation
}

func newSnapshot(entries []Entry) *snapshot {
	s := &snapshot{entries: entries}
	for _, e := range entries {
		switch e.Kind {
		case Signature:
			if s.signatures == nil {
				s.signatures = make(map[[sha256.Size]byte]struct{})
			}
			var fp [sha256.Size]byte
			if _, err := hex.Decode(fp[:], []byte(e.ID)); err == nil { // Validate has checked the form
				s.signatures[fp] = struct{}{}
			}
		case TokenID:
			if s.tokenIDs == nil {
				s.tokenIDs = make(map[string]struct{})
			}
			s.tokenIDs[e.ID] = struct{}{}
		case Subject:
			if s.subjects == nil {
				s.subjects = make(map[string]time.Time)
			}
			if at, ok := s.subjects[e.ID]; !ok || e.RevokedAt.After(at) {
				s.subjects[e.ID] = e.RevokedAt
			}
		}
	}
	return s
}

// List is the revocation list over one Backend. Lookups are lock-free and safe for concurrent use: they read an
// immutable snapshot and never touch the backend. Changes are serialised within the process by a mutex and
// across processes by the backend's atomic update.
type List struct {
	backend Backend
	poll    time.Duration
	log     *slog.Logger

	snap atomic.Pointer[snapshot]

	mu   sync.Mutex // serialises Revoke, Remove and reloads; guards seen
	seen Version

	// watchCtx ends a poll that is waiting on the backend when Close is called.
	watchCtx    context.Context
	watchCancel context.CancelFunc
	watchOnce   sync.Once
	closeOnce   sync.Once
	done        chan struct{}
}

// Open loads the list from the file cfg.File (a missing file is an empty list; its directory is created when
// needed). A file that does not parse is an error: starting with an empty list would re-enable revoked
// credentials. Open starts no goroutine; see Watch.
func Open(cfg Config, log *slog.Logger) (*List, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	f, err := NewFile(cfg.File)
	if err != nil {
		return nil, err
	}
	return New(f, cfg.PollInterval, log)
}

// New loads the list from b, which Watch polls every poll (MinPollInterval..MaxPollInterval). Nothing stored
// is an empty list; a stored list that does not parse is an error (ErrCorrupt), for the reason Open gives. New
// starts no goroutine; see Watch. The List does not close b's connections, if any: its owner does, after Close.
func New(b Backend, poll time.Duration, log *slog.Logger) (*List, error) {
	if poll < MinPollInterval || poll > MaxPollInterval {
		return nil, fmt.Errorf("%w: poll_interval %v outside %v..%v", ErrInvalidConfig, poll, MinPollInterval, MaxPollInterval)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := &List{backend: b, poll: poll, log: log.With("component", "revoke"), done: make(chan struct{})}
	l.watchCtx, l.watchCancel = context.WithCancel(context.Background())
	entries, v, err := b.Load(context.Background())
	if err != nil {
		return nil, err
	}
	l.seen = v
	l.snap.Store(newSnapshot(entries))
	return l, nil
}

// Where says where the list is kept (the backend's description), for logs and the CLI.
func (l *List) Where() string { return l.backend.String() }

// SignatureRevoked reports whether the signed URL with this signature is revoked. When no URL is revoked it
// costs one atomic load; otherwise one SHA-256 (of signing.Fingerprint, without its hex) and one map lookup,
// and no allocation.
func (l *List) SignatureRevoked(signature string) bool {
	s := l.snap.Load()
	if len(s.signatures) == 0 {
		return false
	}
	// sha256 only reads its input, so the string's bytes are hashed in place.
	_, ok := s.signatures[sha256.Sum256(unsafe.Slice(unsafe.StringData(signature), len(signature)))]
	return ok
}

// TokenRevoked reports whether a token with this jti, subject and issue time (zero: no iat) is revoked.
func (l *List) TokenRevoked(jti, subject string, issuedAt time.Time) bool {
	s := l.snap.Load()
	if jti != "" && len(s.tokenIDs) > 0 {
		if _, ok := s.tokenIDs[jti]; ok {
			return true
		}
	}
	if len(s.subjects) > 0 {
		if at, ok := s.subjects[subject]; ok && (issuedAt.IsZero() || !issuedAt.After(at)) {
			return true
		}
	}
	return false
}

// Entries returns a copy of the entries, oldest first.
func (l *List) Entries() []Entry { return slices.Clone(l.snap.Load().entries) }

// Revoke adds e (RevokedAt set to now when zero) to the file and to the list in memory, dropping entries
// whose credentials have expired. Revoking what is already revoked keeps the existing entry, updated with a
// later expiry or a new reason. It returns the entry as stored.
func (l *List) Revoke(e Entry, now time.Time) (Entry, error) {
	e, err := normalise(e, now)
	if err != nil {
		return Entry{}, err
	}
	var stored Entry
	err = l.update(now, func(entries []Entry) ([]Entry, error) {
		i := slices.IndexFunc(entries, func(x Entry) bool { return x.Kind == e.Kind && x.ID == e.ID })
		var err error
		entries, stored, err = merge(entries, i, e)
		return entries, err
	})
	if err != nil {
		return Entry{}, err
	}
	return stored, nil
}

// RevokeAll adds every entry as Revoke does, in one write: all of them, or none when one is invalid or the
// list would grow past MaxEntries. It returns how many entries were new to the list (the others were merged
// into the existing ones).
func (l *List) RevokeAll(es []Entry, now time.Time) (int, error) {
	norm := make([]Entry, len(es))
	for i, e := range es {
		var err error
		if norm[i], err = normalise(e, now); err != nil {
			return 0, err
		}
	}
	type key struct {
		kind Kind
		id   string
	}
	var added int
	err := l.update(now, func(entries []Entry) ([]Entry, error) {
		added = 0
		index := make(map[key]int, len(entries)+len(norm))
		for i, e := range entries {
			index[key{e.Kind, e.ID}] = i
		}
		for _, e := range norm {
			i, ok := index[key{e.Kind, e.ID}]
			if !ok {
				i = -1
				index[key{e.Kind, e.ID}] = len(entries)
				added++
			}
			var err error
			if entries, _, err = merge(entries, i, e); err != nil {
				return nil, err
			}
		}
		return entries, nil
	})
	if err != nil {
		return 0, err
	}
	return added, nil
}

// normalise sets a missing RevokedAt to now, puts the times in UTC and validates the entry.
func normalise(e Entry, now time.Time) (Entry, error) {
	if e.RevokedAt.IsZero() {
		e.RevokedAt = now
	}
	e.RevokedAt = e.RevokedAt.UTC()
	if !e.Expires.IsZero() {
		e.Expires = e.Expires.UTC()
	}
	return e, e.Validate()
}

// merge adds e to entries (i < 0), or merges it into entries[i], the entry of the same kind and id, and
// returns the entry as stored.
func merge(entries []Entry, i int, e Entry) ([]Entry, Entry, error) {
	if i < 0 {
		if len(entries) >= MaxEntries {
			return nil, Entry{}, fmt.Errorf("%w: the list holds %d entries already", ErrInvalidEntry, MaxEntries)
		}
		return append(entries, e), e, nil
	}
	old := &entries[i]
	// A subject revoked again moves its cut-off forward: tokens issued between the two are refused too.
	if e.Kind == Subject && e.RevokedAt.After(old.RevokedAt) {
		old.RevokedAt = e.RevokedAt
	}
	if !old.Expires.IsZero() && (e.Expires.IsZero() || e.Expires.After(old.Expires)) {
		old.Expires = e.Expires
	}
	if e.Reason != "" {
		old.Reason = e.Reason
	}
	return entries, *old, nil
}

// Remove deletes the entry of this kind and id (for a mistaken revocation). It fails with ErrNotFound when
// there is none.
func (l *List) Remove(kind Kind, id string, now time.Time) error {
	return l.update(now, func(entries []Entry) ([]Entry, error) {
		i := slices.IndexFunc(entries, func(x Entry) bool { return x.Kind == kind && x.ID == id })
		if i < 0 {
			return nil, fmt.Errorf("%w: %s %q", ErrNotFound, kind, id)
		}
		return slices.Delete(entries, i, i+1), nil
	})
}

// update is the one read-modify-write: the backend hands fn the stored list as it is now (another process may
// have changed it), fn's result minus the expired entries is stored, and the snapshot is installed.
func (l *List) update(now time.Time, fn func([]Entry) ([]Entry, error)) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	entries, v, err := l.backend.Update(context.Background(), func(entries []Entry) ([]Entry, error) {
		entries, err := fn(entries)
		if err != nil {
			return nil, err
		}
		return slices.DeleteFunc(entries, func(e Entry) bool { return !e.live(now) }), nil
	})
	if err != nil {
		return err
	}
	l.seen = v
	l.snap.Store(newSnapshot(entries))
	return nil
}

// Reload re-reads the stored list if it changed since the list last saw it and reports whether it did. On an
// error (a list that does not parse, a backend that does not answer) the list in memory is kept.
func (l *List) Reload() (bool, error) { return l.reload(context.Background()) }

func (l *List) reload(ctx context.Context) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	changed, err := l.backend.Changed(ctx, l.seen)
	if err != nil || !changed {
		return false, err
	}
	entries, v, err := l.backend.Load(ctx)
	if err != nil {
		return false, err
	}
	if v == nil && len(l.snap.Load().entries) > 0 {
		l.log.Warn("revocation list removed: the list is now empty", "where", l.backend.String())
	}
	l.seen = v
	l.snap.Store(newSnapshot(entries))
	return true, nil
}

// Watch starts polling the backend every PollInterval, so that changes made by another process (zedge revoke)
// or another node take effect within one interval. Close stops it. Calling Watch again does nothing.
func (l *List) Watch() {
	l.watchOnce.Do(func() {
		go func() {
			defer close(l.done)
			t := time.NewTicker(l.poll)
			defer t.Stop()
			var lastErr string
			for {
				select {
				case <-l.watchCtx.Done():
					return
				case <-t.C:
				}
				changed, err := l.reload(l.watchCtx)
				switch {
				case err != nil:
					if l.watchCtx.Err() != nil {
						return // Close interrupted the poll
					}
					// Log a broken list or an unreachable backend once, not at every tick.
					if err.Error() != lastErr {
						l.log.Error("revocation list not reloaded; keeping the previous list", "where", l.backend.String(), "err", err)
						lastErr = err.Error()
					}
				case changed:
					lastErr = ""
					l.log.Info("revocation list reloaded", "where", l.backend.String(), "entries", len(l.snap.Load().entries))
				case lastErr != "":
					// The backend answers again and nothing changed meanwhile; a later failure is logged anew.
					lastErr = ""
					l.log.Info("revocation list readable again", "where", l.backend.String())
				}
			}
		}()
	})
}

// Close stops the watcher, if any, and waits for it.
func (l *List) Close() error {
	l.closeOnce.Do(func() {
		l.watchCancel()
		started := true
		l.watchOnce.Do(func() { started = false })
		if started {
			<-l.done
		}
	})
	return nil
}
