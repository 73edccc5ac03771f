package bolt

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	bbolt "go.etcd.io/bbolt"

	"portal/store"
)

// KeepPasskeyHandle is userID's user handle, handle if they had none
// (store.PasskeyStorage). The file has one writer, so the check and the
// write in one transaction cannot race.
func (s *Store) KeepPasskeyHandle(userID string, handle []byte) ([]byte, error) {
	var kept []byte
	// Most calls find one: read first, so they write nothing.
	err := s.db.View(func(tx *bbolt.Tx) error {
		kept = bytes.Clone(getHandlesBucket(tx).Get([]byte(userID)))
		return nil
	})
	if err != nil || kept != nil {
		return kept, err
	}
	err = s.update(func(tx *bbolt.Tx) error {
		if getUsersBucket(tx).Get([]byte(userID)) == nil {
			return store.ErrNotFound
		}
		if h := getHandlesBucket(tx).Get([]byte(userID)); h != nil {
			kept = bytes.Clone(h)
			return nil
		}
		if len(handle) == 0 || getHandleUsersBucket(tx).Get(handle) != nil {
			return errors.New("the new handle is empty or another user's")
		}
		if err := getHandlesBucket(tx).Put([]byte(userID), handle); err != nil {
			return err
		}
		kept = bytes.Clone(handle)
		return getHandleUsersBucket(tx).Put(handle, []byte(userID))
	})
	if err != nil {
		return nil, fmt.Errorf("store: keep the user handle of user %s: %w", userID, err)
	}
	return kept, nil
}

// PasskeyHandleUser is the user whose handle is handle
// (store.PasskeyStorage).
func (s *Store) PasskeyHandleUser(handle []byte) (string, error) {
	var userID string
	err := s.db.View(func(tx *bbolt.Tx) error {
		if len(handle) == 0 {
			return store.ErrNotFound
		}
		id := getHandleUsersBucket(tx).Get(handle)
		if id == nil {
			return store.ErrNotFound
		}
		userID = string(id) // string() copies out of the transaction's memory
		return nil
	})
	return userID, err
}

// PasskeysOf is userID's passkeys, oldest first (store.PasskeyStorage).
func (s *Store) PasskeysOf(userID string) ([]store.Passkey, error) {
	var out []store.Passkey
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		out, err = passkeysOfTx(tx, userID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: passkeys of user %s: %w", userID, err)
	}
	return out, nil
}

// passkeysOfTx reads userID's passkeys in the order they were added.
func passkeysOfTx(tx *bbolt.Tx, userID string) ([]store.Passkey, error) {
	set := getPasskeySetBucket(tx, userID)
	if set == nil {
		return nil, nil
	}
	type added struct {
		pk  store.Passkey
		seq uint64
	}
	var list []added
	err := set.ForEach(func(id, seq []byte) error {
		var pk store.Passkey
		if err := get(getPasskeysBucket(tx), id, &pk); err != nil {
			return fmt.Errorf("passkey %x: %w", id, err)
		}
		list = append(list, added{pk, binary.BigEndian.Uint64(seq)})
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(list, func(a, b added) int {
		if c := a.pk.AddedAt.Compare(b.pk.AddedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	out := make([]store.Passkey, len(list))
	for i, a := range list {
		out[i] = a.pk
	}
	return out, nil
}

// PasskeyByID is the passkey with credential id id (store.PasskeyStorage).
func (s *Store) PasskeyByID(id []byte) (store.Passkey, error) {
	var pk store.Passkey
	err := s.db.View(func(tx *bbolt.Tx) error {
		if len(id) == 0 {
			return store.ErrNotFound
		}
		return get(getPasskeysBucket(tx), id, &pk)
	})
	return pk, err
}

// PutPasskey keeps a new passkey and records ev (store.PasskeyStorage):
// the user, the id and the count are checked in the transaction that
// writes it.
func (s *Store) PutPasskey(pk store.Passkey, ev store.Event) error {
	if len(pk.ID) == 0 {
		return errors.New("a passkey without a credential id")
	}
	return s.update(func(tx *bbolt.Tx) error {
		if getUsersBucket(tx).Get([]byte(pk.UserID)) == nil {
			return store.ErrNotFound
		}
		all := getPasskeysBucket(tx)
		if all.Get(pk.ID) != nil {
			return store.ErrPasskeyExists
		}
		set, err := createPasskeySetBucket(tx, pk.UserID)
		if err != nil {
			return err
		}
		// Count with a cursor: Stats does not see this transaction's writes.
		n := 0
		c := set.Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			n++
		}
		if n >= store.MaxPasskeysPerUser {
			return store.ErrTooManyPasskeys
		}
		seq, err := set.NextSequence()
		if err != nil {
			return err
		}
		if err := put(all, pk.ID, pk); err != nil {
			return err
		}
		if err := set.Put(pk.ID, binary.BigEndian.AppendUint64(nil, seq)); err != nil {
			return err
		}
		return addEventTx(tx, pk.UserID, ev)
	})
}

// WritePasskeyUse records a sign-in with passkey id if its counter moved
// forward (store.PasskeyStorage). A refusal is committed with its event,
// and then reported.
func (s *Store) WritePasskeyUse(id []byte, use store.PasskeyUse, refused store.Event) error {
	back := false
	err := s.update(func(tx *bbolt.Tx) error {
		var err error
		back, err = usePasskeyTx(tx, id, use, refused)
		return err
	})
	switch {
	case err != nil:
		return fmt.Errorf("store: record a sign-in with passkey %x: %w", id, err)
	case back:
		return store.ErrSignCountBack
	}
	return nil
}

// usePasskeyTx updates passkey id with use if its counter moved forward;
// if not, it records refused (named after the passkey as it is called
// now) and reports back.
func usePasskeyTx(tx *bbolt.Tx, id []byte, use store.PasskeyUse, refused store.Event) (back bool, err error) {
	all := getPasskeysBucket(tx)
	var pk store.Passkey
	if err := get(all, id, &pk); err != nil {
		return false, err
	}
	if !store.SignCountForward(pk.SignCount, use.SignCount) {
		refused.Passkey = pk.Name
		return true, addEventTx(tx, pk.UserID, refused)
	}
	if use.Credential != nil {
		pk.Credential = use.Credential
	}
	pk.SignCount, pk.BackupState, pk.LastUsedAt = use.SignCount, use.BackupState, use.At
	return false, put(all, id, pk)
}

// changeUserPasskey runs fn on userID's passkey id in one write
// transaction; ErrNotFound if it is not theirs.
func (s *Store) changeUserPasskey(userID string, id []byte, fn func(tx *bbolt.Tx, pk *store.Passkey) error) error {
	return s.update(func(tx *bbolt.Tx) error {
		var pk store.Passkey
		if err := get(getPasskeysBucket(tx), id, &pk); err != nil {
			return err
		}
		if pk.UserID != userID {
			return store.ErrNotFound
		}
		return fn(tx, &pk)
	})
}

// PutPasskeyName renames userID's passkey id (store.PasskeyStorage).
func (s *Store) PutPasskeyName(userID string, id []byte, name string) error {
	err := s.changeUserPasskey(userID, id, func(tx *bbolt.Tx, pk *store.Passkey) error {
		pk.Name = name
		return put(getPasskeysBucket(tx), id, pk)
	})
	if err != nil {
		return fmt.Errorf("store: rename a passkey of user %s: %w", userID, err)
	}
	return nil
}

// DeletePasskey removes userID's passkey id and records ev with its name
// (store.PasskeyStorage).
func (s *Store) DeletePasskey(userID string, id []byte, ev store.Event) error {
	err := s.changeUserPasskey(userID, id, func(tx *bbolt.Tx, pk *store.Passkey) error {
		if err := deletePasskeyTx(tx, userID, id); err != nil {
			return err
		}
		ev.Passkey = pk.Name
		return addEventTx(tx, userID, ev)
	})
	if err != nil {
		return fmt.Errorf("store: remove a passkey of user %s: %w", userID, err)
	}
	return nil
}

// deletePasskeyTx removes passkey id of userID and its index entry.
func deletePasskeyTx(tx *bbolt.Tx, userID string, id []byte) error {
	if err := getPasskeysBucket(tx).Delete(id); err != nil {
		return err
	}
	if set := getPasskeySetBucket(tx, userID); set != nil {
		return set.Delete(id)
	}
	return nil
}

// deleteUserPasskeysTx removes every passkey of userID (their handle
// stays: a user keeps one for good) and says how many it removed.
func deleteUserPasskeysTx(tx *bbolt.Tx, userID string) (int, error) {
	set := getPasskeySetBucket(tx, userID)
	if set == nil {
		return 0, nil
	}
	var ids [][]byte
	err := set.ForEach(func(id, _ []byte) error {
		ids = append(ids, bytes.Clone(id))
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		if err := getPasskeysBucket(tx).Delete(id); err != nil {
			return 0, err
		}
	}
	return len(ids), tx.Bucket(bucketUserPasskeys).DeleteBucket([]byte(userID))
}
