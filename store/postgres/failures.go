package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"portal/geo"
	"portal/store"
)

// failureWindow is the bbolt store's grouping of failed sign-ins: one
// event per user, network and kind in each 5 minutes.
const failureWindow = 5 * time.Minute

// failureGroup is failed (or throttled) sign-ins for one user from one
// network in one failureWindow.
type failureGroup struct {
	userID      string
	kind        store.EventKind
	place       geo.Place
	window      time.Time // start of the window
	first, last time.Time
	count       int
}

type failureKey struct {
	userID, network string
	kind            store.EventKind
	window          time.Time
}

// failureQueue holds the groups the next flush records, as the bbolt
// store's event queue does: a failed sign-in never waits for a commit, so
// it takes the same time whether or not it is recorded.
type failureQueue struct {
	mu sync.Mutex
	m  map[failureKey]*failureGroup
}

func (q *failureQueue) take() map[failureKey]*failureGroup {
	q.mu.Lock()
	defer q.mu.Unlock()
	m := q.m
	q.m = nil
	return m
}

// putBack re-queues what a failed flush did not write.
func (q *failureQueue) putBack(m map[failureKey]*failureGroup) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for k, g := range m {
		if q.m == nil {
			q.m = make(map[failureKey]*failureGroup)
		}
		if cur := q.m[k]; cur != nil {
			cur.count += g.count
			cur.first = g.first
			continue
		}
		q.m[k] = g
	}
}

// RecordSignInFailure notes a failed sign-in for an existing user from
// place (throttled: refused before the password was checked). Attempts
// from one network in one 5-minute window become one event with a count,
// across flushes and instances, so a guesser cannot grow the log without
// bound. It is written with the next activity flush.
func (s *Store) RecordSignInFailure(userID string, place geo.Place, throttled bool) {
	now := s.nowUTC()
	kind := store.EventSignInFailed
	if throttled {
		kind = store.EventSignInThrottled
	}
	k := failureKey{userID: userID, network: place.Network, kind: kind, window: now.Truncate(failureWindow)}
	q := &s.failures
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.m == nil {
		q.m = make(map[failureKey]*failureGroup)
	}
	g := q.m[k]
	if g == nil {
		if len(q.m) >= maxQueued {
			return
		}
		g = &failureGroup{userID: userID, kind: kind, place: place, window: k.window, first: now}
		q.m[k] = g
	}
	g.count++
	g.last = now
}

// recordFailuresTx adds each group to its user's log, into the event of
// the same network, kind and window if one was written before (by an
// earlier flush of this instance or another's). It first locks the
// users' event_versions rows, so two instances flushing the same group
// take turns and the second finds the first's event to merge into.
func recordFailuresTx(ctx context.Context, tx pgx.Tx, fx *effects, groups map[failureKey]*failureGroup) error {
	if len(groups) == 0 {
		return nil
	}
	// In the order they happened (failures before the refusals they led
	// to, at one instant), never the map's: the log's order must not
	// depend on chance.
	ordered := slices.SortedFunc(maps.Values(groups), func(a, b *failureGroup) int {
		return cmp.Or(a.first.Compare(b.first), a.last.Compare(b.last),
			cmp.Compare(slices.Index(store.EventKinds, a.kind), slices.Index(store.EventKinds, b.kind)),
			cmp.Compare(a.userID, b.userID), cmp.Compare(a.place.Network, b.place.Network))
	})
	ids := make([]string, len(ordered))
	for i, g := range ordered {
		ids[i] = g.userID
	}
	// Users that are gone are skipped; the others' log rows are locked.
	rows, err := tx.Query(ctx, "SELECT id FROM users WHERE id = ANY($1)", ids)
	if err != nil {
		return err
	}
	known, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	if err := bumpVersionsTx(ctx, tx, known); err != nil {
		return err
	}
	fx.users = append(fx.users, known...) // a merge adds no event, but moves the version on
	var add []userEvent
	for _, g := range ordered {
		if !slices.Contains(known, g.userID) {
			continue
		}
		merged, err := mergeFailureTx(ctx, tx, g)
		if err != nil {
			return fmt.Errorf("merge failed sign-ins of user %s: %w", g.userID, err)
		}
		if !merged {
			add = append(add, userEvent{g.userID, store.Event{At: g.first, Kind: g.kind, Place: g.place, Count: g.count, Until: g.last}})
		}
	}
	return addEventsTx(ctx, tx, fx, add)
}

// mergeFailureTx adds g to the newest event of its user, kind and network
// in its window, if there is one.
func mergeFailureTx(ctx context.Context, tx pgx.Tx, g *failureGroup) (bool, error) {
	rows, err := tx.Query(ctx, "SELECT seq, body FROM events WHERE user_id = $1 AND kind = $2 AND at >= $3 ORDER BY at DESC, seq DESC",
		g.userID, string(g.kind), g.window)
	if err != nil {
		return false, err
	}
	type found struct {
		Seq  int64
		Body []byte
	}
	list, err := pgx.CollectRows(rows, pgx.RowToStructByPos[found])
	if err != nil {
		return false, err
	}
	for _, f := range list {
		var e store.Event
		if err := json.Unmarshal(f.Body, &e); err != nil {
			return false, err
		}
		if e.Place.Network != g.place.Network {
			continue
		}
		e.Count += g.count
		e.Until = g.last
		body, err := json.Marshal(e)
		if err != nil {
			return false, err
		}
		_, err = tx.Exec(ctx, "UPDATE events SET body = $2::jsonb WHERE seq = $1", f.Seq, string(body))
		return true, err
	}
	return false, nil
}
