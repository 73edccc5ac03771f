package bolt

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	bbolt "go.etcd.io/bbolt"

	"portal/store"
)

// partnerDir is what a partner's console lists: its clients with their
// counts and every user of them, sorted. Building it reads every session of
// those users, so it is kept until a write commits anywhere (the list
// cache's generation) or one of the counted sessions expires.
type partnerDir struct {
	gen        uint64
	validUntil time.Time
	store.Directory
}

// partnerDirs holds one directory per partner that asked recently. Every
// write but the last-active flush bumps gen, making them all stale; a stale
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

// PartnerDirectory is partnerID's clients and their users (store.Storage),
// kept until a write commits or one of the counted sessions expires.
func (s *Store) PartnerDirectory(partnerID string) (*store.Directory, error) {
	d, err := s.partnerDir(partnerID)
	if err != nil {
		return nil, err
	}
	return &d.Directory, nil
}

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
	err := s.db.View(func(tx *bbolt.Tx) error {
		clients := getPartnerClientsBucket(tx, partnerID)
		if partnerID == "" || clients == nil {
			return nil
		}
		return clients.ForEach(func(id, _ []byte) error {
			var a store.Account
			if err := get(getAccountsBucket(tx), id, &a); err != nil {
				return fmt.Errorf("account %s: %w", id, err)
			}
			c := store.ClientSummary{Account: a}
			set := getAccountUsersBucket(tx, a.ID)
			if set == nil {
				d.Clients = append(d.Clients, c)
				return nil
			}
			err := set.ForEach(func(uid, _ []byte) error {
				var u store.User
				if err := get(getUsersBucket(tx), uid, &u); err != nil {
					return fmt.Errorf("user %s: %w", uid, err)
				}
				live, err := s.liveSessionsTx(tx, u.ID, now, &d.validUntil)
				if err != nil {
					return err
				}
				c.Users++
				c.LiveSessions += live
				d.Users = append(d.Users, store.UserSummary{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, Disabled: u.Disabled,
					AccountID: a.ID, AccountName: a.Name, LiveSessions: live})
				return nil
			})
			d.Clients = append(d.Clients, c)
			return err
		})
	})
	d.Sort()
	return d, err
}

// liveSessionsTx counts userID's live sessions at now and moves
// *validUntil back to the moment the first of them expires.
func (s *Store) liveSessionsTx(tx *bbolt.Tx, userID string, now time.Time, validUntil *time.Time) (int, error) {
	set := getSessionSetBucket(tx, userID)
	if set == nil {
		return 0, nil
	}
	list, err := sessionsInSetTx(tx, set, func(x store.Session) bool { return x.EndedAt.IsZero() })
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
