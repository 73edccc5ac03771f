package store

import (
	"cmp"
	"slices"
	"strings"
)

// ClientSummary is a client account a partner manages, with how many users
// it has and how many of their sessions are live.
type ClientSummary struct {
	Account      Account
	Users        int
	LiveSessions int
}

// UserSummary is a user as a partner's lists show them.
type UserSummary struct {
	ID, Email, Name        string
	Role                   Role
	Disabled               bool
	AccountID, AccountName string
	LiveSessions           int
}

// UserQuery asks for a page of a partner's users.
type UserQuery struct {
	AccountID string // only this client account's users; "" for every client's
	Search    string // a part of the email or name, any case; "" for all
	Page      int    // from 1; out-of-range pages are empty
}

// UserPage is one page of users, sorted by email, so the same query always
// gives the same page.
type UserPage struct {
	Users       []UserSummary
	Total       int // users matching the query
	Page, Pages int
}

// Directory is what a partner's console lists: its client accounts with
// their counts and every user of them. A database fills Clients and Users
// (store.Storage.PartnerDirectory) and calls Sort.
type Directory struct {
	Clients []ClientSummary
	Users   []UserSummary
	text    []string // lower-case email and name of Users[i], for search
}

// Sort orders clients by name and users by email (then id, so the order
// is total) and indexes the users for search.
func (d *Directory) Sort() {
	slices.SortFunc(d.Clients, func(a, b ClientSummary) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a.Account.Name), strings.ToLower(b.Account.Name)), cmp.Compare(a.Account.ID, b.Account.ID))
	})
	slices.SortFunc(d.Users, func(a, b UserSummary) int {
		return cmp.Or(cmp.Compare(a.Email, b.Email), cmp.Compare(a.ID, b.ID))
	})
	d.text = make([]string, len(d.Users))
	for i, u := range d.Users {
		d.text[i] = strings.ToLower(u.Email + "\x00" + u.Name)
	}
}

// PartnerClients lists the client accounts partnerID manages, by name,
// with how many users each has and how many of their sessions are live.
func (c *Core) PartnerClients(partnerID string) ([]ClientSummary, error) {
	d, err := c.db.PartnerDirectory(partnerID)
	if err != nil {
		return nil, err
	}
	return d.Clients, nil
}

// PartnerUsers returns a page of the users of partnerID's clients that
// match q, sorted by email. An account that is not one of the partner's
// is ErrNotFound.
func (c *Core) PartnerUsers(partnerID string, q UserQuery) (UserPage, error) {
	d, err := c.db.PartnerDirectory(partnerID)
	if err != nil {
		return UserPage{}, err
	}
	if q.AccountID != "" && !slices.ContainsFunc(d.Clients, func(c ClientSummary) bool { return c.Account.ID == q.AccountID }) {
		return UserPage{}, ErrNotFound
	}
	needle := strings.ToLower(strings.TrimSpace(q.Search))
	p := UserPage{Page: max(q.Page, 1)}
	start := (p.Page - 1) * PageSize
	for i, u := range d.Users {
		if (q.AccountID == "" || u.AccountID == q.AccountID) && strings.Contains(d.text[i], needle) {
			if p.Total >= start && p.Total < start+PageSize {
				p.Users = append(p.Users, u)
			}
			p.Total++
		}
	}
	p.Pages = max((p.Total+PageSize-1)/PageSize, 1)
	return p, nil
}
