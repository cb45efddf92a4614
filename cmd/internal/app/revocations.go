package app

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/zedge-io/zedge/signing/revoke"
	"github.com/zedge-io/zedge/signing/revoke/redisrevoke"
)

// revocations is the revocation list where the configuration places it, with what must be closed after it.
type revocations struct {
	list    *revoke.List
	closeFn func() error
}

// openRevocations opens the revocation list that serve and `zedge revoke` share. With store kind redis it is
// one Redis hash beside the store's keys (redisrevoke.KeyFor(key_prefix)), so every node of the deployment and
// every `zedge revoke` against any node's configuration see one list; otherwise it is the file
// (Config.RevocationFile). auth.revocations.poll_interval applies to both.
func openRevocations(cfg Config, log *slog.Logger) (*revocations, error) {
	if cfg.Store.Kind != StoreRedis {
		revCfg := cfg.Auth.Revocations
		revCfg.File = cfg.RevocationFile()
		l, err := revoke.Open(revCfg, log)
		if err != nil {
			return nil, err
		}
		return &revocations{list: l, closeFn: l.Close}, nil
	}
	rdb, err := newRedisClient(cfg.Store.Redis)
	if err != nil {
		return nil, err
	}
	b, err := redisrevoke.New(rdb, redisrevoke.Config{Key: redisrevoke.KeyFor(cfg.Store.Redis.KeyPrefix)})
	if err == nil {
		var l *revoke.List
		if l, err = revoke.New(b, cfg.Auth.Revocations.PollInterval, log); err == nil {
			return &revocations{list: l, closeFn: func() error { return errors.Join(l.Close(), rdb.Close()) }}, nil
		}
	}
	_ = rdb.Close()
	return nil, err
}

func (r *revocations) Close() error {
	if r == nil {
		return nil
	}
	return r.closeFn()
}

// importRevocationFile moves a node to a shared list without re-enabling what it had revoked: with store kind
// redis the list is in Redis and the file is not read, so entries still in the node's file (from before it
// used Redis) are merged into the shared list once, and the file is renamed to <file>.imported so that a later
// removal from the shared list is not undone at the next start. A file that does not parse fails the start,
// as it would have without Redis: its revocations cannot be known, and dropping them silently is what the
// list exists to prevent.
func importRevocationFile(cfg Config, list *revoke.List, log *slog.Logger) error {
	path := cfg.RevocationFile()
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	f, err := revoke.NewFile(path)
	if err != nil {
		return err
	}
	old, err := revoke.New(f, revoke.MaxPollInterval, nil)
	if err != nil {
		return fmt.Errorf("%w (store kind redis keeps the list in Redis; this file is imported once: repair or "+
			"remove it)", err)
	}
	defer old.Close()
	entries := old.Entries()
	if len(entries) == 0 {
		return nil
	}
	added, err := list.RevokeAll(entries, time.Now())
	if err != nil {
		return fmt.Errorf("import %s: %w", path, err)
	}
	if err := os.Rename(path, path+".imported"); err != nil {
		return fmt.Errorf("import %s: %w", path, err)
	}
	log.Info("revocation file imported into the shared list", "file", path, "entries", len(entries),
		"new", added, "where", list.Where(), "renamed_to", path+".imported")
	return nil
}
