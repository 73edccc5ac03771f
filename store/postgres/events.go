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

// maxEventsPerUser is the bbolt store's bound on a user's log: past it,
// the oldest events go.
const maxEventsPerUser = 1000

// userEvent is an event and the user whose log it goes in.
type userEvent struct {
	userID string
	e      store.Event
}

// addEventsTx records events in tx in the order given, with one INSERT,
// then trims each user's log to maxEventsPerUser. Events are written in
// the transaction that makes the change they record, as in the bbolt
// store, so neither exists without the other.
func addEventsTx(ctx context.Context, tx pgx.Tx, evs []userEvent) error {
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
	slices.Sort(users)
	for _, u := range slices.Compact(users) {
		_, err := tx.Exec(ctx, `DELETE FROM events WHERE user_id = $1 AND seq IN (
			SELECT seq FROM events WHERE user_id = $1 ORDER BY at DESC, seq DESC OFFSET $2)`, u, maxEventsPerUser)
		if err != nil {
			return fmt.Errorf("trim the activity of user %s: %w", u, err)
		}
	}
	return nil
}

// endedEvent is the event of x having ended, as recorded in x.
func endedEvent(x store.Session, by store.Actor) store.Event {
	return store.Event{At: x.RevokedAt, Kind: store.EventEnded, SessionID: x.ID, Reason: x.RevokeReason, By: by}
}

// UserEvents returns a page of userID's events, newest first.
func (s *Store) UserEvents(userID string, q store.EventQuery) (store.EventPage, error) {
	p := store.EventPage{Page: max(q.Page, 1)}
	ctx, cancel := s.ctx()
	defer cancel()
	var kinds []string // nil: all kinds
	for _, k := range q.Kinds {
		kinds = append(kinds, string(k))
	}
	var since *time.Time
	if !q.Since.IsZero() {
		since = &q.Since
	}
	const where = `user_id = $1 AND ($2::text[] IS NULL OR kind = ANY($2)) AND ($3::timestamptz IS NULL OR at >= $3)`
	if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM events WHERE "+where, userID, kinds, since).Scan(&p.Total); err != nil {
		return store.EventPage{}, fmt.Errorf("store: activity of user %s: %w", userID, err)
	}
	rows, err := s.pool.Query(ctx, "SELECT body FROM events WHERE "+where+" ORDER BY at DESC, seq DESC LIMIT $4 OFFSET $5",
		userID, kinds, since, store.EventPageSize, (p.Page-1)*store.EventPageSize)
	if err != nil {
		return store.EventPage{}, fmt.Errorf("store: activity of user %s: %w", userID, err)
	}
	bodies, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
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
		var n int64
		err := s.write(func(ctx context.Context, tx pgx.Tx) error {
			tag, err := tx.Exec(ctx, "DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE at < $1 LIMIT $2)", cutoff, batch)
			n = tag.RowsAffected()
			return err
		})
		if err != nil {
			return total, fmt.Errorf("store: sweep events: %w", err)
		}
		total += int(n)
		if n < int64(batch) {
			return total, nil
		}
	}
}
