package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Export reads the whole database, for 'portal copy' to move it to
// another backend: every record exactly as stored, sessions under their
// token hashes (the tokens themselves are never stored, so the browsers'
// cookies keep working only because the hashes move), and the keys, the
// CSRF key among them, so pages rendered before the move keep working.

// Record is one thing an export holds; exactly one field is set.
type Record struct {
	Key     *Key
	Account *Account
	User    *User
	Session *HashedSession
	Event   *UserEvent
	Log     *EventLog
}

// Key is a random key kept with the data (the CSRF key).
type Key struct {
	Name  string
	Value []byte
}

// KeyCSRF is the name of the CSRF key in an export.
const KeyCSRF = "csrf_key"

// HashedSession is a session with the hash of its token, its key.
type HashedSession struct {
	Session
	Hash TokenHash
}

// UserEvent is one event of a user's security activity.
type UserEvent struct {
	UserID string
	Event
}

// EventLog is the version of a user's security activity
// (UserEventsVersion), so pages of it kept by version stay right.
type EventLog struct {
	UserID  string
	Version uint64
}

// Counts is how much an export held, for the copy to check against what
// the target holds after it. Live is counted at At under the store's
// policy; Ended are the sessions recorded as ended (RevokedAt set).
type Counts struct {
	Keys, Accounts, Users, Sessions, Ended, Live, Events, Logs int
	At                                                         time.Time
}

// Export hands every record of s to fn, in an order a target with
// references can insert them in: keys, accounts (those a partner manages
// after the partners), users, sessions, then each user's events oldest
// first followed by the version of the user's log. It reads in one read
// transaction, a consistent snapshot, and stops at fn's first error. A
// function rather than a method, so that *Store keeps the method set it
// shares with the PostgreSQL store.
func Export(s *Store, fn func(Record) error) (Counts, error) {
	n := Counts{At: s.now().UTC()}
	err := s.db.View(func(tx *bolt.Tx) error {
		if err := exportKeys(tx, fn, &n); err != nil {
			return err
		}
		if err := exportAccounts(tx, fn, &n); err != nil {
			return err
		}
		if err := exportUsers(tx, fn, &n); err != nil {
			return err
		}
		if err := s.exportSessions(tx, fn, &n); err != nil {
			return err
		}
		return exportEvents(tx, fn, &n)
	})
	if err != nil {
		return n, fmt.Errorf("store: export %s: %w", s.path, err)
	}
	return n, nil
}

func exportKeys(tx *bolt.Tx, fn func(Record) error, n *Counts) error {
	if k := getMetaBucket(tx).Get(keyCSRFKey); k != nil {
		n.Keys++
		return fn(Record{Key: &Key{Name: KeyCSRF, Value: bytes.Clone(k)}})
	}
	return nil
}

// exportAccounts hands over the accounts no partner manages first, so a
// managed one's partner is always there before it.
func exportAccounts(tx *bolt.Tx, fn func(Record) error, n *Counts) error {
	b := getAccountsBucket(tx)
	for _, managed := range []bool{false, true} {
		err := b.ForEach(func(k, _ []byte) error {
			var a Account
			if err := get(b, k, &a); err != nil {
				return err
			}
			if (a.Partner != "") != managed {
				return nil
			}
			n.Accounts++
			return fn(Record{Account: &a})
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func exportUsers(tx *bolt.Tx, fn func(Record) error, n *Counts) error {
	b := getUsersBucket(tx)
	return b.ForEach(func(k, _ []byte) error {
		var u User
		if err := get(b, k, &u); err != nil {
			return err
		}
		n.Users++
		return fn(Record{User: &u})
	})
}

func (s *Store) exportSessions(tx *bolt.Tx, fn func(Record) error, n *Counts) error {
	b := getSessionsBucket(tx)
	return b.ForEach(func(k, _ []byte) error {
		var h TokenHash
		if len(k) != len(h) {
			return fmt.Errorf("session record under a %d-byte key", len(k))
		}
		copy(h[:], k)
		x, err := loadSession(b, h)
		if err != nil {
			return err
		}
		n.Sessions++
		if !x.RevokedAt.IsZero() {
			n.Ended++
		}
		if ended, _ := x.Ended(n.At, s.opts.Policy); !ended {
			n.Live++
		}
		return fn(Record{Session: &HashedSession{Session: x, Hash: h}})
	})
}

// exportEvents hands over each user's log in its order (time, then the
// order written), then its version.
func exportEvents(tx *bolt.Tx, fn func(Record) error, n *Counts) error {
	all := tx.Bucket(bucketEvents)
	return all.ForEach(func(user, _ []byte) error {
		b := all.Bucket(user)
		if b == nil {
			return nil
		}
		err := b.ForEach(func(k, v []byte) error {
			e := UserEvent{UserID: string(user)}
			if err := json.Unmarshal(v, &e.Event); err != nil {
				return fmt.Errorf("event %x of user %s: %w", k, user, err)
			}
			n.Events++
			return fn(Record{Event: &e})
		})
		if err != nil || b.Sequence() == 0 {
			return err
		}
		n.Logs++
		return fn(Record{Log: &EventLog{UserID: string(user), Version: b.Sequence()}})
	})
}
