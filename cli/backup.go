package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"portal/adminsock"
	"portal/store"
	"portal/store/bolt"
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
	err = c.withStore(*db, false, func(st store.Backend) error {
		n, err := writeBackup(st.Backup, dest)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "Wrote a %d-byte backup of %s to %s.\n", n, st.Path(), dest)
		return nil
	})
	if err == nil || !errors.Is(err, bolt.ErrLocked) {
		return err
	}
	lockErr := err
	n, err := writeBackup(func(w io.Writer) (int64, error) { return backupFromServer(*db, w) }, dest)
	if errors.Is(err, errNoServer) {
		return fmt.Errorf("%v (no server answered on %s for an online backup either)", lockErr, adminsock.Path(*db))
	}
	if errors.Is(err, errBadBackup) {
		return fmt.Errorf("what the server on %s sent: %w", adminsock.Path(*db), err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "Wrote a %d-byte backup of %s to %s, from the running server.\n", n, *db, dest)
	return nil
}

// writeBackup has backup write the copy to dest+".tmp", checks it
// (bolt.CheckFile) and only then renames it to dest. A copy that fails the
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
	if err = bolt.CheckFile(tmp); err != nil {
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

// errBadBackup marks a copy that failed bolt.CheckFile.
var errBadBackup = errors.New("the backup failed its check")
