package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"portal/store"
)

// PartnerClients lists the client accounts partnerID manages, by name,
// with how many users each has and how many of their sessions are live.
func (s *Store) PartnerClients(partnerID string) ([]store.ClientSummary, error) {
	d, err := s.partnerDir(partnerID)
	if err != nil {
		return nil, err
	}
	return d.clients, nil
}

// PartnerUsers returns a page of the users of partnerID's clients that
// match q, sorted by email. An account that is not one of the partner's
// is store.ErrNotFound.
func (s *Store) PartnerUsers(partnerID string, q store.UserQuery) (store.UserPage, error) {
	d, err := s.partnerDir(partnerID)
	if err != nil {
		return store.UserPage{}, err
	}
	if q.AccountID != "" && !slices.ContainsFunc(d.clients, func(c store.ClientSummary) bool { return c.Account.ID == q.AccountID }) {
		return store.UserPage{}, store.ErrNotFound
	}
	needle := strings.ToLower(strings.TrimSpace(q.Search))
	p := store.UserPage{Page: max(q.Page, 1)}
	start := (p.Page - 1) * store.PageSize
	for i, u := range d.users {
		if (q.AccountID == "" || u.AccountID == q.AccountID) && strings.Contains(d.text[i], needle) {
			if p.Total >= start && p.Total < start+store.PageSize {
				p.Users = append(p.Users, u)
			}
			p.Total++
		}
	}
	p.Pages = max((p.Total+store.PageSize-1)/store.PageSize, 1)
	return p, nil
}

// partnerDir is what a partner's console lists: its clients with their
// counts and every user of them, sorted as the bbolt store sorts them.
// Unlike the bbolt store it is read afresh for every call (three queries
// in one snapshot): another instance's writes would make a kept copy
// stale without this one hearing of it.
type partnerDir struct {
	clients []store.ClientSummary
	users   []store.UserSummary
	text    []string // lower-case email and name of users[i], for search
}

func (s *Store) partnerDir(partnerID string) (partnerDir, error) {
	var d partnerDir
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
		d.build(accounts, users, live)
		return nil
	})
	if err != nil {
		return partnerDir{}, fmt.Errorf("store: list the clients of partner %s: %w", partnerID, err)
	}
	return d, nil
}

// liveSessionCounts counts the live sessions of each user of partnerID's
// clients at now, judged with this instance's unflushed activity.
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
func (d *partnerDir) build(accounts []store.Account, users []store.User, live map[string]int) {
	index := make(map[string]int, len(accounts))
	for i, a := range accounts {
		index[a.ID] = i
		d.clients = append(d.clients, store.ClientSummary{Account: a})
	}
	for _, u := range users {
		c := &d.clients[index[u.AccountID]]
		c.Users++
		c.LiveSessions += live[u.ID]
		d.users = append(d.users, store.UserSummary{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, Disabled: u.Disabled,
			AccountID: u.AccountID, AccountName: c.Account.Name, LiveSessions: live[u.ID]})
	}
	slices.SortFunc(d.clients, func(a, b store.ClientSummary) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a.Account.Name), strings.ToLower(b.Account.Name)), cmp.Compare(a.Account.ID, b.Account.ID))
	})
	slices.SortFunc(d.users, func(a, b store.UserSummary) int {
		return cmp.Or(cmp.Compare(a.Email, b.Email), cmp.Compare(a.ID, b.ID))
	})
	d.text = make([]string, len(d.users))
	for i, u := range d.users {
		d.text[i] = strings.ToLower(u.Email + "\x00" + u.Name)
	}
}
