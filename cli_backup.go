package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	bolt "go.etcd.io/bbolt"

	"portal/store"
)

// cmdBackup writes a consistent copy of the database to FILE.tmp, syncs
// it, and renames it to FILE, so FILE is either absent, the old backup or
// the whole new one. With the server stopped it reads the file itself;
// while a server holds the file it asks that server for the copy over the
// admin socket (an online backup, one read transaction).
func cmdBackup(c *cli, args []string) error {
	fs, db := c.flagSet()
	force := fs.Bool("force", false, "replace FILE if it already exists")
	pos, err := c.parse(fs, args, 1)
	if err != nil {
		return err
	}
	if len(pos) == 0 || pos[0] == "" {
		return usagef("backup needs the file to write, for example: portal backup /var/backups/portal-$(date +%%F).db")
	}
	dest := pos[0]
	fi, err := os.Stat(dest)
	switch {
	case err == nil && fi.IsDir():
		return usagef("%s is a directory; name the backup file, for example %s", dest, filepath.Join(dest, "portal.db"))
	case err == nil && !*force:
		return fmt.Errorf("%s already exists; pass -force to replace it", dest)
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("cannot check %s: %w", dest, err)
	}
	if src, err := os.Stat(*db); err == nil && fi != nil && os.SameFile(src, fi) {
		return usagef("%s is the database itself; write the backup somewhere else", dest)
	}
	err = c.withStore(*db, false, func(st *store.Store) error {
		n, err := writeBackup(st.Backup, dest)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "Wrote a %d-byte backup of %s to %s.\n", n, st.Path(), dest)
		return nil
	})
	if err == nil || !isLocked(err) {
		return err
	}
	lockErr := err
	n, err := writeBackup(func(w io.Writer) (int64, error) { return backupFromServer(*db, w) }, dest)
	if errors.Is(err, errNoServer) {
		return fmt.Errorf("%v (no server answered on %s for an online backup either)", lockErr, adminSocketPath(*db))
	}
	if errors.Is(err, errBadBackup) {
		return fmt.Errorf("what the server on %s sent: %w", adminSocketPath(*db), err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "Wrote a %d-byte backup of %s to %s, from the running server.\n", n, *db, dest)
	return nil
}

// writeBackup has backup write the copy to dest+".tmp", checks it
// (verifyBackup) and only then renames it to dest. A copy that fails the
// check is removed: a backup that would not restore is worse than none,
// because it is trusted.
func writeBackup(backup func(io.Writer) (int64, error), dest string) (n int64, err error) {
	tmp := dest + ".tmp"
	// A leftover from an interrupted backup is ours to replace; O_EXCL then
	// refuses to follow a symlink planted in its place.
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return 0, fmt.Errorf("cannot remove the leftover %s: %w", tmp, err)
	}
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, fmt.Errorf("cannot create %s: %w", tmp, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if n, err = backup(f); err != nil {
		return n, err
	}
	if err = f.Sync(); err != nil {
		return n, fmt.Errorf("cannot sync %s: %w", tmp, err)
	}
	if err = f.Close(); err != nil {
		return n, fmt.Errorf("cannot close %s: %w", tmp, err)
	}
	if err = verifyBackup(tmp); err != nil {
		return n, fmt.Errorf("%w: the %d bytes are not a whole portal database (%v), so they were deleted and %s was not written", errBadBackup, n, err, dest)
	}
	if err = os.Rename(tmp, dest); err != nil {
		return n, fmt.Errorf("cannot rename %s to %s: %w", tmp, dest, err)
	}
	// Make the rename itself durable.
	if d, derr := os.Open(filepath.Dir(dest)); derr == nil {
		d.Sync()
		d.Close()
	}
	return n, nil
}

// errBadBackup marks a copy that failed verifyBackup.
var errBadBackup = errors.New("the backup failed its check")

// backupBuckets are the top-level buckets of a portal database, as in
// store/buckets.go. store.Open cannot check a copy: it opens read-write
// and creates whatever is missing, which would turn any valid bbolt file
// into an empty portal database.
var backupBuckets = []string{"meta", "accounts", "users", "users_by_email", "sessions", "sessions_by_id", "user_sessions"}

// verifyBackup opens the copy at path read-only and checks that it is a
// whole portal database: bbolt's own consistency check, every top-level
// bucket, a schema version this binary knows and the CSRF key.
func verifyBackup(path string) (err error) {
	// bbolt reads through mmap, so a damaged file can fault (SIGBUS) or
	// panic; report either as a failed check.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	// bbolt would try to initialise an empty file, and fail obscurely.
	if fi, err := os.Stat(path); err != nil {
		return err
	} else if fi.Size() == 0 {
		return errors.New("the file is empty")
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return err
	}
	defer db.Close()
	return db.View(func(tx *bolt.Tx) error {
		// Before tx.Check, whose goroutine would crash the process on a
		// page past the end of a cut-short file.
		if fi, err := os.Stat(path); err != nil || fi.Size() < tx.Size() {
			return fmt.Errorf("the file is cut short: its pages need %d bytes", tx.Size())
		}
		var first error
		for err := range tx.Check() { // drain: Check's goroutine reads pages until it is done
			if first == nil {
				first = err
			}
		}
		if first != nil {
			return first
		}
		for _, name := range backupBuckets {
			if tx.Bucket([]byte(name)) == nil {
				return fmt.Errorf("no %s bucket", name)
			}
		}
		meta := tx.Bucket([]byte("meta"))
		v := meta.Get([]byte("schema_version"))
		if len(v) != 8 {
			return errors.New("no schema version")
		}
		if got := binary.BigEndian.Uint64(v); got == 0 || got > store.SchemaVersion {
			return fmt.Errorf("schema %d, and this binary knows 1 to %d", got, store.SchemaVersion)
		}
		if len(meta.Get([]byte("csrf_key"))) != 32 {
			return errors.New("no CSRF key")
		}
		return nil
	})
}
