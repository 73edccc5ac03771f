package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"portal/store"
)

// SweepEnded (store.Storage) deletes sessions that ended more than
// retention ago, at most batch in each short transaction, and records the
// expiry of sessions that expired without a record. It flushes this
// instance's last-active times first, so the database judges with them.
func (s *Store) SweepEnded(ctx context.Context, retention time.Duration, batch int) (int, error) {
	if _, err := s.FlushLastActive(); err != nil {
		return 0, fmt.Errorf("store: sweep: %w", err)
	}
	now := s.nowUTC()
	p := s.opts.Policy
	// The policy as microseconds; 0 turns a bound off, as in Session.Ended.
	maxLife, idle := p.MaxLifetime.Microseconds(), p.IdleTimeout.Microseconds()
	total := 0
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		var deleted []store.TokenHash
		err := s.write(func(ctx context.Context, tx pgx.Tx, fx *effects) error {
			// Ended before the cutoff: revoked then, or expired then by
			// endedAt's rule (the lifetime if it has passed, else idleness).
			rows, err := tx.Query(ctx, `WITH p AS (SELECT $1::timestamptz AS now, $2::timestamptz AS cutoff,
					$3::bigint * interval '1 microsecond' AS life, $4::bigint * interval '1 microsecond' AS idle)
				DELETE FROM sessions WHERE token_hash IN (
				SELECT token_hash FROM sessions, p WHERE revoked_at <= p.cutoff
				UNION ALL
				SELECT token_hash FROM sessions, p WHERE revoked_at IS NULL AND (
					(p.life > '0' AND created_at + p.life <= p.cutoff)
					OR ((p.life = '0' OR created_at + p.life > p.now)
						AND p.idle > '0' AND last_active + p.idle <= p.cutoff))
				LIMIT $5)
				RETURNING token_hash, user_id`, now, now.Add(-retention), maxLife, idle, batch)
			if err != nil {
				return err
			}
			raw, err := pgx.CollectRows(rows, pgx.RowToStructByPos[struct {
				Hash []byte
				User string
			}])
			if err != nil {
				return err
			}
			deleted = make([]store.TokenHash, len(raw))
			for i, r := range raw {
				copy(deleted[i][:], r.Hash)
				fx.users = append(fx.users, r.User)
			}
			fx.forget = append(fx.forget, deleted...)
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("store: sweep: %w", err)
		}
		total += len(deleted)
		if len(deleted) < batch {
			break
		}
	}
	if err := s.recordExpiries(ctx, batch, now, maxLife, idle); err != nil {
		return total, fmt.Errorf("store: sweep: %w", err)
	}
	return total, nil
}

// recordExpiries closes the sessions that have expired without a record,
// batch at a time.
func (s *Store) recordExpiries(ctx context.Context, batch int, now time.Time, maxLife, idle int64) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		var found, closed int
		err := s.write(func(ctx context.Context, tx pgx.Tx, fx *effects) error {
			list, err := querySessions(ctx, tx, "SELECT "+sessionCols+` FROM sessions s WHERE s.revoked_at IS NULL AND (
					($2::bigint > 0 AND s.created_at + $2::bigint * interval '1 microsecond' <= $1)
					OR ($3::bigint > 0 AND s.last_active + $3::bigint * interval '1 microsecond' <= $1))
				ORDER BY s.id LIMIT $4 FOR UPDATE SKIP LOCKED`, now, maxLife, idle, batch)
			if err != nil {
				return err
			}
			ends := s.expiries(list, now)
			found, closed = len(list), len(ends)
			return closeTx(ctx, tx, fx, ends, false)
		})
		if err != nil || found < batch || closed == 0 {
			return err
		}
	}
}
