package bolt

import (
	"bytes"
	"encoding/json"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"portal/store"
)

// KeyCSRF is the name of the CSRF key in an export.
const KeyCSRF = "csrf_key"

// Export hands every record of s to fn, in an order a target with
// references can insert them in: keys, accounts (those a partner manages
// after the partners), users, sessions, then each user's events oldest
// first followed by the version of the user's log; two-step records,
// user handles and passkeys (each user's oldest first) come after the
// users. It reads in one read
// transaction, a consistent snapshot, and stops at fn's first error. A
// function rather than a method, so that *Store keeps the method set it
// shares with the PostgreSQL store.
func Export(s *Store, fn func(store.Record) error) (store.Counts, error) {
	n := store.Counts{At: s.now().UTC()}
	err := s.db.View(func(tx *bbolt.Tx) error {
		if err := exportKeys(tx, fn, &n); err != nil {
			return err
		}
		if err := exportAccounts(tx, fn, &n); err != nil {
			return err
		}
		if err := exportUsers(tx, fn, &n); err != nil {
			return err
		}
		if err := exportTwoSteps(tx, fn, &n); err != nil {
			return err
		}
		if err := exportPasskeys(tx, fn, &n); err != nil {
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

func exportKeys(tx *bbolt.Tx, fn func(store.Record) error, n *store.Counts) error {
	if k := getMetaBucket(tx).Get(keyCSRFKey); k != nil {
		n.Keys++
		return fn(store.Record{Key: &store.Key{Name: KeyCSRF, Value: bytes.Clone(k)}})
	}
	return nil
}

// exportAccounts hands over the accounts no partner manages first, so a
// managed one's partner is always there before it.
func exportAccounts(tx *bbolt.Tx, fn func(store.Record) error, n *store.Counts) error {
	b := getAccountsBucket(tx)
	for _, managed := range []bool{false, true} {
		err := b.ForEach(func(k, _ []byte) error {
			var a store.Account
			if err := get(b, k, &a); err != nil {
				return err
			}
			if (a.Partner != "") != managed {
				return nil
			}
			n.Accounts++
			return fn(store.Record{Account: &a})
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func exportTwoSteps(tx *bbolt.Tx, fn func(store.Record) error, n *store.Counts) error {
	b := getTwoStepBucket(tx)
	return b.ForEach(func(k, _ []byte) error {
		var rec store.TwoStepRecord
		if err := get(b, k, &rec); err != nil {
			return err
		}
		n.TwoSteps++
		return fn(store.Record{TwoStep: &rec})
	})
}

// exportPasskeys hands over the user handles, then each user's passkeys
// in the order they were added, which a target keeps for passkeys added
// in the same instant.
func exportPasskeys(tx *bbolt.Tx, fn func(store.Record) error, n *store.Counts) error {
	err := getHandlesBucket(tx).ForEach(func(user, handle []byte) error {
		n.Handles++
		return fn(store.Record{Handle: &store.PasskeyHandle{UserID: string(user), Handle: bytes.Clone(handle)}})
	})
	if err != nil {
		return err
	}
	sets := tx.Bucket(bucketUserPasskeys)
	return sets.ForEach(func(user, _ []byte) error {
		list, err := passkeysOfTx(tx, string(user))
		if err != nil {
			return fmt.Errorf("user %s: %w", user, err)
		}
		for i := range list {
			n.Passkeys++
			if err := fn(store.Record{Passkey: &list[i]}); err != nil {
				return err
			}
		}
		return nil
	})
}

func exportUsers(tx *bbolt.Tx, fn func(store.Record) error, n *store.Counts) error {
	b := getUsersBucket(tx)
	return b.ForEach(func(k, _ []byte) error {
		var u store.User
		if err := get(b, k, &u); err != nil {
			return err
		}
		n.Users++
		return fn(store.Record{User: &u})
	})
}

func (s *Store) exportSessions(tx *bbolt.Tx, fn func(store.Record) error, n *store.Counts) error {
	b := getSessionsBucket(tx)
	return b.ForEach(func(k, _ []byte) error {
		var h store.TokenHash
		if len(k) != len(h) {
			return fmt.Errorf("session record under a %d-byte key", len(k))
		}
		copy(h[:], k)
		x, err := loadSession(b, h)
		if err != nil {
			return err
		}
		n.Sessions++
		if !x.EndedAt.IsZero() {
			n.Ended++
		}
		if ended, _ := x.Ended(n.At, s.opts.Policy); !ended {
			n.Live++
		}
		return fn(store.Record{Session: &store.HashedSession{Session: x, Hash: h}})
	})
}

// exportEvents hands over each user's log in its order (time, then the
// order written), then its version.
func exportEvents(tx *bbolt.Tx, fn func(store.Record) error, n *store.Counts) error {
	all := tx.Bucket(bucketEvents)
	return all.ForEach(func(user, _ []byte) error {
		b := all.Bucket(user)
		if b == nil {
			return nil
		}
		err := b.ForEach(func(k, v []byte) error {
			e := store.UserEvent{UserID: string(user)}
			if err := json.Unmarshal(v, &e.Event); err != nil {
				return fmt.Errorf("event %x of user %s: %w", k, user, err)
			}
			n.Events++
			return fn(store.Record{Event: &e})
		})
		if err != nil || b.Sequence() == 0 {
			return err
		}
		n.Logs++
		return fn(store.Record{Log: &store.EventLog{UserID: string(user), Version: b.Sequence()}})
	})
}
