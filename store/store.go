// Package store keeps accounts, users and sessions in a bbolt file. It knows
// nothing of HTTP: callers pass plain values and get plain values back.
package store

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Options configure Open.
type Options struct {
	// Timeout bounds the wait for the file lock held by another process.
	Timeout time.Duration
	// Policy is the idle timeout and maximum lifetime of sessions.
	Policy Policy
	// MaxSessionsPerUser caps live sessions per user; 0 means no cap.
	MaxSessionsPerUser int
	// CacheSize bounds the in-memory cache of validated sessions.
	CacheSize int
	// Now replaces time.Now in tests.
	Now func() time.Time
}

// Store is the bbolt-backed session and user store. It is safe for
// concurrent use.
type Store struct {
	db       *bolt.DB
	path     string
	opts     Options
	now      func() time.Time
	csrfKey  []byte
	cache    *sessionCache
	lists    *listCache
	activity *activity
	writes   atomic.Int64
}

// Open opens (creating if needed) the database at path. It refuses a file
// held by another process, a file that is not a portal database, and a
// database written by a newer version of portal.
func Open(path string, opts Options) (*Store, error) {
	if path == "" {
		return nil, errors.New("store: no database path given")
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 3 * time.Second
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
	s := &Store{db: db, path: path, opts: opts, now: opts.Now, cache: newSessionCache(opts.CacheSize), lists: newListCache(opts.CacheSize), activity: newActivity()}
	if err := s.init(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// openBolt turns bbolt's failures (including the panics a damaged file can
// cause) into sentences an operator can act on.
func openBolt(path string, timeout time.Duration) (db *bolt.DB, err error) {
	// bbolt reads the file through mmap, so a truncated file faults (SIGBUS)
	// rather than failing; make that a panic the recover below can report.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, damaged(path, fmt.Errorf("%v", r))
		}
	}()
	db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout})
	switch {
	case err == nil:
		// A file cut short after the pages Open reads would fault later,
		// in whichever request first touched a missing page.
		var need int64
		db.View(func(tx *bolt.Tx) error { need = tx.Size(); return nil })
		if fi, statErr := os.Stat(path); statErr == nil && fi.Size() < need {
			db.Close()
			return nil, damaged(path, fmt.Errorf("the file is %d bytes but its pages need %d", fi.Size(), need))
		}
		return db, nil
	case errors.Is(err, berrors.ErrTimeout):
		return nil, fmt.Errorf("store: %s is locked by another process (is another portal already running with this database?): %w", path, ErrLocked)
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

func damaged(path string, cause error) error {
	return fmt.Errorf("store: %s is not a portal database or is damaged (%v); restore it from a backup or move it aside to start a new one", path, cause)
}

// init creates the buckets, checks the schema version and loads the CSRF key.
func (s *Store) init() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = damaged(s.path, fmt.Errorf("%v", r))
		}
	}()
	return s.update(func(tx *bolt.Tx) error {
		for _, name := range topLevelBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("store: create bucket %s: %w", name, err)
			}
		}
		meta := tx.Bucket(bucketMeta)
		if v := meta.Get(keySchemaVersion); v != nil {
			if len(v) != 8 {
				return damaged(s.path, errors.New("bad schema version"))
			}
			if got := binary.BigEndian.Uint64(v); got > SchemaVersion {
				return fmt.Errorf("store: %s was written by a newer portal (schema %d, this binary knows %d); upgrade portal or restore an older backup", s.path, got, SchemaVersion)
			}
		}
		if err := meta.Put(keySchemaVersion, binary.BigEndian.AppendUint64(nil, SchemaVersion)); err != nil {
			return err
		}
		if k := meta.Get(keyCSRFKey); len(k) == 32 {
			s.csrfKey = bytes.Clone(k)
			return nil
		}
		s.csrfKey = make([]byte, 32)
		rand.Read(s.csrfKey)
		return meta.Put(keyCSRFKey, s.csrfKey)
	})
}

// Close flushes pending last-active times and closes the file.
func (s *Store) Close() error {
	_, flushErr := s.FlushActivity()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store: close %s: %w", s.path, err)
	}
	return flushErr
}

// Path is the database file's path.
func (s *Store) Path() string { return s.path }

// CSRFKey is a random key kept in the database, so CSRF tokens derived from
// it survive restarts.
func (s *Store) CSRFKey() []byte { return s.csrfKey }

// Policy is the session policy the store enforces.
func (s *Store) Policy() Policy { return s.opts.Policy }

// WriteTxCount is how many write transactions this store has committed or
// attempted; the benchmark uses it to show that requests do not write.
func (s *Store) WriteTxCount() int64 { return s.writes.Load() }

// Backup writes a consistent copy of the database to w while it stays in use.
func (s *Store) Backup(w io.Writer) (int64, error) {
	var n int64
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("store: backup: %w", err)
	}
	return n, nil
}

// Check runs bbolt's consistency check and verifies that every index
// agrees with its records.
func (s *Store) Check() error {
	return s.db.View(func(tx *bolt.Tx) error {
		var first error
		for err := range tx.Check() { // drain: Check's goroutine blocks until read
			if first == nil {
				first = fmt.Errorf("store: check: %w", err)
			}
		}
		if first != nil {
			return first
		}
		return checkIndexes(tx)
	})
}

// update runs one write transaction. Every write goes through here, so the
// list cache can never outlive a commit.
func (s *Store) update(fn func(*bolt.Tx) error) error {
	s.writes.Add(1)
	defer s.lists.invalidate() // after the commit: see listCache
	return s.db.Update(fn)
}

// newID returns a random 128-bit id as 32 lower-case hex characters.
func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ValidID reports whether id has the shape newID produces. Handlers use it
// to reject malformed ids before touching the database.
func ValidID(id string) bool {
	if len(id) != 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func put(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, data)
}

// get decodes the value at key into v, returning ErrNotFound if absent.
// json.Unmarshal copies, so nothing of the transaction's memory escapes.
func get(b *bolt.Bucket, key []byte, v any) error {
	data := b.Get(key)
	if data == nil {
		return ErrNotFound
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("store: decode %s: %w", key, err)
	}
	return nil
}

// has reports whether key is in b. Set members are stored with nil values,
// which Get cannot tell from absence inside the writing transaction.
func has(b *bolt.Bucket, key []byte) bool {
	k, _ := b.Cursor().Seek(key)
	return bytes.Equal(k, key)
}

// Ping checks that the database answers.
func (s *Store) Ping() error {
	return s.db.View(func(tx *bolt.Tx) error {
		if getMetaBucket(tx) == nil {
			return errors.New("store: meta bucket missing")
		}
		return nil
	})
}
