package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"portal/store"
)

// recordFailuresTx adds each group to its user's log, into the event of
// the same network, kind and window if one was written before (by an
// earlier flush of this instance or another's). It first locks the
// users' event_versions rows, so two instances flushing the same group
// take turns and the second finds the first's event to merge into.
func recordFailuresTx(ctx context.Context, tx pgx.Tx, fx *effects, groups []*store.FailureGroup) error {
	if len(groups) == 0 {
		return nil
	}
	ids := make([]string, len(groups))
	for i, g := range groups {
		ids[i] = g.UserID
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
	for _, g := range groups { // in the order they happened (FailureQueue.Take)
		if !slices.Contains(known, g.UserID) {
			continue
		}
		merged, err := mergeFailureTx(ctx, tx, g)
		if err != nil {
			return fmt.Errorf("merge failed sign-ins of user %s: %w", g.UserID, err)
		}
		if !merged {
			add = append(add, userEvent{g.UserID, g.Event()})
		}
	}
	return addEventsTx(ctx, tx, fx, add)
}

// mergeFailureTx adds g to the newest event of its user, kind and network
// in its window, if there is one.
func mergeFailureTx(ctx context.Context, tx pgx.Tx, g *store.FailureGroup) (bool, error) {
	rows, err := tx.Query(ctx, "SELECT seq, body FROM events WHERE user_id = $1 AND kind = $2 AND at >= $3 ORDER BY at DESC, seq DESC",
		g.UserID, string(g.Kind), g.Window)
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
	window := make([]store.Event, len(list))
	for i, f := range list {
		if err := json.Unmarshal(f.Body, &window[i]); err != nil {
			return false, err
		}
	}
	i := store.PlaceFailure(window, g)
	if i < 0 {
		return false, nil
	}
	g.Merge(&window[i])
	body, err := json.Marshal(window[i])
	if err != nil {
		return false, err
	}
	_, err = tx.Exec(ctx, "UPDATE events SET body = $2::jsonb WHERE seq = $1", list[i].Seq, string(body))
	return true, err
}
