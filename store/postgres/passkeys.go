package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"portal/store"
)

// KeepPasskeyHandle is userID's user handle, handle if they had none
// (store.PasskeyStorage). Of two instances keeping one at once, the
// INSERT that commits first wins; the other inserts nothing and reads the
// winner's in a statement of its own (its INSERT's snapshot predates it).
func (s *Store) KeepPasskeyHandle(userID string, handle []byte) ([]byte, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	read := func() ([]byte, error) {
		var h []byte
		err := s.pool.QueryRow(ctx, "SELECT handle FROM passkey_handles WHERE user_id = $1", userID).Scan(&h)
		return h, notFound(err)
	}
	h, err := read()
	if err == nil || !errors.Is(err, store.ErrNotFound) {
		return h, wrapHandle(userID, err)
	}
	if len(handle) == 0 {
		return nil, wrapHandle(userID, errors.New("an empty handle"))
	}
	s.writes.Add(1)
	err = s.pool.QueryRow(ctx, `INSERT INTO passkey_handles (user_id, handle) SELECT id, $2 FROM users WHERE id = $1
		ON CONFLICT (user_id) DO NOTHING RETURNING handle`, userID, handle).Scan(&h)
	if err = notFound(err); !errors.Is(err, store.ErrNotFound) {
		return h, wrapHandle(userID, err)
	}
	// No row: no such user, or another request kept one first.
	h, err = read()
	return h, wrapHandle(userID, err)
}

func wrapHandle(userID string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("store: keep the user handle of user %s: %w", userID, err)
}

// PasskeyHandleUser is the user whose handle is handle
// (store.PasskeyStorage).
func (s *Store) PasskeyHandleUser(handle []byte) (string, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	var userID string
	err := s.pool.QueryRow(ctx, "SELECT user_id FROM passkey_handles WHERE handle = $1", handle).Scan(&userID)
	if err = notFound(err); err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", fmt.Errorf("store: the user of a user handle: %w", err)
	}
	return userID, err
}

// passkeyCols are the columns scanPasskey reads, in its order.
const passkeyCols = `id, user_id, name, credential, sign_count, backup_eligible, backup_state, added_at, last_used_at`

func scanPasskey(row pgx.Row) (store.Passkey, error) {
	var pk store.Passkey
	var count int64
	var used *time.Time
	err := row.Scan(&pk.ID, &pk.UserID, &pk.Name, &pk.Credential, &count, &pk.BackupEligible, &pk.BackupState, &pk.AddedAt, &used)
	if err != nil {
		return store.Passkey{}, notFound(err)
	}
	pk.SignCount, pk.AddedAt = uint32(count), pk.AddedAt.UTC()
	if used != nil {
		pk.LastUsedAt = used.UTC()
	}
	return pk, nil
}

// PasskeysOf is userID's passkeys, oldest first (store.PasskeyStorage).
func (s *Store) PasskeysOf(userID string) ([]store.Passkey, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	rows, err := s.pool.Query(ctx, "SELECT "+passkeyCols+" FROM passkeys WHERE user_id = $1 ORDER BY added_at, seq", userID)
	if err == nil {
		var list []store.Passkey
		list, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Passkey, error) { return scanPasskey(r) })
		if err == nil {
			return list, nil
		}
	}
	return nil, unavailable(fmt.Errorf("store: passkeys of user %s: %w", userID, err))
}

// PasskeyByID is the passkey with credential id id (store.PasskeyStorage).
func (s *Store) PasskeyByID(id []byte) (store.Passkey, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	pk, err := scanPasskey(s.pool.QueryRow(ctx, "SELECT "+passkeyCols+" FROM passkeys WHERE id = $1", id))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return pk, fmt.Errorf("store: passkey %x: %w", id, err)
	}
	return pk, err
}

// PutPasskey keeps a new passkey and records ev (store.PasskeyStorage).
// The user's row is locked first, so two instances adding the user's
// 20th passkey at once take turns rather than both counting 19.
func (s *Store) PutPasskey(pk store.Passkey, ev store.Event) error {
	if len(pk.ID) == 0 {
		return errors.New("a passkey without a credential id")
	}
	return s.write(func(ctx context.Context, tx pgx.Tx, fx *effects) error {
		var id string
		if err := tx.QueryRow(ctx, "SELECT id FROM users WHERE id = $1 FOR UPDATE", pk.UserID).Scan(&id); err != nil {
			return notFound(err)
		}
		var taken bool
		var n int
		err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM passkeys WHERE id = $1), (SELECT count(*) FROM passkeys WHERE user_id = $2)",
			pk.ID, pk.UserID).Scan(&taken, &n)
		switch {
		case err != nil:
			return err
		case taken:
			return store.ErrPasskeyExists
		case n >= store.MaxPasskeysPerUser:
			return store.ErrTooManyPasskeys
		}
		var used *time.Time
		if !pk.LastUsedAt.IsZero() {
			used = &pk.LastUsedAt
		}
		// Another user's passkey of the same id may commit meanwhile:
		// their row lock is not ours.
		tag, err := tx.Exec(ctx, `INSERT INTO passkeys (id, user_id, name, credential, sign_count, backup_eligible, backup_state, added_at, last_used_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING`,
			pk.ID, pk.UserID, pk.Name, pk.Credential, int64(pk.SignCount), pk.BackupEligible, pk.BackupState, pk.AddedAt, used)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return store.ErrPasskeyExists
		}
		return addEventsTx(ctx, tx, fx, []userEvent{{pk.UserID, ev}})
	})
}

// WritePasskeyUse records a sign-in with passkey id if its counter moved
// forward (store.PasskeyStorage). The rule is the UPDATE's condition, so
// of requests bringing the same counter at once, on any instances, one
// updates the row and the others, re-reading it after the first commits,
// find the counter no longer behind theirs. A refusal is committed with
// its event, and then reported.
func (s *Store) WritePasskeyUse(id []byte, use store.PasskeyUse, refused store.Event) error {
	back := false
	err := s.write(func(ctx context.Context, tx pgx.Tx, fx *effects) error {
		var userID string
		if err := tx.QueryRow(ctx, "SELECT user_id FROM passkeys WHERE id = $1", id).Scan(&userID); err != nil {
			return notFound(err)
		}
		if err := lockUserTx(ctx, tx, userID); err != nil {
			return err
		}
		var err error
		back, err = usePasskeyTx(ctx, tx, fx, id, use, refused)
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

// lockUserTx takes userID's row before any of their passkeys' rows, as
// every change to a user's passkeys does (adding, using, removing, a
// reset, a sign-in), so that they wait for each other rather than
// deadlock: a passkey's row, then its user's (the event's foreign key)
// in one, and the other way round in another, would.
func lockUserTx(ctx context.Context, tx pgx.Tx, userID string) error {
	_, err := tx.Exec(ctx, "SELECT 1 FROM users WHERE id = $1 FOR UPDATE", userID)
	return err
}

// usePasskeyTx updates passkey id with use if its counter moved forward;
// if not, it records refused (named after the passkey as it is called
// now) and reports back. The caller holds the user's row.
func usePasskeyTx(ctx context.Context, tx pgx.Tx, fx *effects, id []byte, use store.PasskeyUse, refused store.Event) (back bool, err error) {
	var userID string
	err = tx.QueryRow(ctx, `UPDATE passkeys SET credential = coalesce($2, credential), sign_count = $3, backup_state = $4, last_used_at = $5
		WHERE id = $1 AND ($3 > sign_count OR ($3 = 0 AND sign_count = 0)) RETURNING user_id`,
		id, use.Credential, int64(use.SignCount), use.BackupState, use.At).Scan(&userID)
	if err = notFound(err); !errors.Is(err, store.ErrNotFound) {
		return false, err
	}
	if err := tx.QueryRow(ctx, "SELECT user_id, name FROM passkeys WHERE id = $1", id).Scan(&userID, &refused.Passkey); err != nil {
		return false, notFound(err)
	}
	return true, addEventsTx(ctx, tx, fx, []userEvent{{userID, refused}})
}

// PutPasskeyName renames userID's passkey id (store.PasskeyStorage).
func (s *Store) PutPasskeyName(userID string, id []byte, name string) error {
	s.writes.Add(1)
	ctx, cancel := s.ctx()
	defer cancel()
	tag, err := s.pool.Exec(ctx, "UPDATE passkeys SET name = $3 WHERE id = $1 AND user_id = $2", id, userID, name)
	if err == nil && tag.RowsAffected() == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return unavailable(fmt.Errorf("store: rename a passkey of user %s: %w", userID, err))
	}
	return nil
}

// DeletePasskey removes userID's passkey id and records ev with its name
// (store.PasskeyStorage).
func (s *Store) DeletePasskey(userID string, id []byte, ev store.Event) error {
	err := s.write(func(ctx context.Context, tx pgx.Tx, fx *effects) error {
		if err := lockUserTx(ctx, tx, userID); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, "DELETE FROM passkeys WHERE id = $1 AND user_id = $2 RETURNING name", id, userID).Scan(&ev.Passkey); err != nil {
			return notFound(err)
		}
		return addEventsTx(ctx, tx, fx, []userEvent{{userID, ev}})
	})
	if err != nil {
		return fmt.Errorf("store: remove a passkey of user %s: %w", userID, err)
	}
	return nil
}

// ceremonySweep is how many expired ceremonies each PutCeremony deletes at
// most: more than one, so the table shrinks back after a flood, few
// enough that no insert waits on a long delete.
const ceremonySweep = 100

// PutCeremony keeps data under key until expires (store.PasskeyStorage),
// deleting a few expired ceremonies in the same statement: the inserts
// keep the table bounded, with no job of its own.
func (s *Store) PutCeremony(key store.TokenHash, data []byte, expires time.Time) error {
	s.writes.Add(1)
	ctx, cancel := s.ctx()
	defer cancel()
	_, err := s.pool.Exec(ctx, `WITH gone AS (DELETE FROM webauthn_ceremonies WHERE ctid = ANY (ARRAY(
			SELECT ctid FROM webauthn_ceremonies WHERE expires_at <= $4 LIMIT $5)))
		INSERT INTO webauthn_ceremonies (key, data, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT (key) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at`,
		key[:], data, expires, s.now(), ceremonySweep)
	if err != nil {
		return unavailable(fmt.Errorf("store: keep a passkey ceremony: %w", err))
	}
	return nil
}

// TakeCeremony removes and returns what key holds if it has not expired
// at now (store.PasskeyStorage): one DELETE, which one request at most
// gets a row from. An expired one is deleted all the same.
func (s *Store) TakeCeremony(key store.TokenHash, now time.Time) ([]byte, error) {
	s.writes.Add(1)
	ctx, cancel := s.ctx()
	defer cancel()
	var data []byte
	var expires time.Time
	err := s.pool.QueryRow(ctx, "DELETE FROM webauthn_ceremonies WHERE key = $1 RETURNING data, expires_at", key[:]).Scan(&data, &expires)
	if err != nil {
		return nil, notFound(err)
	}
	if !expires.After(now) {
		return nil, store.ErrNotFound
	}
	return data, nil
}
