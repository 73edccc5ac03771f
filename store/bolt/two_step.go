package bolt

import (
	"errors"
	"fmt"
	"slices"
	"time"

	bbolt "go.etcd.io/bbolt"

	"portal/store"
)

// TwoStepRecord is userID's two-step sign-in (store.TwoStepStorage).
func (s *Store) TwoStepRecord(userID string) (store.TwoStepRecord, error) {
	var rec store.TwoStepRecord
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		rec, err = twoStepTx(tx, userID)
		return err
	})
	return rec, err
}

func twoStepTx(tx *bbolt.Tx, userID string) (store.TwoStepRecord, error) {
	var rec store.TwoStepRecord
	if err := get(getTwoStepBucket(tx), []byte(userID), &rec); errors.Is(err, store.ErrNotFound) {
		return rec, store.ErrTwoStepOff
	} else if err != nil {
		return rec, err
	}
	return rec, nil
}

// changeTwoStep runs fn on userID's record in one write transaction and
// writes what fn leaves (nothing if fn fails).
func (s *Store) changeTwoStep(userID string, fn func(tx *bbolt.Tx, rec *store.TwoStepRecord) error) error {
	return s.update(func(tx *bbolt.Tx) error {
		rec, err := twoStepTx(tx, userID)
		if err != nil {
			return err
		}
		if err := fn(tx, &rec); err != nil {
			return err
		}
		return put(getTwoStepBucket(tx), []byte(userID), rec)
	})
}

// PutTwoStep turns two-step sign-in on or replaces its codes
// (store.TwoStepStorage).
func (s *Store) PutTwoStep(rec store.TwoStepRecord, ev store.Event) error {
	return s.update(func(tx *bbolt.Tx) error {
		if getUsersBucket(tx).Get([]byte(rec.UserID)) == nil {
			return store.ErrNotFound
		}
		if err := put(getTwoStepBucket(tx), []byte(rec.UserID), rec); err != nil {
			return err
		}
		if ev.Kind == store.EventTwoStepOn {
			if err := stampTwoStepTx(tx, rec.UserID, ev.At); err != nil {
				return err
			}
		}
		return addEventTx(tx, rec.UserID, ev)
	})
}

// AdvanceStep accepts time step step for userID once (store.TwoStepStorage).
func (s *Store) AdvanceStep(userID string, step int64) error {
	return s.changeTwoStep(userID, func(_ *bbolt.Tx, rec *store.TwoStepRecord) error {
		if step <= rec.LastStep {
			return store.ErrCodeUsed
		}
		rec.LastStep = step
		return nil
	})
}

// TakeRecoveryCode uses up one recovery code (store.TwoStepStorage).
func (s *Store) TakeRecoveryCode(userID, hash string, ev store.Event) (left int, err error) {
	err = s.changeTwoStep(userID, func(tx *bbolt.Tx, rec *store.TwoStepRecord) error {
		i := slices.Index(rec.Codes, hash)
		if i < 0 {
			return store.ErrCodeUsed
		}
		rec.Codes = slices.Delete(rec.Codes, i, i+1)
		left = len(rec.Codes)
		ev.Count = left
		return addEventTx(tx, userID, ev)
	})
	return left, err
}

// DeleteTwoStep turns userID's two-step sign-in off (store.TwoStepStorage).
func (s *Store) DeleteTwoStep(partnerID, userID string, ev store.Event, signOut store.Reason) (revoked int, err error) {
	var hashes []store.TokenHash
	err = s.update(func(tx *bbolt.Tx) error {
		if partnerID != "" {
			if _, _, err := managedUserTx(tx, partnerID, userID); err != nil {
				return err
			}
		}
		_, err := twoStepTx(tx, userID)
		on := err == nil
		if err != nil && !errors.Is(err, store.ErrTwoStepOff) {
			return err
		}
		ev.Count = 0
		if signOut != "" {
			// A reset: the user lost their devices, passkeys among them.
			if ev.Count, err = deleteUserPasskeysTx(tx, userID); err != nil {
				return err
			}
		}
		if !on && ev.Count == 0 {
			return store.ErrTwoStepOff
		}
		if err := getTwoStepBucket(tx).Delete([]byte(userID)); err != nil {
			return err
		}
		if err := stampTwoStepTx(tx, userID, ev.At); err != nil {
			return err
		}
		if err := addEventTx(tx, userID, ev); err != nil {
			return err
		}
		if signOut == "" {
			return nil
		}
		revoked, hashes, err = s.revokeUserSessionsTx(tx, userID, "", signOut, ev.By, ev.At)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: turn off two-step sign-in of user %s: %w", userID, err)
	}
	s.Forget(hashes...)
	return revoked, nil
}

// SetConfirmedAt records a re-authentication in sessionID
// (store.TwoStepStorage).
func (s *Store) SetConfirmedAt(userID, sessionID string, at time.Time) error {
	var h store.TokenHash
	err := s.update(func(tx *bbolt.Tx) error {
		x, err := userSessionTx(tx, userID, sessionID)
		if err != nil {
			return err
		}
		x.ConfirmedAt, h = at, x.Hash
		return putSession(tx, x)
	})
	if err != nil {
		return fmt.Errorf("store: confirm session %s: %w", sessionID, err)
	}
	s.Forget(h) // the cached copy lacks the confirmation
	return nil
}

// PutRequireTwoStep sets whether accountID requires two-step sign-in
// (store.TwoStepStorage).
func (s *Store) PutRequireTwoStep(partnerID, accountID string, on bool, ev store.Event) error {
	err := s.update(func(tx *bbolt.Tx) error {
		var a store.Account
		if err := get(getAccountsBucket(tx), []byte(accountID), &a); err != nil {
			return err
		}
		if partnerID != "" && !managed(partnerID, a) {
			return store.ErrNotFound
		}
		a.RequireTwoStep = on
		if err := put(getAccountsBucket(tx), []byte(a.ID), a); err != nil {
			return err
		}
		set := getAccountUsersBucket(tx, a.ID)
		if set == nil {
			return nil
		}
		return set.ForEach(func(uid, _ []byte) error { return addEventTx(tx, string(uid), ev) })
	})
	if err != nil {
		return fmt.Errorf("store: require two-step sign-in for account %s: %w", accountID, err)
	}
	return nil
}

// stampTwoStepTx notes on the user when two-step sign-in was turned on or
// off.
func stampTwoStepTx(tx *bbolt.Tx, userID string, at time.Time) error {
	b := getUsersBucket(tx)
	var u store.User
	if err := get(b, []byte(userID), &u); err != nil {
		return err
	}
	u.TwoStepChangedAt = at
	return put(b, []byte(userID), u)
}
