package bolt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"time"

	bbolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// This file works on database files that this process has not opened:
// checking a copy, and deleting one. Neither writes to the file.

// CheckFile checks, read-only, that the file at path is a whole portal
// database this binary can open: bbolt's consistency check, every
// top-level bucket, a schema version it knows and the CSRF key. Open
// cannot do this for a copy such as a backup, since it creates whatever
// is missing. The error matches ErrLocked if another process holds the
// file, and ErrDamaged if the file fails the check; a damaged file's
// error is only the reason ("no meta bucket"), for the caller's sentence.
func CheckFile(path string) (err error) {
	// bbolt reads through mmap, so a damaged file can fault (SIGBUS) or
	// panic; either is a failed check.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = damage{fmt.Errorf("%v", r)}
		}
	}()
	// bbolt would try to initialise an empty file, and fail obscurely.
	if fi, err := os.Stat(path); err != nil {
		return err
	} else if fi.Size() == 0 {
		return damage{errors.New("the file is empty")}
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return locked(path)
	case errors.Is(err, os.ErrPermission):
		return err
	case err != nil:
		return damage{err}
	}
	defer db.Close()
	return db.View(func(tx *bbolt.Tx) error {
		if err := checkFileTx(tx, path); err != nil {
			return damage{err}
		}
		return nil
	})
}

func checkFileTx(tx *bbolt.Tx, path string) error {
	// Before tx.Check, whose goroutine would crash the process on a page
	// past the end of a cut-short file.
	if fi, err := os.Stat(path); err != nil || fi.Size() < tx.Size() {
		return fmt.Errorf("the file is cut short: its pages need %d bytes", tx.Size())
	}
	if err := checkPages(tx); err != nil {
		return err
	}
	meta := getMetaBucket(tx)
	if meta == nil {
		return fmt.Errorf("no %s bucket", bucketMeta)
	}
	v := meta.Get(keySchemaVersion)
	if len(v) != 8 {
		return errors.New("no schema version")
	}
	version := binary.BigEndian.Uint64(v)
	if version == 0 || version > SchemaVersion {
		return fmt.Errorf("schema %d, and this binary knows 1 to %d", version, SchemaVersion)
	}
	for _, name := range topLevelBuckets {
		if tx.Bucket(name) == nil && bucketSince(name) <= version {
			return fmt.Errorf("no %s bucket", name)
		}
	}
	if len(meta.Get(keyCSRFKey)) != 32 {
		return errors.New("no CSRF key")
	}
	return nil
}

// Remove deletes the database file at path unless another process holds
// it, in which case it leaves the file and returns an error matching
// ErrLocked: deleting an open file would leave that process writing to a
// file no one can open again, while a new one took its name. A damaged or
// foreign file is deleted all the same; a missing one is not an error.
// timeout bounds the wait for the lock; 0 means Open's default.
func Remove(path string, timeout time.Duration) error {
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	if lockedBy(path, timeout) {
		return locked(path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("store: remove %s: %w", path, err)
	}
	return nil
}

// lockedBy reports whether another process holds path: opening it
// read-only takes bbolt's shared lock, which waits out timeout while a
// portal has the file. Any other failure, including the panic or fault a
// damaged file can cause, means no one holds it.
func lockedBy(path string, timeout time.Duration) (held bool) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if recover() != nil {
			held = false
		}
	}()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: timeout})
	if err == nil {
		db.Close()
	}
	return errors.Is(err, berrors.ErrTimeout)
}
