package geo

import (
	"context"
	"os"
	"time"
)

// Watch polls the database file every interval and reloads it when its size,
// modification time or identity (inode) changes, which is what geoipupdate's
// write-then-rename looks like. Failures are logged, not returned: a broken
// replacement is logged once and retried only when the file changes again,
// and the previous database keeps serving meanwhile. Watch returns when ctx
// is done or the Resolver is closed, and at once when no path is configured.
// A non-positive interval means one minute.
//
// Replace the file by renaming a new one over it; rewriting it in place can
// corrupt lookups on the memory-mapped reader before Watch notices.
func (r *Resolver) Watch(ctx context.Context, every time.Duration) {
	if r == nil || r.path == "" {
		return
	}
	if every <= 0 {
		every = time.Minute
	}
	t := time.NewTicker(every)
	defer t.Stop()
	var (
		failed  os.FileInfo // replacement that would not load; skip until it changes
		statErr string      // last stat failure, so a missing file is logged once
	)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if r.isClosed() {
			return
		}
		st, err := os.Stat(r.path)
		if err != nil {
			if err.Error() != statErr {
				statErr = err.Error()
				r.log.Warn("geo: cannot check GeoIP database for updates", "path", r.path, "err", err)
			}
			continue
		}
		statErr = ""
		if sameFile(st, r.loadedStat()) || sameFile(st, failed) {
			continue
		}
		if err := r.Reload(); err != nil {
			if r.isClosed() {
				return
			}
			failed = st
			r.log.Error("geo: GeoIP database changed but cannot be loaded; still using the previous one",
				"err", err)
			continue
		}
		failed = nil
		r.log.Info("geo: reloaded GeoIP database", "status", r.Status())
	}
}

// loadedStat is the stat of the file the current database was opened from,
// or nil when none is loaded.
func (r *Resolver) loadedStat() os.FileInfo {
	if h := r.cur.Load(); h != nil {
		return h.stat
	}
	return nil
}

// sameFile reports whether a and b describe the same unchanged file.
func sameFile(a, b os.FileInfo) bool {
	return a != nil && b != nil && os.SameFile(a, b) &&
		a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}
