package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"portal/store"
)

// TwoStepRecord is userID's two-step sign-in (store.TwoStepStorage).
func (s *Store) TwoStepRecord(userID string) (store.TwoStepRecord, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	rec := store.TwoStepRecord{UserID: userID}
	err := s.pool.QueryRow(ctx, "SELECT sealed, last_step, codes, enabled_at FROM two_step WHERE user_id = $1", userID).
		Scan(&rec.Sealed, &rec.LastStep, &rec.Codes, &rec.EnabledAt)
	if err = notFound(err); err == store.ErrNotFound {
		return rec, store.ErrTwoStepOff
	} else if err != nil {
		return rec, fmt.Errorf("store: two-step sign-in of user %s: %w", userID, err)
	}
	rec.EnabledAt = rec.EnabledAt.UTC()
	return rec, nil
}

// PutTwoStep turns two-step sign-in on or replaces its codes
// (store.TwoStepStorage).
func (s *Store) PutTwoStep(rec store.TwoStepRecord, ev store.Event) error {
	return s.write(func(ctx context.Context, tx pgx.Tx, fx *effects) error {
		var id string
		if err := tx.QueryRow(ctx, "SELECT id FROM users WHERE id = $1 FOR UPDATE", rec.UserID).Scan(&id); err != nil {
			return notFound(err)
		}
		if ev.Kind == store.EventTwoStepOn {
			if _, err := tx.Exec(ctx, "UPDATE users SET two_step_changed_at = $2 WHERE id = $1", rec.UserID, ev.At); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO two_step (user_id, sealed, last_step, codes, enabled_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (user_id) DO UPDATE SET sealed = excluded.sealed, last_step = excluded.last_step,
				codes = excluded.codes, enabled_at = excluded.enabled_at`,
			rec.UserID, rec.Sealed, rec.LastStep, rec.Codes, rec.EnabledAt)
		if err != nil {
			return err
		}
		return addEventsTx(ctx, tx, fx, []userEvent{{rec.UserID, ev}})
	})
}

// AdvanceStep accepts time step step for userID once, in one statement, so
// two instances given the same code at once accept it once
// (store.TwoStepStorage).
func (s *Store) AdvanceStep(userID string, step int64) error {
	ctx, cancel := s.ctx()
	defer cancel()
	var last int64
	err := s.pool.QueryRow(ctx, `WITH u AS (UPDATE two_step SET last_step = $2 WHERE user_id = $1 AND last_step < $2 RETURNING last_step)
		SELECT coalesce((SELECT last_step FROM u), -1)
		WHERE EXISTS (SELECT 1 FROM two_step WHERE user_id = $1)`, userID, step).Scan(&last)
	switch err = notFound(err); {
	case err == store.ErrNotFound:
		return store.ErrTwoStepOff
	case err != nil:
		return fmt.Errorf("store: accept a code of user %s: %w", userID, err)
	case last != step:
		return store.ErrCodeUsed
	}
	return nil
}

// TakeRecoveryCode uses up one recovery code (store.TwoStepStorage).
func (s *Store) TakeRecoveryCode(userID, hash string, ev store.Event) (left int, err error) {
	err = s.write(func(ctx context.Context, tx pgx.Tx, fx *effects) error {
		err := tx.QueryRow(ctx, `UPDATE two_step SET codes = array_remove(codes, $2)
			WHERE user_id = $1 AND $2 = ANY(codes) RETURNING cardinality(codes)`, userID, hash).Scan(&left)
		if err = notFound(err); err == store.ErrNotFound {
			return store.ErrCodeUsed
		} else if err != nil {
			return err
		}
		ev.Count = left
		return addEventsTx(ctx, tx, fx, []userEvent{{userID, ev}})
	})
	return left, err
}

// DeleteTwoStep turns userID's two-step sign-in off (store.TwoStepStorage).
func (s *Store) DeleteTwoStep(partnerID, userID string, ev store.Event, signOut store.Reason) (revoked int, err error) {
	err = s.write(func(ctx context.Context, tx pgx.Tx, fx *effects) error {
		if partnerID != "" {
			if _, _, err := managedUser(ctx, tx, partnerID, userID, true); err != nil {
				return err
			}
		}
		if err := lockUserTx(ctx, tx, userID); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, "DELETE FROM two_step WHERE user_id = $1", userID)
		if err != nil {
			return err
		}
		ev.Count = 0
		if signOut != "" {
			// A reset: the user lost their devices, passkeys among them.
			gone, err := tx.Exec(ctx, "DELETE FROM passkeys WHERE user_id = $1", userID)
			if err != nil {
				return err
			}
			ev.Count = int(gone.RowsAffected())
		}
		if tag.RowsAffected() == 0 && ev.Count == 0 {
			return store.ErrTwoStepOff
		}
		if _, err := tx.Exec(ctx, "UPDATE users SET two_step_changed_at = $2 WHERE id = $1", userID, ev.At); err != nil {
			return err
		}
		if err := addEventsTx(ctx, tx, fx, []userEvent{{userID, ev}}); err != nil {
			return err
		}
		if signOut == "" {
			return nil
		}
		revoked, err = s.revokeUserSessionsTx(ctx, tx, fx, userID, "", signOut, ev.By)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: turn off two-step sign-in of user %s: %w", userID, err)
	}
	return revoked, nil
}

// SetConfirmedAt records a re-authentication in sessionID
// (store.TwoStepStorage).
func (s *Store) SetConfirmedAt(userID, sessionID string, at time.Time) error {
	err := s.write(func(ctx context.Context, tx pgx.Tx, fx *effects) error {
		var h []byte
		if err := tx.QueryRow(ctx, "UPDATE sessions SET confirmed_at = $3 WHERE user_id = $1 AND id = $2 RETURNING token_hash",
			userID, sessionID, at).Scan(&h); err != nil {
			return notFound(err)
		}
		var th store.TokenHash
		copy(th[:], h)
		fx.forget = append(fx.forget, th) // every instance's cached copy lacks it
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: confirm session %s: %w", sessionID, err)
	}
	return nil
}

// PutRequireTwoStep sets whether accountID requires two-step sign-in
// (store.TwoStepStorage).
func (s *Store) PutRequireTwoStep(partnerID, accountID string, on bool, ev store.Event) error {
	err := s.write(func(ctx context.Context, tx pgx.Tx, fx *effects) error {
		a, err := scanAccount(tx.QueryRow(ctx, "SELECT "+accountCols+" FROM accounts a WHERE a.id = $1 FOR UPDATE", accountID))
		if err != nil {
			return err
		}
		if partnerID != "" && (a.Kind != store.AccountClient || a.Partner != partnerID) {
			return store.ErrNotFound
		}
		if _, err := tx.Exec(ctx, "UPDATE accounts SET require_two_step = $2 WHERE id = $1", accountID, on); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, "SELECT id FROM users WHERE account_id = $1 ORDER BY id", accountID)
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		evs := make([]userEvent, len(ids))
		for i, id := range ids {
			evs[i] = userEvent{id, ev}
		}
		fx.users, fx.confirm = append(fx.users, ids...), true // their pages and sign-ins follow the account's rule
		return addEventsTx(ctx, tx, fx, evs)
	})
	if err != nil {
		return fmt.Errorf("store: require two-step sign-in for account %s: %w", accountID, err)
	}
	return nil
}
