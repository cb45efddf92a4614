package badgerstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/zedge-io/zedge/store"
	"github.com/zedge-io/zedge/store/internal/engine"
)

// Store is the Badger-backed store.Store: the shared engine serves every call from memory, and a group-commit
// log persists each change to Badger before the call returns. It is safe for concurrent use.
type Store struct {
	*engine.Engine
	db  *badger.DB
	log *commitLog
	cfg Config
	lg  *slog.Logger

	gcMu     sync.Mutex // one value-log GC or compaction at a time
	stop     chan struct{}
	loops    sync.WaitGroup
	closeMu  sync.Mutex
	closeErr error
	closed   bool
}

var (
	_ store.Store     = (*Store)(nil)
	_ store.Sizer     = (*Store)(nil)
	_ store.Compactor = (*Store)(nil)
)

// Open opens (or creates) the database in cfg.Dir and loads its live state into memory.
func Open(cfg Config, log *slog.Logger) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "badgerstore")
	db, err := badger.Open(badgerOptions(cfg, log))
	if err != nil {
		return nil, fmt.Errorf("badgerstore: open %s: %w", cfg.Dir, err)
	}
	s := &Store{db: db, cfg: cfg, lg: log, stop: make(chan struct{})}
	lease, err := s.checkFormat()
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	deferMax := cfg.CommitDefer
	if cfg.Durability == DurabilityAsync {
		deferMax = 0 // commits do not fsync: waiting would save nothing
	}
	s.log = newCommitLog(db, lease, deferMax)
	opts := engine.Options{Log: s.log, WallClockExpiry: true, Logger: log, DeleteExpired: true}
	if cfg.BodyMemoryMax >= 0 {
		opts.Bodies, opts.BodyMemoryMax = bodyLoader{db}, cfg.BodyMemoryMax
	}
	s.Engine = engine.New(opts)
	started := time.Now()
	n, err := s.restore(lease)
	if err != nil {
		s.log.close()
		_ = db.Close()
		return nil, err
	}
	log.Info("store opened", "dir", cfg.Dir, "durability", cfg.Durability, "messages", n,
		"took", time.Since(started).Round(time.Millisecond))
	engine.StartReaper(s.Engine, cfg.ReapInterval)
	if cfg.GCInterval > 0 {
		s.every(cfg.GCInterval, s.runGC)
	}
	if cfg.Durability == DurabilityAsync {
		s.every(cfg.SyncInterval, func() {
			if err := db.Sync(); err != nil && !errors.Is(err, badger.ErrDBClosed) {
				log.Error("background sync failed", "err", err)
			}
		})
	}
	return s, nil
}

func badgerOptions(cfg Config, log *slog.Logger) badger.Options {
	return badger.DefaultOptions(cfg.Dir).
		WithSyncWrites(cfg.Durability == DurabilitySync).
		WithLogger(badgerLogger{log}).
		WithMemTableSize(cfg.MemTableSize).
		WithNumMemtables(3).
		WithValueThreshold(cfg.ValueThreshold).
		WithValueLogFileSize(cfg.ValueLogFileSize).
		WithBlockCacheSize(cfg.BlockCacheSize).
		WithIndexCacheSize(0).
		WithNumCompactors(cfg.NumCompactors).
		WithNumLevelZeroTables(cfg.NumLevelZeroTables).
		WithNumLevelZeroTablesStall(max(15, 3*cfg.NumLevelZeroTables)).
		// Tiny values gain little from compression and it costs CPU on every flush and compaction.
		WithCompression(options.None).
		// Writes are blind (no reads in write transactions), so conflict tracking is pure overhead.
		WithDetectConflicts(false).
		// Badger's metrics are process-global expvars; the store reports what it needs itself.
		WithMetricsEnabled(false).
		WithNumGoroutines(2)
}

// checkFormat stamps a new database with the layout version, refuses an unknown one, and returns the stored
// sequence lease.
func (s *Store) checkFormat() (lease uint64, err error) {
	err = s.db.Update(func(txn *badger.Txn) error {
		item, err := txn.Get(keyVersion)
		switch {
		case errors.Is(err, badger.ErrKeyNotFound):
			return txn.Set(keyVersion, []byte{formatVersion})
		case err != nil:
			return err
		}
		v, err := item.ValueCopy(nil)
		if err != nil {
			return err
		}
		if len(v) != 1 || v[0] != formatVersion {
			return fmt.Errorf("badgerstore: %s holds layout version %v; this build reads %d", s.cfg.Dir, v, formatVersion)
		}
		item, err = txn.Get(keyLease)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error {
			if len(v) != 8 {
				return fmt.Errorf("%w: sequence lease", errCorrupt)
			}
			lease = binary.BigEndian.Uint64(v)
			return nil
		})
	})
	return lease, err
}

// restore loads every live record (Badger hides the expired ones) into the engine, in the order the engine's
// Restorer needs: queues, claims, messages, subscriptions. Corrupt records are logged and skipped.
func (s *Store) restore(lease uint64) (messages int, err error) {
	r := engine.Restore(s.Engine)
	var project, queue string
	// Keys come sorted, so consecutive records mostly share their scope; reuse its strings.
	scope := func(k parsedKey) {
		if string(k.project) != project {
			project = string(k.project)
		}
		if string(k.queue) != queue {
			queue = string(k.queue)
		}
	}
	skipped := 0
	err = s.db.View(func(txn *badger.Txn) error {
		for _, kind := range []byte{kindQueue, kindClaim, kindMessage, kindSub} {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: kindPrefix(kind), PrefetchValues: true, PrefetchSize: 256})
			for it.Rewind(); it.Valid(); it.Next() {
				item := it.Item()
				k, err := parseKey(item.Key())
				if err == nil {
					scope(k)
					err = item.Value(func(v []byte) error {
						switch kind {
						case kindQueue:
							rec, err := decodeQueueValue(v)
							if err == nil {
								r.Queue(project, queue, rec)
							}
							return err
						case kindClaim:
							c, err := decodeClaimValue(v, string(k.rest))
							if err == nil {
								r.Claim(project, queue, c)
							}
							return err
						case kindMessage:
							m := &engine.Msg{Seq: binary.BigEndian.Uint64(k.rest)}
							body, err := decodeMessageValue(v, m)
							if err == nil {
								if s.cfg.BodyMemoryMax < 0 || len(body) <= s.cfg.BodyMemoryMax {
									m.SetBody(append(make([]byte, 0, len(body)), body...))
								}
								r.Message(project, queue, m)
								messages++
							}
							return err
						default:
							sub, err := decodeSubValue(v, queue, string(k.rest))
							if err == nil {
								r.Subscription(project, sub)
							}
							return err
						}
					})
				}
				if err != nil {
					if !errors.Is(err, errCorrupt) {
						it.Close()
						return err
					}
					skipped++
					s.lg.Warn("skipping a corrupt record", "key", fmt.Sprintf("%q", item.Key()), "err", err)
				}
			}
			it.Close()
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("badgerstore: loading %s: %w", s.cfg.Dir, err)
	}
	if orphans := r.Finish(lease); orphans > 0 || skipped > 0 {
		s.lg.Warn("restored with gaps", "queues_made_up", orphans, "corrupt_records", skipped)
	}
	return messages, nil
}

// bodyLoader reads bodies back from Badger for an engine that does not keep them.
type bodyLoader struct{ db *badger.DB }

func (b bodyLoader) LoadBodies(project, queue string, seqs []uint64, dst [][]byte) error {
	err := b.db.View(func(txn *badger.Txn) error {
		key := make([]byte, 0, 64)
		for i, seq := range seqs {
			key = appendMessageKey(key[:0], project, queue, seq)
			item, err := txn.Get(key)
			if errors.Is(err, badger.ErrKeyNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if err := item.Value(func(v []byte) error {
				body, err := messageBody(v)
				if err != nil {
					return err
				}
				dst[i] = append(make([]byte, 0, len(body)), body...)
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, badger.ErrDBClosed) {
		return fmt.Errorf("badgerstore: %w", store.ErrClosed)
	}
	return err
}

// Capabilities implements store.Store. Durable holds in both modes for a crash of the process: Badger's WAL is
// a memory-mapped file, so an applied write is in the kernel's page cache. Only sync mode also survives a
// crash of the machine (power loss) for every acknowledged write; async mode may lose the last SyncInterval.
func (s *Store) Capabilities() store.Capabilities {
	return store.Capabilities{Name: "badger", Durable: true}
}

// Health implements store.Store.
func (s *Store) Health(ctx context.Context) error {
	if err := s.Engine.Health(ctx); err != nil {
		return err
	}
	if s.db.IsClosed() {
		return fmt.Errorf("badgerstore: %w", store.ErrClosed)
	}
	return nil
}

// Close flushes everything written, stops the background loops and closes Badger.
func (s *Store) Close() error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closed {
		return store.ErrClosed
	}
	s.closed = true
	_ = s.Engine.Close()
	s.log.close()
	close(s.stop)
	s.loops.Wait()
	var errs []error
	if s.cfg.Durability == DurabilityAsync {
		errs = append(errs, s.db.Sync())
	}
	errs = append(errs, s.db.Close())
	return errors.Join(errs...)
}

// CommitStats reports the commit log's totals, for benchmarks: committed groups (each one fsync in sync mode)
// and the records in them.
func (s *Store) CommitStats() (groups, records int64) {
	return s.log.groups.Load(), s.log.records.Load()
}

// CommitHistograms reports, for metrics, the records in each committed group and the time each took to write
// (in sync mode including its fsync; a group Badger split counts once, with the time of all its parts).
func (s *Store) CommitHistograms() (records, seconds Histogram) {
	return s.log.hist.records.snapshot(), s.log.hist.seconds.snapshot()
}

func (s *Store) every(d time.Duration, fn func()) {
	s.loops.Add(1)
	go func() {
		defer s.loops.Done()
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				fn()
			}
		}
	}()
}

// runGC rewrites value-log files that are mostly garbage (expired or deleted bodies), a few per round.
func (s *Store) runGC() {
	s.gcMu.Lock()
	defer s.gcMu.Unlock()
	for range 8 {
		err := s.valueLogGC()
		if err == nil {
			continue
		}
		if !errors.Is(err, badger.ErrNoRewrite) && !errors.Is(err, badger.ErrRejected) {
			s.lg.Warn("value log GC failed", "err", err)
		}
		return
	}
}

// valueLogGC runs one round of Badger's value-log GC while no group is being committed: Badger reads the
// memtable's highest version without a lock when it picks a file (a data race with a concurrent write, which
// the race detector reports since the reaper writes delete records). A rewrite's own writes do not go through
// the commit log, so they are not held up.
func (s *Store) valueLogGC() error {
	return s.log.paused(func() error { return s.db.RunValueLogGC(s.cfg.GCDiscardRatio) })
}

// Compact implements store.Compactor: it flushes the memtables, compacts the LSM tree into one level (which
// drops expired and deleted entries) and garbage-collects the value log until nothing is left to rewrite.
func (s *Store) Compact(ctx context.Context) error {
	if err := s.Engine.Health(ctx); err != nil {
		return err
	}
	s.gcMu.Lock()
	defer s.gcMu.Unlock()
	// Badger flushes its memtables only when they fill, on Close, or when DropPrefix needs it. Dropping a
	// scratch key flushes them now; Badger refuses writes meanwhile, so our commits wait.
	err := s.log.paused(func() error {
		if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set(keyCompact, nil) }); err != nil {
			return err
		}
		return s.db.DropPrefix(keyCompact)
	})
	if err != nil {
		return fmt.Errorf("badgerstore: flush: %w", err)
	}
	if err := s.db.Flatten(s.cfg.NumCompactors); err != nil {
		return fmt.Errorf("badgerstore: flatten: %w", err)
	}
	for ctx.Err() == nil {
		err := s.valueLogGC()
		if err != nil {
			if errors.Is(err, badger.ErrNoRewrite) {
				break
			}
			return fmt.Errorf("badgerstore: value log GC: %w", err)
		}
	}
	return ctx.Err()
}

// DiskUsage implements store.Sizer: the bytes allocated on disk by every file in the database directory (LSM
// tables, value logs, memtable WALs, manifest), as du would count them. Badger's own Size() is refreshed only
// once a minute and leaves out the WALs.
func (s *Store) DiskUsage() (int64, error) {
	var total int64
	err := filepath.WalkDir(s.cfg.Dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed by a compaction while we walked
			}
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		total += allocated(info)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("badgerstore: disk usage: %w", err)
	}
	return total, nil
}
