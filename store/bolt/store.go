package bolt

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	bbolt "go.etcd.io/bbolt"

	"portal/store"
)

// Store is the bbolt-backed session and user store. It is safe for
// concurrent use.
type Store struct {
	*store.Core
	db      *bbolt.DB
	path    string
	opts    Options
	now     func() time.Time
	csrfKey []byte
	dirs    partnerDirs
	scopes  userAccounts
	changes notifications
	// ceremonies is the WebAuthn ceremonies under way: in memory, not in
	// the file (ceremonies.go).
	ceremonies ceremonies
	writes     atomic.Int64
	// commits counts committed write transactions: a cached scope is
	// good only for the count it was read at.
	commits atomic.Uint64
}

// Close flushes pending last-active times and closes the file.
func (s *Store) Close() error {
	_, flushErr := s.FlushLastActive()
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

// WriteTxCount is how many write transactions this store has committed or
// attempted; the benchmark uses it to show that requests do not write.
func (s *Store) WriteTxCount() int64 { return s.writes.Load() }

// Backup writes a consistent copy of the database to w while it stays in use.
func (s *Store) Backup(w io.Writer) (int64, error) {
	var n int64
	err := s.db.View(func(tx *bbolt.Tx) error {
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
// agrees with its records. What it finds matches ErrDamaged.
func (s *Store) Check() error {
	return s.db.View(func(tx *bbolt.Tx) error {
		if err := checkPages(tx); err != nil {
			return damage{fmt.Errorf("store: check: %w", err)}
		}
		if err := checkIndexes(tx); err != nil {
			return damage{err}
		}
		return nil
	})
}

// checkPages is the first problem bbolt's consistency check finds in tx.
func checkPages(tx *bbolt.Tx) error {
	var first error
	for err := range tx.Check() { // drain: Check's goroutine blocks until read
		if first == nil {
			first = err
		}
	}
	return first
}

// update runs one write transaction. Every write goes through here (or
// signInBatch), so the list cache can never outlive a commit.
func (s *Store) update(fn func(*bbolt.Tx) error) error {
	return s.afterCommit(s.updateLastActive(fn))
}

// afterCommit is what follows every write but the last-active flush's.
func (s *Store) afterCommit(err error) error {
	s.dirs.invalidate() // after the commit: see partnerDirs
	s.publish()         // after every cache has forgotten the old state
	return err
}

// signInBatchDelay is how long a sign-in's commit waits for others to
// share its fsync: about one flush of a fast disk, so a lone sign-in is
// hardly slower.
const signInBatchDelay = time.Millisecond

// signInBatch is update for sign-ins: the commits of sign-ins that arrive
// within signInBatchDelay of each other share one fsync (bbolt's Batch),
// so a burst of cheap sign-ins (passkeys) is not held to one disk flush
// each. fn may run more than once, so it must start from scratch.
func (s *Store) signInBatch(fn func(*bbolt.Tx) error) error {
	return s.afterCommit(s.commit(s.db.Batch, fn))
}

// updateLastActive is update for the last-active flush, which leaves partner
// directories valid: it only moves last-active times later (so a cached
// expiry is early, never late) and closes sessions the directory already
// counted as expired.
func (s *Store) updateLastActive(fn func(*bbolt.Tx) error) error {
	return s.commit(s.db.Update, fn)
}

// commit runs fn in a write transaction by run (Update or Batch), and
// forgets every user's kept state once it has committed.
func (s *Store) commit(run func(func(*bbolt.Tx) error) error, fn func(*bbolt.Tx) error) error {
	s.writes.Add(1)
	defer func() { // after the commit: nothing read before it is kept
		s.commits.Add(1)
		s.ForgetAllUsers()
	}()
	return run(fn)
}

func put(b *bbolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, data)
}

// get decodes the value at key into v, returning ErrNotFound if absent.
// json.Unmarshal copies, so nothing of the transaction's memory escapes.
func get(b *bbolt.Bucket, key []byte, v any) error {
	data := b.Get(key)
	if data == nil {
		return store.ErrNotFound
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("store: decode %s: %w", key, err)
	}
	return nil
}

// has reports whether key is in b. Set members are stored with nil values,
// which Get cannot tell from absence inside the writing transaction.
func has(b *bbolt.Bucket, key []byte) bool {
	k, _ := b.Cursor().Seek(key)
	return bytes.Equal(k, key)
}

// Ping checks that the database answers.
func (s *Store) Ping() error {
	return s.db.View(func(tx *bbolt.Tx) error {
		if getMetaBucket(tx) == nil {
			return errors.New("store: meta bucket missing")
		}
		return nil
	})
}
