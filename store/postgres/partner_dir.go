package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"portal/store"
)

// PartnerDirectory is partnerID's clients and their users
// (store.Storage), read afresh for every call (three queries in one
// snapshot): another instance's writes would make a kept copy stale
// without this one hearing of it.
func (s *Store) PartnerDirectory(partnerID string) (*store.Directory, error) {
	d := &store.Directory{}
	if partnerID == "" {
		return d, nil
	}
	now := s.now()
	err := s.read(func(ctx context.Context, tx pgx.Tx) error {
		rows, err := tx.Query(ctx, "SELECT "+accountCols+" FROM accounts a WHERE a.partner_id = $1 AND a.kind = 'client'", partnerID)
		if err != nil {
			return err
		}
		accounts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Account, error) { return scanAccount(r) })
		if err != nil {
			return fmt.Errorf("clients: %w", err)
		}
		live, err := s.liveSessionCounts(ctx, tx, partnerID, now)
		if err != nil {
			return err
		}
		rows, err = tx.Query(ctx, "SELECT "+userCols+` FROM users u JOIN accounts a ON a.id = u.account_id
			WHERE a.partner_id = $1 AND a.kind = 'client'`, partnerID)
		if err != nil {
			return err
		}
		users, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.User, error) {
			var x userScan
			err := r.Scan(x.dests()...)
			return x.user(), err
		})
		if err != nil {
			return fmt.Errorf("users: %w", err)
		}
		buildDirectory(d, accounts, users, live)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: list the clients of partner %s: %w", partnerID, err)
	}
	return d, nil
}

// liveSessionCounts counts the live sessions of each user of partnerID's
// clients at now, judged with this instance's unflushed use.
func (s *Store) liveSessionCounts(ctx context.Context, tx pgx.Tx, partnerID string, now time.Time) (map[string]int, error) {
	rows, err := tx.Query(ctx, `SELECT s.token_hash, s.user_id, s.created_at, s.last_active
		FROM sessions s JOIN users u ON u.id = s.user_id JOIN accounts a ON a.id = u.account_id
		WHERE a.partner_id = $1 AND a.kind = 'client' AND s.revoked_at IS NULL`, partnerID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[string]int)
	for rows.Next() {
		var x sessionRow
		var hash []byte
		if err := rows.Scan(&hash, &x.UserID, &x.CreatedAt, &x.LastActive); err != nil {
			return nil, fmt.Errorf("sessions: %w", err)
		}
		copy(x.Hash[:], hash)
		s.MergeUnflushed(&x.Session)
		if ended, _ := x.Ended(now, s.opts.Policy); !ended {
			out[x.UserID]++
		}
	}
	return out, rows.Err()
}

// build fills d from the partner's client accounts, their users and the
// users' live session counts.
func buildDirectory(d *store.Directory, accounts []store.Account, users []store.User, live map[string]int) {
	index := make(map[string]int, len(accounts))
	for i, a := range accounts {
		index[a.ID] = i
		d.Clients = append(d.Clients, store.ClientSummary{Account: a})
	}
	for _, u := range users {
		c := &d.Clients[index[u.AccountID]]
		c.Users++
		c.LiveSessions += live[u.ID]
		d.Users = append(d.Users, store.UserSummary{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, Disabled: u.Disabled,
			AccountID: u.AccountID, AccountName: c.Account.Name, LiveSessions: live[u.ID]})
	}
	d.Sort()
}
