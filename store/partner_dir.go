package store

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
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

// PartnerClients lists the client accounts partnerID manages, by name.
func (s *Store) PartnerClients(partnerID string) ([]ClientSummary, error) {
	d, err := s.partnerDir(partnerID)
	if err != nil {
		return nil, err
	}
	return d.clients, nil
}

// PartnerUsers returns a page of the users of partnerID's clients that
// match q. An account that is not one of the partner's is ErrNotFound.
func (s *Store) PartnerUsers(partnerID string, q UserQuery) (UserPage, error) {
	d, err := s.partnerDir(partnerID)
	if err != nil {
		return UserPage{}, err
	}
	if q.AccountID != "" && !slices.ContainsFunc(d.clients, func(c ClientSummary) bool { return c.Account.ID == q.AccountID }) {
		return UserPage{}, ErrNotFound
	}
	needle := strings.ToLower(strings.TrimSpace(q.Search))
	p := UserPage{Page: max(q.Page, 1)}
	start := (p.Page - 1) * PageSize
	for i, u := range d.users {
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

// partnerDir is what a partner's console lists: its clients with their
// counts and every user of them, sorted. Building it reads every session of
// those users, so it is kept until a write commits anywhere (the list
// cache's generation) or one of the counted sessions expires.
type partnerDir struct {
	gen        uint64
	validUntil time.Time
	clients    []ClientSummary
	users      []UserSummary
	text       []string // lower-case email and name of users[i], for search
}

// partnerDirs holds one directory per partner that asked recently. Every
// write but the activity flush bumps gen, making them all stale; a stale
// one is rebuilt by one request at a time per partner (building reads
// every session of the partner's users), and the others wait for it.
type partnerDirs struct {
	gen      atomic.Uint64
	mu       sync.Mutex
	m        map[string]*partnerDir
	building map[string]*sync.Mutex
}

func (d *partnerDirs) invalidate() { d.gen.Add(1) }

// builder is the lock that one partner's rebuilds take.
func (d *partnerDirs) builder(partnerID string) *sync.Mutex {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.building == nil || len(d.building) >= maxPartnerDirs {
		d.building = make(map[string]*sync.Mutex)
	}
	b := d.building[partnerID]
	if b == nil {
		b = new(sync.Mutex)
		d.building[partnerID] = b
	}
	return b
}

func (d *partnerDirs) get(partnerID string, gen uint64, now time.Time) *partnerDir {
	d.mu.Lock()
	defer d.mu.Unlock()
	if x := d.m[partnerID]; x != nil && x.gen == gen && now.Before(x.validUntil) {
		return x
	}
	return nil
}

// maxPartnerDirs bounds the directories kept; past it the map starts over.
const maxPartnerDirs = 256

func (s *Store) partnerDir(partnerID string) (*partnerDir, error) {
	now := s.now()
	gen := s.dirs.gen.Load()
	if d := s.dirs.get(partnerID, gen, now); d != nil {
		return d, nil
	}
	b := s.dirs.builder(partnerID)
	b.Lock()
	defer b.Unlock()
	if d := s.dirs.get(partnerID, gen, now); d != nil {
		return d, nil // built while this request waited
	}
	d, err := s.buildPartnerDir(partnerID, gen, now)
	if err != nil {
		return nil, fmt.Errorf("store: list the clients of partner %s: %w", partnerID, err)
	}
	s.dirs.mu.Lock()
	if s.dirs.m == nil || len(s.dirs.m) >= maxPartnerDirs {
		s.dirs.m = make(map[string]*partnerDir)
	}
	s.dirs.m[partnerID] = d
	s.dirs.mu.Unlock()
	return d, nil
}

func (s *Store) buildPartnerDir(partnerID string, gen uint64, now time.Time) (*partnerDir, error) {
	d := &partnerDir{gen: gen, validUntil: now.Add(24 * time.Hour)}
	err := s.db.View(func(tx *bolt.Tx) error {
		clients := getPartnerClientsBucket(tx, partnerID)
		if partnerID == "" || clients == nil {
			return nil
		}
		return clients.ForEach(func(id, _ []byte) error {
			var a Account
			if err := get(getAccountsBucket(tx), id, &a); err != nil {
				return fmt.Errorf("account %s: %w", id, err)
			}
			c := ClientSummary{Account: a}
			set := getAccountUsersBucket(tx, a.ID)
			if set == nil {
				d.clients = append(d.clients, c)
				return nil
			}
			err := set.ForEach(func(uid, _ []byte) error {
				var u User
				if err := get(getUsersBucket(tx), uid, &u); err != nil {
					return fmt.Errorf("user %s: %w", uid, err)
				}
				live, err := s.liveSessionsTx(tx, u.ID, now, &d.validUntil)
				if err != nil {
					return err
				}
				c.Users++
				c.LiveSessions += live
				d.users = append(d.users, UserSummary{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, Disabled: u.Disabled,
					AccountID: a.ID, AccountName: a.Name, LiveSessions: live})
				return nil
			})
			d.clients = append(d.clients, c)
			return err
		})
	})
	slices.SortFunc(d.clients, func(a, b ClientSummary) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a.Account.Name), strings.ToLower(b.Account.Name)), cmp.Compare(a.Account.ID, b.Account.ID))
	})
	slices.SortFunc(d.users, func(a, b UserSummary) int { return cmp.Or(cmp.Compare(a.Email, b.Email), cmp.Compare(a.ID, b.ID)) })
	d.text = make([]string, len(d.users))
	for i, u := range d.users {
		d.text[i] = strings.ToLower(u.Email + "\x00" + u.Name)
	}
	return d, err
}

// liveSessionsTx counts userID's live sessions at now and moves
// *validUntil back to the moment the first of them expires.
func (s *Store) liveSessionsTx(tx *bolt.Tx, userID string, now time.Time, validUntil *time.Time) (int, error) {
	set := getSessionSetBucket(tx, userID)
	if set == nil {
		return 0, nil
	}
	list, err := sessionsInSetTx(tx, set, func(x Session) bool { return x.RevokedAt.IsZero() })
	if err != nil {
		return 0, err
	}
	n := 0
	for _, x := range list {
		s.MergeUnflushed(&x)
		if ended, _ := x.Ended(now, s.opts.Policy); ended {
			continue
		}
		n++
		if exp := s.expiresAt(x); exp.Before(*validUntil) {
			*validUntil = exp
		}
	}
	return n, nil
}
