package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"portal/store"
)

// userEvent is an event and the user whose log it goes in.
type userEvent struct {
	userID string
	e      store.Event
}

// addEventsTx records events in tx in the order given, with one INSERT,
// then trims each user's log to store.MaxEventsPerUser. Events are written in
// the transaction that makes the change they record, as in the bbolt
// store, so neither exists without the other; fx moves the users'
// event versions on.
func addEventsTx(ctx context.Context, tx pgx.Tx, fx *effects, evs []userEvent) error {
	if len(evs) == 0 {
		return nil
	}
	users := make([]string, len(evs))
	ats := make([]time.Time, len(evs))
	kinds := make([]string, len(evs))
	bodies := make([]string, len(evs))
	for i, ue := range evs {
		ue.e.At = ue.e.At.UTC().Truncate(time.Microsecond)
		body, err := json.Marshal(ue.e)
		if err != nil {
			return fmt.Errorf("encode a %s event: %w", ue.e.Kind, err)
		}
		users[i], ats[i], kinds[i], bodies[i] = ue.userID, ue.e.At, string(ue.e.Kind), string(body)
	}
	_, err := tx.Exec(ctx, `INSERT INTO events (user_id, at, kind, body)
		SELECT u, a, k, b::jsonb FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[]) WITH ORDINALITY AS v(u, a, k, b, n)
		ORDER BY n`, users, ats, kinds, bodies)
	if err != nil {
		return fmt.Errorf("record events: %w", err)
	}
	fx.logUsers = append(fx.logUsers, users...)
	slices.Sort(users)
	// Each class (failures or the rest: EventKind.Failure) within its own
	// bound, so failures never push the rest out.
	var failures []string
	for _, k := range store.EventKinds {
		if k.Failure() {
			failures = append(failures, string(k))
		}
	}
	for _, u := range slices.Compact(users) {
		_, err := tx.Exec(ctx, `DELETE FROM events WHERE user_id = $1 AND seq IN (
			(SELECT seq FROM events WHERE user_id = $1 AND kind = ANY($3) ORDER BY at DESC, seq DESC OFFSET $2)
			UNION ALL
			(SELECT seq FROM events WHERE user_id = $1 AND NOT kind = ANY($3) ORDER BY at DESC, seq DESC OFFSET $4))`,
			u, store.MaxFailureEventsPerUser, failures, store.MaxEventsPerUser)
		if err != nil {
			return fmt.Errorf("trim the activity of user %s: %w", u, err)
		}
	}
	return nil
}

// endedEvent is the event of x having ended, as recorded in x.
func endedEvent(x store.Session, by store.Actor) store.Event {
	return store.Event{At: x.EndedAt, Kind: store.EventEnded, SessionID: x.ID, Reason: x.EndReason, By: by}
}

// UserEvents returns a page of userID's events, newest first, read in
// one snapshot with the total, the oldest match and the log's version.
func (s *Store) UserEvents(userID string, q store.EventQuery) (store.EventPage, error) {
	p := store.EventPage{Page: max(q.Page, 1)}
	var kinds []string // nil: all kinds
	for _, k := range q.Kinds {
		kinds = append(kinds, string(k))
	}
	var since *time.Time
	if !q.Since.IsZero() {
		since = &q.Since
	}
	const where = `user_id = $1 AND ($2::text[] IS NULL OR kind = ANY($2)) AND ($3::timestamptz IS NULL OR at >= $3)`
	var bodies [][]byte
	err := s.read(func(ctx context.Context, tx pgx.Tx) error {
		var oldest *time.Time
		err := tx.QueryRow(ctx, "SELECT count(*), min(at), (SELECT coalesce(max(version), 0) FROM event_versions WHERE user_id = $1) FROM events WHERE "+where,
			userID, kinds, since).Scan(&p.Total, &oldest, &p.Version)
		if err != nil {
			return err
		}
		if oldest != nil {
			p.Oldest = oldest.UTC()
		}
		rows, err := tx.Query(ctx, "SELECT body FROM events WHERE "+where+" ORDER BY at DESC, seq DESC LIMIT $4 OFFSET $5",
			userID, kinds, since, store.EventPageSize, (p.Page-1)*store.EventPageSize)
		if err != nil {
			return err
		}
		bodies, err = pgx.CollectRows(rows, pgx.RowTo[[]byte])
		return err
	})
	if err != nil {
		return store.EventPage{}, fmt.Errorf("store: activity of user %s: %w", userID, err)
	}
	for _, b := range bodies {
		var e store.Event
		if err := json.Unmarshal(b, &e); err != nil {
			return store.EventPage{}, fmt.Errorf("store: activity of user %s: decode an event: %w", userID, err)
		}
		p.Events = append(p.Events, e)
	}
	p.Pages = max((p.Total+store.EventPageSize-1)/store.EventPageSize, 1)
	return p, nil
}

// EventsVersion (store.Storage; the Core keeps it) is the user's row of
// event_versions, which every transaction that adds, merges or deletes the
// user's events moves on; 0 for a user without events.
func (s *Store) EventsVersion(userID string) (uint64, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	var v uint64
	err := s.pool.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM event_versions WHERE user_id = $1", userID).Scan(&v)
	if err != nil {
		return 0, unavailable(fmt.Errorf("store: activity version of user %s: %w", userID, err))
	}
	return v, nil
}

// read runs fn in one read-only transaction that sees one snapshot
// (REPEATABLE READ), within the store's query timeout.
func (s *Store) read(fn func(ctx context.Context, tx pgx.Tx) error) error {
	ctx, cancel := s.ctx()
	defer cancel()
	return unavailable(pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly},
		func(tx pgx.Tx) error { return fn(ctx, tx) }))
}

// SweepEvents deletes events older than retention, at most batch in each
// short transaction, and reports how many it deleted. It stops between
// batches when ctx is done.
func (s *Store) SweepEvents(ctx context.Context, retention time.Duration, batch int) (int, error) {
	if batch <= 0 {
		batch = 500
	}
	cutoff := s.nowUTC().Add(-retention)
	total := 0
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		var n int
		err := s.write(func(ctx context.Context, tx pgx.Tx, fx *effects) error {
			rows, err := tx.Query(ctx, "DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE at < $1 LIMIT $2) RETURNING user_id", cutoff, batch)
			if err != nil {
				return err
			}
			users, err := pgx.CollectRows(rows, pgx.RowTo[string])
			n = len(users)
			fx.logUsers = append(fx.logUsers, users...)
			return err
		})
		if err != nil {
			return total, fmt.Errorf("store: sweep events: %w", err)
		}
		total += n
		if n < batch {
			return total, nil
		}
	}
}
