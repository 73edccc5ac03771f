package bolt

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"time"

	bbolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"portal/store"
)

// ErrLocked is matched (errors.Is) by the error of Open, CheckFile or
// Remove when another process holds the database: most likely a running
// portal server.
var ErrLocked = errors.New("store: database is locked")

// damage marks err as a sign of a damaged file: it reads as err, and
// matches both ErrDamaged and whatever err wraps.
type damage struct{ err error }

func (d damage) Error() string   { return d.err.Error() }
func (d damage) Unwrap() []error { return []error{store.ErrDamaged, d.err} }

// damaged is the sentence Open reports for a damaged file.
func damaged(path string, cause error) error {
	return damage{fmt.Errorf("store: %s is not a portal database or is damaged (%v); restore it from a backup or move it aside to start a new one", path, cause)}
}

func locked(path string) error {
	return fmt.Errorf("store: %s is locked by another process (is another portal already running with this database?): %w", path, ErrLocked)
}

// defaultTimeout is how long Open and Remove wait for the file lock.
const defaultTimeout = 3 * time.Second

// Options configure Open.
type Options struct {
	// Timeout bounds the wait for the file lock held by another process.
	Timeout time.Duration
	// Policy is the idle timeout and maximum lifetime of sessions.
	Policy store.Policy
	// MaxSessionsPerUser caps live sessions per user; 0 means no cap.
	MaxSessionsPerUser int
	// CacheSize bounds the in-memory cache of validated sessions.
	CacheSize int
	// Notifier hears of every committed change to sessions (live
	// updates); nil for none.
	Notifier store.Notifier
	// Now replaces time.Now in tests.
	Now func() time.Time
}

// Open opens (creating if needed) the database at path and brings it to
// SchemaVersion (migrations.go). It refuses a file held by another process
// (ErrLocked), a file that is not a portal database or is damaged
// (ErrDamaged), and a database written by a newer version of portal, each
// with a sentence that names the file and says what to do.
func Open(path string, opts Options) (*Store, error) {
	if path == "" {
		return nil, errors.New("store: no database path given")
	}
	if opts.Timeout <= 0 {
		opts.Timeout = defaultTimeout
	}
	if opts.CacheSize <= 0 {
		opts.CacheSize = 65536
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	db, err := openBolt(path, opts.Timeout)
	if err != nil {
		return nil, err
	}
	db.MaxBatchDelay = signInBatchDelay
	s := &Store{db: db, path: path, opts: opts, now: opts.Now, scopes: userAccounts{limit: opts.CacheSize}}
	s.Core = store.NewCore(s, store.CoreOptions{Policy: opts.Policy, MaxSessionsPerUser: opts.MaxSessionsPerUser, CacheSize: opts.CacheSize, Now: opts.Now})
	if err := s.init(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// openBolt turns bbolt's failures (including the panics a damaged file can
// cause) into sentences an operator can act on.
func openBolt(path string, timeout time.Duration) (db *bbolt.DB, err error) {
	// bbolt reads the file through mmap, so a truncated file faults (SIGBUS)
	// rather than failing; make that a panic the recover below can report.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, damaged(path, fmt.Errorf("%v", r))
		}
	}()
	db, err = bbolt.Open(path, 0o600, &bbolt.Options{Timeout: timeout})
	switch {
	case err == nil:
		// A file cut short after the pages Open reads would fault later,
		// in whichever request first touched a missing page.
		var need int64
		db.View(func(tx *bbolt.Tx) error { need = tx.Size(); return nil })
		if fi, statErr := os.Stat(path); statErr == nil && fi.Size() < need {
			db.Close()
			return nil, damaged(path, fmt.Errorf("the file is %d bytes but its pages need %d", fi.Size(), need))
		}
		return db, nil
	case errors.Is(err, berrors.ErrTimeout):
		return nil, locked(path)
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrVersionMismatch), errors.Is(err, berrors.ErrChecksum):
		return nil, damaged(path, err)
	case errors.Is(err, os.ErrPermission):
		return nil, fmt.Errorf("store: cannot open %s: permission denied; check the file's owner and mode", path)
	default:
		// bbolt reports short or garbled files in several ways; a file that
		// exists but fails to open is damaged for the operator's purposes.
		if fi, statErr := os.Stat(path); statErr == nil && fi.Size() > 0 {
			return nil, damaged(path, err)
		}
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
}

// init runs the migrations and loads the CSRF key, in one write
// transaction that it commits only if something changed: opening a file
// that is up to date leaves it byte for byte as it was.
func (s *Store) init() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = damaged(s.path, fmt.Errorf("%v", r))
		}
	}()
	s.writes.Add(1)
	tx, err := s.db.Begin(true)
	if err != nil {
		return err
	}
	defer tx.Rollback() // after Commit, a harmless ErrTxClosed
	changed, err := migrate(tx)
	var newer errNewer
	switch {
	case errors.As(err, &newer):
		return fmt.Errorf("store: %s was written by a newer portal (schema %d, this binary knows %d); upgrade portal or restore an older backup", s.path, newer.version, SchemaVersion)
	case errors.Is(err, store.ErrDamaged):
		return damaged(s.path, err)
	case err != nil:
		return fmt.Errorf("store: open %s: %w", s.path, err)
	}
	meta := getMetaBucket(tx)
	if k := meta.Get(keyCSRFKey); len(k) == 32 {
		s.csrfKey = bytes.Clone(k)
	} else {
		s.csrfKey = make([]byte, 32)
		rand.Read(s.csrfKey)
		if err := meta.Put(keyCSRFKey, s.csrfKey); err != nil {
			return err
		}
		changed = true
	}
	if !changed {
		return nil
	}
	return tx.Commit()
}
