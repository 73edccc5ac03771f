package postgres

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"

	"portal/store"
)

// WriteFlush writes f in one transaction (store.Storage): last-active
// times, networks and browsers with one UPDATE, then expiries and failed
// sign-ins. The later last-active time wins, so two instances flushing
// the same session keep the later of theirs.
func (s *Store) WriteFlush(f store.Flush) (int, error) {
	var n int64
	err := s.write(func(ctx context.Context, tx pgx.Tx, fx *effects) error {
		var err error
		if n, err = flushTx(ctx, tx, f.LastActive); err != nil {
			return err
		}
		for _, e := range f.LastActive { // their lists show other times now
			fx.users = append(fx.users, e.UserID())
		}
		if err := s.recordExpiriesTx(ctx, tx, fx, f.Expired, f.Now); err != nil {
			return err
		}
		return recordFailuresTx(ctx, tx, fx, f.Failures)
	})
	return int(n), err
}

// flushTx is WriteFlush's one UPDATE.
func flushTx(ctx context.Context, tx pgx.Tx, pending map[store.TokenHash]*store.Tracked) (int64, error) {
	if len(pending) == 0 {
		return 0, nil
	}
	var (
		hashes               [][]byte
		las                  []time.Time
		places, uas, devices []*string
		jsonOf               = func(v any) *string { b, _ := json.Marshal(v); s := string(b); return &s }
	)
	for h, e := range pending {
		la, p, a := e.Seen()
		hashes = append(hashes, h[:])
		las = append(las, la)
		var place, ua, dev *string
		if p != nil {
			place = jsonOf(*p)
		}
		if a != nil {
			ua, dev = &a.UserAgent, jsonOf(a.Device)
		}
		places, uas, devices = append(places, place), append(uas, ua), append(devices, dev)
	}
	tag, err := tx.Exec(ctx, `UPDATE sessions s SET
			last_active = GREATEST(s.last_active, v.la),
			last_place = coalesce(v.place::jsonb, s.last_place),
			user_agent = coalesce(v.ua, s.user_agent),
			device = coalesce(v.dev::jsonb, s.device)
		FROM unnest($1::bytea[], $2::timestamptz[], $3::text[], $4::text[], $5::text[]) AS v(h, la, place, ua, dev)
		WHERE s.token_hash = v.h AND s.revoked_at IS NULL
			AND (v.la > s.last_active
				OR (v.place IS NOT NULL AND v.place::jsonb <> s.last_place)
				OR (v.ua IS NOT NULL AND (v.ua <> s.user_agent OR v.dev::jsonb <> s.device)))`,
		hashes, las, places, uas, devices)
	return tag.RowsAffected(), err
}

// recordExpiriesTx closes the sessions under hashes that have expired
// without a record, each dated when it expired, not when it was noticed.
func (s *Store) recordExpiriesTx(ctx context.Context, tx pgx.Tx, fx *effects, expired []store.TokenHash, now time.Time) error {
	if len(expired) == 0 {
		return nil
	}
	hashes := make([][]byte, len(expired))
	for i := range expired {
		hashes[i] = expired[i][:]
	}
	list, err := querySessions(ctx, tx, "SELECT "+sessionCols+" FROM sessions s WHERE s.token_hash = ANY($1) AND s.revoked_at IS NULL ORDER BY s.id FOR UPDATE", hashes)
	if err != nil {
		return err
	}
	return closeTx(ctx, tx, fx, s.expiries(list, now), false)
}

// expiries are the ends of the sessions in list that have expired at now
// (counting this instance's unflushed use), each with its reason and
// the time it expired, naming no one.
func (s *Store) expiries(list []sessionRow, now time.Time) []ending {
	var ends []ending
	for _, x := range list {
		s.MergeUnflushed(&x.Session)
		if ended, reason := x.Ended(now, s.opts.Policy); ended {
			x.EndedAt, x.EndReason = x.EndTime(now, s.opts.Policy).Truncate(time.Microsecond), reason
			ends = append(ends, ending{x, store.Actor{}})
		}
	}
	return ends
}
