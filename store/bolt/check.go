package bolt

import (
	"bytes"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"portal/store"
)

// checkIndexes verifies that every index entry points at a record that
// points back, and every record is indexed.
func checkIndexes(tx *bbolt.Tx) error {
	records, byID, sets := getSessionsBucket(tx), getSessionsByIDBucket(tx), getUserSessionsBucket(tx)
	users, byEmail := getUsersBucket(tx), getUsersByEmailBucket(tx)
	err := records.ForEach(func(k, _ []byte) error {
		var x store.Session
		if err := get(records, k, &x); err != nil {
			return err
		}
		if h := byID.Get([]byte(x.ID)); !bytes.Equal(h, k) {
			return fmt.Errorf("session %s: id index points elsewhere", x.ID)
		}
		set := getSessionSetBucket(tx, x.UserID)
		if set == nil || !has(set, []byte(x.ID)) {
			return fmt.Errorf("session %s: missing from user %s's set", x.ID, x.UserID)
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = byID.ForEach(func(id, h []byte) error {
		var x store.Session
		if err := get(records, h, &x); err != nil || x.ID != string(id) {
			return fmt.Errorf("id index entry %s dangles", id)
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = sets.ForEach(func(uid, _ []byte) error {
		return sets.Bucket(uid).ForEach(func(id, _ []byte) error {
			h := byID.Get(id)
			var x store.Session
			if h == nil || get(records, h, &x) != nil || x.UserID != string(uid) {
				return fmt.Errorf("user %s's set names session %s, which is not theirs", uid, id)
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	err = byEmail.ForEach(func(email, id []byte) error {
		var u store.User
		if err := get(users, id, &u); err != nil || u.Email != string(email) {
			return fmt.Errorf("email index entry %s dangles", email)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := checkPasskeyIndexes(tx); err != nil {
		return err
	}
	return checkAccountIndexes(tx)
}

// checkPasskeyIndexes verifies user_passkeys against the passkeys, and the
// two ways of the user handles against each other, both ways, and that
// each belongs to a user.
func checkPasskeyIndexes(tx *bbolt.Tx) error {
	users, all, sets := getUsersBucket(tx), getPasskeysBucket(tx), tx.Bucket(bucketUserPasskeys)
	err := all.ForEach(func(id, _ []byte) error {
		var pk store.Passkey
		if err := get(all, id, &pk); err != nil {
			return err
		}
		if !bytes.Equal(pk.ID, id) {
			return fmt.Errorf("passkey %x is kept under %x", pk.ID, id)
		}
		if users.Get([]byte(pk.UserID)) == nil {
			return fmt.Errorf("passkey %x: no user %s", id, pk.UserID)
		}
		if set := getPasskeySetBucket(tx, pk.UserID); set == nil || set.Get(id) == nil {
			return fmt.Errorf("passkey %x: missing from user %s's set", id, pk.UserID)
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = sets.ForEach(func(uid, _ []byte) error {
		return sets.Bucket(uid).ForEach(func(id, _ []byte) error {
			var pk store.Passkey
			if err := get(all, id, &pk); err != nil || pk.UserID != string(uid) {
				return fmt.Errorf("user %s's set names passkey %x, which is not theirs", uid, id)
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	handles, byHandle := getHandlesBucket(tx), getHandleUsersBucket(tx)
	err = handles.ForEach(func(uid, h []byte) error {
		if users.Get(uid) == nil {
			return fmt.Errorf("a user handle of no user %s", uid)
		}
		if !bytes.Equal(byHandle.Get(h), uid) {
			return fmt.Errorf("user %s's handle does not lead back to them", uid)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return byHandle.ForEach(func(h, uid []byte) error {
		if !bytes.Equal(handles.Get(uid), h) {
			return fmt.Errorf("a user handle names user %s, whose handle it is not", uid)
		}
		return nil
	})
}

// checkAccountIndexes verifies account_users against the users and
// partner_clients against the accounts' partners, both ways.
func checkAccountIndexes(tx *bbolt.Tx) error {
	users, accounts := getUsersBucket(tx), getAccountsBucket(tx)
	err := users.ForEach(func(k, _ []byte) error {
		var u store.User
		if err := get(users, k, &u); err != nil {
			return err
		}
		if set := getAccountUsersBucket(tx, u.AccountID); set == nil || !has(set, []byte(u.ID)) {
			return fmt.Errorf("user %s: missing from account %s's set", u.ID, u.AccountID)
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = accounts.ForEach(func(k, _ []byte) error {
		var a store.Account
		if err := get(accounts, k, &a); err != nil {
			return err
		}
		if set := getPartnerClientsBucket(tx, a.Partner); a.Partner != "" && (set == nil || !has(set, []byte(a.ID))) {
			return fmt.Errorf("account %s: missing from partner %s's clients", a.ID, a.Partner)
		}
		return nil
	})
	if err != nil {
		return err
	}
	byAccount, byPartner := tx.Bucket(bucketAccountUsers), tx.Bucket(bucketPartnerClients)
	err = byAccount.ForEach(func(acct, _ []byte) error {
		return byAccount.Bucket(acct).ForEach(func(id, _ []byte) error {
			var u store.User
			if err := get(users, id, &u); err != nil || u.AccountID != string(acct) {
				return fmt.Errorf("account %s's set names user %s, who is not in it", acct, id)
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	return byPartner.ForEach(func(partner, _ []byte) error {
		return byPartner.Bucket(partner).ForEach(func(id, _ []byte) error {
			var a store.Account
			if err := get(accounts, id, &a); err != nil || a.Partner != string(partner) {
				return fmt.Errorf("partner %s's clients name account %s, which it does not manage", partner, id)
			}
			return nil
		})
	})
}
