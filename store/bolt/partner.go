package bolt

import (
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"portal/store"
)

// CreateClientAccount adds a client account managed by partnerID ("" for
// none), in one transaction.
func (s *Store) CreateClientAccount(name, partnerID string) (store.Account, error) {
	a := store.Account{ID: store.NewID(), Name: name, Kind: store.AccountClient, CreatedAt: s.now().UTC()}
	err := s.update(func(tx *bbolt.Tx) error {
		if err := put(getAccountsBucket(tx), []byte(a.ID), a); err != nil {
			return err
		}
		return setPartnerTx(tx, &a, partnerID)
	})
	if err != nil {
		return store.Account{}, fmt.Errorf("store: create account %q: %w", name, err)
	}
	return a, nil
}

// SetAccountPartner makes partnerID the manager of the client account
// accountID, or leaves it unmanaged when partnerID is "". The move takes
// effect on the next request of both partners' users.
func (s *Store) SetAccountPartner(accountID, partnerID string) (store.Account, error) {
	var a store.Account
	err := s.update(func(tx *bbolt.Tx) error {
		if err := get(getAccountsBucket(tx), []byte(accountID), &a); err != nil {
			return err
		}
		return setPartnerTx(tx, &a, partnerID)
	})
	if err != nil {
		return store.Account{}, fmt.Errorf("store: set the partner of account %s: %w", accountID, err)
	}
	return a, nil
}

// setPartnerTx records partnerID as a's manager and keeps partner_clients
// in step, in the caller's transaction.
func setPartnerTx(tx *bbolt.Tx, a *store.Account, partnerID string) error {
	if partnerID != "" {
		if a.Kind != store.AccountClient {
			return store.ErrNotClient
		}
		var p store.Account
		if err := get(getAccountsBucket(tx), []byte(partnerID), &p); err != nil {
			return fmt.Errorf("partner %s: %w", partnerID, err)
		}
		if p.Kind != store.AccountPartner {
			return store.ErrNotPartner
		}
	}
	if a.Partner != "" {
		if set := getPartnerClientsBucket(tx, a.Partner); set != nil {
			if err := set.Delete([]byte(a.ID)); err != nil {
				return err
			}
		}
	}
	if partnerID != "" {
		set, err := createPartnerClientsBucket(tx, partnerID)
		if err != nil {
			return err
		}
		if err := set.Put([]byte(a.ID), nil); err != nil {
			return err
		}
	}
	a.Partner = partnerID
	return put(getAccountsBucket(tx), []byte(a.ID), *a)
}

// managedUserTx loads userID if partnerID manages the user's account, and
// ErrNotFound otherwise: a partner's own colleagues, other partners' users
// and users of unmanaged accounts are all out of reach.
func managedUserTx(tx *bbolt.Tx, partnerID, userID string) (store.User, store.Account, error) {
	var u store.User
	var a store.Account
	if partnerID == "" || !store.ValidID(userID) {
		return u, a, store.ErrNotFound
	}
	if err := get(getUsersBucket(tx), []byte(userID), &u); err != nil {
		return u, a, err
	}
	if err := get(getAccountsBucket(tx), []byte(u.AccountID), &a); err != nil {
		return u, a, err
	}
	if !managed(partnerID, a) {
		return store.User{}, store.Account{}, store.ErrNotFound
	}
	return u, a, nil
}

// PartnerUser returns a user of one of partnerID's clients, with the
// client account, or ErrNotFound.
func (s *Store) PartnerUser(partnerID, userID string) (store.User, store.Account, error) {
	if partnerID == "" || !store.ValidID(userID) {
		return store.User{}, store.Account{}, store.ErrNotFound
	}
	gen := s.commits.Load()
	u, a, ok := s.scopes.get(userID, gen)
	if !ok {
		err := s.db.View(func(tx *bbolt.Tx) error {
			if err := get(getUsersBucket(tx), []byte(userID), &u); err != nil {
				return err
			}
			return get(getAccountsBucket(tx), []byte(u.AccountID), &a)
		})
		if err != nil {
			return store.User{}, store.Account{}, err
		}
		s.scopes.put(userID, gen, u, a)
	}
	if !managed(partnerID, a) {
		return store.User{}, store.Account{}, store.ErrNotFound
	}
	return u, a, nil
}

// PartnerRevokeSession revokes one session of a user of one of partnerID's
// clients, recording actorID as who did it (ReasonPartner). Anything out
// of the partner's reach is ErrNotFound and changes nothing.
func (s *Store) PartnerRevokeSession(partnerID, actorID, userID, sessionID string) (store.Session, error) {
	now := s.now().UTC()
	var sess store.Session
	err := s.update(func(tx *bbolt.Tx) error {
		if _, _, err := managedUserTx(tx, partnerID, userID); err != nil {
			return err
		}
		var err error
		if sess, err = userSessionTx(tx, userID, sessionID); err != nil {
			return err
		}
		if !sess.EndedAt.IsZero() {
			return nil
		}
		_, err = s.endByTx(tx, &sess, store.ReasonPartner, store.Actor{User: actorID}, now)
		return err
	})
	if err != nil {
		return store.Session{}, fmt.Errorf("store: partner revoke session %s: %w", sessionID, err)
	}
	s.Forget(sess.Hash)
	return sess, nil
}

// PartnerRevokeAll revokes every live session of a user of one of
// partnerID's clients in one transaction (ReasonPartnerAll, by actorID),
// and reports how many.
func (s *Store) PartnerRevokeAll(partnerID, actorID, userID string) (int, error) {
	var (
		n      int
		hashes []store.TokenHash
	)
	err := s.update(func(tx *bbolt.Tx) error {
		if _, _, err := managedUserTx(tx, partnerID, userID); err != nil {
			return err
		}
		var err error
		n, hashes, err = s.revokeUserSessionsTx(tx, userID, "", store.ReasonPartnerAll, store.Actor{User: actorID}, s.now().UTC())
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: partner revoke all sessions of user %s: %w", userID, err)
	}
	s.Forget(hashes...)
	return n, nil
}

// expiresAt is when the live session x stops being live if nothing
// happens: the earlier of its idle timeout and its lifetime.
// A policy of 0 never expires a session that way.
func (s *Store) expiresAt(x store.Session) time.Time {
	p := s.opts.Policy
	exp := time.Time{}
	if p.IdleTimeout > 0 {
		exp = x.LastActive.Add(p.IdleTimeout)
	}
	if life := x.CreatedAt.Add(p.MaxLifetime); p.MaxLifetime > 0 && (exp.IsZero() || life.Before(exp)) {
		exp = life
	}
	if exp.IsZero() {
		return time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return exp
}
