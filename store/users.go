package store

import (
	"fmt"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// NewUser is what CreateUser needs.
type NewUser struct {
	AccountID    string
	Email        string
	Name         string
	Role         Role
	PasswordHash string
}

// NormalizeEmail is the form emails are indexed under.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// CreateAccount adds an account.
func (s *Store) CreateAccount(name string, kind AccountKind) (Account, error) {
	a := Account{ID: newID(), Name: name, Kind: kind, CreatedAt: s.now().UTC()}
	err := s.update(func(tx *bolt.Tx) error {
		return put(getAccountsBucket(tx), []byte(a.ID), a)
	})
	if err != nil {
		return Account{}, fmt.Errorf("store: create account %q: %w", name, err)
	}
	return a, nil
}

// AccountByID returns the account with id, or ErrNotFound.
func (s *Store) AccountByID(id string) (Account, error) {
	var a Account
	err := s.db.View(func(tx *bolt.Tx) error { return get(getAccountsBucket(tx), []byte(id), &a) })
	return a, err
}

// Accounts lists every account.
func (s *Store) Accounts() ([]Account, error) {
	var out []Account
	err := s.db.View(func(tx *bolt.Tx) error {
		b := getAccountsBucket(tx)
		return b.ForEach(func(k, _ []byte) error {
			var a Account
			if err := get(b, k, &a); err != nil {
				return err
			}
			out = append(out, a)
			return nil
		})
	})
	return out, err
}

// CreateUser adds a user to an existing account. The role must suit the
// account's kind: customer roles in client accounts, partner roles in
// partner accounts.
func (s *Store) CreateUser(in NewUser) (User, error) {
	out, err := s.CreateUsers([]NewUser{in})
	if err != nil {
		return User{}, err
	}
	return out[0], nil
}

// CreateUsers adds many users in one transaction; all or none are added.
func (s *Store) CreateUsers(in []NewUser) ([]User, error) {
	now := s.now().UTC()
	out := make([]User, len(in))
	for i, n := range in {
		out[i] = User{ID: newID(), AccountID: n.AccountID, Email: NormalizeEmail(n.Email), Name: n.Name, Role: n.Role, PasswordHash: n.PasswordHash, CreatedAt: now}
	}
	err := s.update(func(tx *bolt.Tx) error {
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

func createUserTx(tx *bolt.Tx, u User) error {
	var a Account
	if err := get(getAccountsBucket(tx), []byte(u.AccountID), &a); err != nil {
		return fmt.Errorf("account %s: %w", u.AccountID, err)
	}
	if !u.Role.Valid() || u.Role.AccountKind() != a.Kind {
		return fmt.Errorf("role %q does not belong in a %s account", u.Role, a.Kind)
	}
	byEmail := getUsersByEmailBucket(tx)
	if byEmail.Get([]byte(u.Email)) != nil {
		return ErrEmailTaken
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
func (s *Store) UserByID(id string) (User, error) {
	var u User
	err := s.db.View(func(tx *bolt.Tx) error { return get(getUsersBucket(tx), []byte(id), &u) })
	return u, err
}

// UserByEmail returns the user with that email (any case), or ErrNotFound.
func (s *Store) UserByEmail(email string) (User, error) {
	var u User
	err := s.db.View(func(tx *bolt.Tx) error {
		id := getUsersByEmailBucket(tx).Get([]byte(NormalizeEmail(email)))
		if id == nil {
			return ErrNotFound
		}
		return get(getUsersBucket(tx), id, &u)
	})
	return u, err
}

// Users lists every user.
func (s *Store) Users() ([]User, error) {
	var out []User
	err := s.db.View(func(tx *bolt.Tx) error {
		b := getUsersBucket(tx)
		return b.ForEach(func(k, _ []byte) error {
			var u User
			if err := get(b, k, &u); err != nil {
				return err
			}
			out = append(out, u)
			return nil
		})
	})
	return out, err
}

// SetPasswordHash replaces a user's password hash. With revokeSessions, the
// user's sessions other than keepID (all of them if keepID is "") are
// revoked in the same transaction.
func (s *Store) SetPasswordHash(userID, hash string, revokeSessions bool, keepID string) (revoked int, err error) {
	var revoke Reason
	if revokeSessions {
		revoke = ReasonPasswordChanged
	}
	changed := &Event{At: s.now(), Kind: EventPasswordChanged, By: Actor{Session: keepID}}
	revoked, err = s.updateUser(userID, func(u *User) { u.PasswordHash = hash }, revoke, keepID, changed)
	if err != nil {
		return 0, fmt.Errorf("store: set password of user %s: %w", userID, err)
	}
	return revoked, nil
}

// SetUserDisabled disables or re-enables a user. Disabling revokes all of
// the user's sessions in the same transaction.
func (s *Store) SetUserDisabled(userID string, disabled bool) (revoked int, err error) {
	var revoke Reason
	if disabled {
		revoke = ReasonUserDisabled
	}
	revoked, err = s.updateUser(userID, func(u *User) { u.Disabled = disabled }, revoke, "", nil)
	if err != nil {
		return 0, fmt.Errorf("store: disable user %s: %w", userID, err)
	}
	return revoked, nil
}

// updateUser applies change to one user, records event if there is one
// and, if revoke is set, revokes the user's sessions other than keepID
// (the session that made the change, if any), all in one transaction.
// Afterwards all of the user's sessions leave the cache, since they carry
// the old user.
func (s *Store) updateUser(userID string, change func(*User), revoke Reason, keepID string, event *Event) (revoked int, err error) {
	var all []TokenHash
	err = s.update(func(tx *bolt.Tx) error {
		b := getUsersBucket(tx)
		var u User
		if err := get(b, []byte(userID), &u); err != nil {
			return err
		}
		change(&u)
		if err := put(b, []byte(userID), u); err != nil {
			return err
		}
		all = userSessionHashesTx(tx, userID)
		// Forgotten before the change is published, as notify does for one
		// session: a listener re-reading a session must see the new user.
		tx.OnCommit(func() { s.Forget(all...) })
		s.notify(tx, TokenHash{}, Change{Kind: UserChanged, UserID: userID})
		if event != nil {
			if err := addEventTx(tx, userID, *event); err != nil {
				return err
			}
		}
		if revoke == "" {
			return nil
		}
		revoked, _, err = s.revokeUserSessionsTx(tx, userID, keepID, revoke, Actor{Session: keepID}, s.now().UTC())
		return err
	})
	if err != nil {
		return 0, err
	}
	return revoked, nil
}
