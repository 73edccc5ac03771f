package bolt

import (
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"portal/store"
)

// CreateAccount adds an account.
func (s *Store) CreateAccount(name string, kind store.AccountKind) (store.Account, error) {
	a := store.Account{ID: store.NewID(), Name: name, Kind: kind, CreatedAt: s.now().UTC()}
	err := s.update(func(tx *bbolt.Tx) error {
		return put(getAccountsBucket(tx), []byte(a.ID), a)
	})
	if err != nil {
		return store.Account{}, fmt.Errorf("store: create account %q: %w", name, err)
	}
	return a, nil
}

// AccountByID returns the account with id, or ErrNotFound.
func (s *Store) AccountByID(id string) (store.Account, error) {
	var a store.Account
	err := s.db.View(func(tx *bbolt.Tx) error { return get(getAccountsBucket(tx), []byte(id), &a) })
	return a, err
}

// Accounts lists every account.
func (s *Store) Accounts() ([]store.Account, error) {
	var out []store.Account
	err := s.db.View(func(tx *bbolt.Tx) error {
		b := getAccountsBucket(tx)
		return b.ForEach(func(k, _ []byte) error {
			var a store.Account
			if err := get(b, k, &a); err != nil {
				return err
			}
			out = append(out, a)
			return nil
		})
	})
	return out, err
}

// CreateUsers adds many users in one transaction; all or none are added.
func (s *Store) CreateUsers(in []store.NewUser) ([]store.User, error) {
	now := s.now().UTC()
	out := make([]store.User, len(in))
	for i, n := range in {
		out[i] = store.User{ID: store.NewID(), AccountID: n.AccountID, Email: store.NormalizeEmail(n.Email), Name: n.Name, Role: n.Role, PasswordHash: n.PasswordHash, CreatedAt: now}
	}
	err := s.update(func(tx *bbolt.Tx) error {
		for _, u := range out {
			if err := createUserTx(tx, u); err != nil {
				return fmt.Errorf("create user %s: %w", u.Email, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	return out, nil
}

func createUserTx(tx *bbolt.Tx, u store.User) error {
	var a store.Account
	if err := get(getAccountsBucket(tx), []byte(u.AccountID), &a); err != nil {
		return fmt.Errorf("account %s: %w", u.AccountID, err)
	}
	if !u.Role.Valid() || u.Role.AccountKind() != a.Kind {
		return fmt.Errorf("role %q does not belong in a %s account", u.Role, a.Kind)
	}
	byEmail := getUsersByEmailBucket(tx)
	if byEmail.Get([]byte(u.Email)) != nil {
		return store.ErrEmailTaken
	}
	if err := byEmail.Put([]byte(u.Email), []byte(u.ID)); err != nil {
		return err
	}
	set, err := createAccountUsersBucket(tx, u.AccountID)
	if err != nil {
		return err
	}
	if err := set.Put([]byte(u.ID), nil); err != nil {
		return err
	}
	return put(getUsersBucket(tx), []byte(u.ID), u)
}

// UserByID returns the user with id, or ErrNotFound.
func (s *Store) UserByID(id string) (store.User, error) {
	var u store.User
	err := s.db.View(func(tx *bbolt.Tx) error { return get(getUsersBucket(tx), []byte(id), &u) })
	return u, err
}

// UserByEmail returns the user with that email (any case), or ErrNotFound.
func (s *Store) UserByEmail(email string) (store.User, error) {
	var u store.User
	err := s.db.View(func(tx *bbolt.Tx) error {
		id := getUsersByEmailBucket(tx).Get([]byte(store.NormalizeEmail(email)))
		if id == nil {
			return store.ErrNotFound
		}
		return get(getUsersBucket(tx), id, &u)
	})
	return u, err
}

// Users lists every user.
func (s *Store) Users() ([]store.User, error) {
	var out []store.User
	err := s.db.View(func(tx *bbolt.Tx) error {
		b := getUsersBucket(tx)
		return b.ForEach(func(k, _ []byte) error {
			var u store.User
			if err := get(b, k, &u); err != nil {
				return err
			}
			out = append(out, u)
			return nil
		})
	})
	return out, err
}

// UpdateUser (store.Storage) applies ch to one user, records its event if it has one
// and, if revoke is set, revokes the user's sessions other than keepID
// (the session that made the change, if any), all in one transaction.
// Afterwards all of the user's sessions leave the cache, since they carry
// the old user.
func (s *Store) UpdateUser(userID string, ch store.UserChange) (revoked int, err error) {
	var all []store.TokenHash
	err = s.update(func(tx *bbolt.Tx) error {
		b := getUsersBucket(tx)
		var u store.User
		if err := get(b, []byte(userID), &u); err != nil {
			return err
		}
		if ch.PasswordHash != nil {
			u.PasswordHash = *ch.PasswordHash
		}
		if ch.Disabled != nil {
			u.Disabled = *ch.Disabled
		}
		if err := put(b, []byte(userID), u); err != nil {
			return err
		}
		all = userSessionHashesTx(tx, userID)
		// Forgotten before the change is published, as notify does for one
		// session: a listener re-reading a session must see the new user.
		tx.OnCommit(func() { s.Forget(all...) })
		s.notify(tx, store.TokenHash{}, store.Change{Kind: store.UserChanged, UserID: userID})
		if ch.Event != nil {
			if err := addEventTx(tx, userID, *ch.Event); err != nil {
				return err
			}
		}
		if ch.Revoke == "" {
			return nil
		}
		revoked, _, err = s.revokeUserSessionsTx(tx, userID, ch.KeepID, ch.Revoke, store.Actor{Session: ch.KeepID}, s.now().UTC())
		return err
	})
	if err != nil {
		return 0, err
	}
	return revoked, nil
}
