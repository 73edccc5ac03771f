package store

import (
	"context"
	"sort"
	"time"
)

// Core is the session logic every database shares, written once above
// them: validating a session on each request from a cache (authenticate.go,
// cache.go), judging expiry, batching last-active times and failed
// sign-ins in memory until the next flush (flush.go), and keeping each
// user's sessions list and activity version between requests (this file).
//
// A database package only stores: it implements Storage and embeds *Core
// in its Store, so Authenticate, FlushLastActive and the rest are the Core's.
// It tells the Core what its writes made stale through Forget,
// ForgetUsers, ForgetAllUsers and SetTrusted (the one hook PostgreSQL's
// listener also feeds with other instances' changes), and brings what it
// reads up to date with MergeUnflushed.
type Core struct {
	db       Storage
	two      TwoStepStorage // db, seen as what two-step sign-in needs
	pk       PasskeyStorage // db, seen as what passkeys need
	now      func() time.Time
	policy   Policy
	limit    int // live sessions per user; 0: no cap
	cache    *sessionCache
	pending  LastActiveQueue
	expired  ExpiryQueue
	failures FailureQueue
}

// Storage is what the Core asks of a database.
type Storage interface {
	// SessionByHash reads the session stored under h (ErrNotFound if
	// none) and, when the database reads it in the same go, its user
	// (a zero User otherwise).
	SessionByHash(h TokenHash) (Session, User, error)
	UserByID(id string) (User, error)
	AccountByID(id string) (Account, error)
	// SessionsNotRevoked is userID's sessions that are not revoked, as
	// stored: some may have expired.
	SessionsNotRevoked(userID string) ([]Session, error)
	// EventsVersion is a number that moves on whenever userID's security
	// activity changes.
	EventsVersion(userID string) (uint64, error)
	// PartnerDirectory is partnerID's clients and their users, with live
	// session counts, sorted (Directory.Sort); empty for "".
	PartnerDirectory(partnerID string) (*Directory, error)
	// PartnerUser is a user of one of partnerID's clients, with the
	// client account, or ErrNotFound.
	PartnerUser(partnerID, userID string) (User, Account, error)
	// UpdateUser makes ch to userID in one transaction and says how many
	// sessions it revoked.
	UpdateUser(userID string, ch UserChange) (revoked int, err error)
	// CreateUsers adds users, and CreateSessions starts sessions, in one
	// transaction each: all or none.
	CreateUsers(in []NewUser) ([]User, error)
	// A sign-in WithPasskey also writes that passkey's use, or instead
	// only its refusal, commits that, and answers ErrSignCountBack.
	CreateSessions(batch []SessionFor) ([]Session, []string, error)
	// SweepEnded deletes sessions that ended more than retention ago, at
	// most batch in each short transaction, stopping between them when
	// ctx is done, and records expiries nothing recorded yet.
	SweepEnded(ctx context.Context, retention time.Duration, batch int) (int, error)
	// WriteFlush writes one flush in one transaction and reports how many
	// sessions it updated. It never writes a session revoked or deleted
	// meanwhile; an expiry is recorded only if the session, with
	// MergeUnflushed, has expired and nothing recorded its end.
	WriteFlush(f Flush) (int, error)
	TwoStepStorage
	PasskeyStorage
}

// CoreOptions configure NewCore.
type CoreOptions struct {
	Policy             Policy
	MaxSessionsPerUser int
	CacheSize          int              // sessions, and users, kept; at least 1
	Now                func() time.Time // nil: time.Now
	// Untrusted starts the cache keeping nothing until SetTrusted(true):
	// for a database whose changes by others are heard only once a
	// listener is up.
	Untrusted bool
}

// NewCore returns the Core of a database.
func NewCore(db Storage, o CoreOptions) *Core {
	if o.Now == nil {
		o.Now = time.Now
	}
	c := &Core{db: db, two: db, pk: db, now: o.Now, policy: o.Policy, limit: o.MaxSessionsPerUser, cache: newSessionCache(max(o.CacheSize, 1))}
	c.cache.trusted = !o.Untrusted
	return c
}

// Policy is the session policy the store enforces.
func (c *Core) Policy() Policy { return c.policy }

// SessionLimit is how many live sessions a user may have (0: no cap), for
// pages that say when a new sign-in will end an old one.
func (c *Core) SessionLimit() int { return c.limit }

// Forget drops the sessions under hashes from the cache: a database calls
// it after a commit that revoked, changed or deleted them, here or (heard
// by a listener) elsewhere.
func (c *Core) Forget(hashes ...TokenHash) { c.cache.forget(hashes...) }

// ForgetUsers drops what is kept of users (sessions list, activity
// version) after a change to their sessions or their log.
func (c *Core) ForgetUsers(ids ...string) { c.cache.forgetUsers(ids...) }

// ForgetAllUsers drops what is kept of every user.
func (c *Core) ForgetAllUsers() { c.cache.forgetAllUsers() }

// SetTrusted empties the cache and says whether it may keep anything from
// now on: false while a change made elsewhere could go unheard.
func (c *Core) SetTrusted(t bool) { c.cache.setTrusted(t) }

// MergeUnflushed brings x, as read from the database, up to date with the
// last-active time, network and browser requests saw and no flush has
// written yet (x.Hash names it).
func (c *Core) MergeUnflushed(x *Session) {
	e := c.cache.peek(x.Hash)
	if e == nil {
		e = c.pending.Get(x.Hash)
	}
	if e != nil {
		e.MergeInto(x)
	}
}

// ListUserSessions returns the user's live sessions, most recently active
// first.
func (c *Core) ListUserSessions(userID string) ([]Session, error) {
	now := c.now()
	// Revoked sessions never come back, so only the others are kept: a
	// user with 100 signed-out sessions costs each view their live few.
	// (One that looks expired may not be: its last activity may be here.)
	all, err := userValue(c.cache, c.cache.lists, userID, func() ([]Session, error) {
		return c.db.SessionsNotRevoked(userID)
	})
	if err != nil {
		return nil, err
	}
	live := make([]Session, 0, len(all))
	for _, x := range all {
		c.MergeUnflushed(&x)
		if ended, _ := x.Ended(now, c.policy); !ended {
			live = append(live, x)
		}
	}
	sort.SliceStable(live, func(i, j int) bool { return live[i].LastActive.After(live[j].LastActive) })
	return live, nil
}

// KeptSessions fills out with the sessions of ids (up to date) from
// userID's kept list and reports whether it holds every one of them; if
// not, out is left empty and the database must be read.
func (c *Core) KeptSessions(userID string, ids []string, out map[string]Session) bool {
	list, ok := c.cache.list(userID)
	if !ok {
		return false
	}
	for _, id := range ids {
		i := indexOf(list, id)
		if i < 0 {
			clear(out)
			return false
		}
		x := list[i]
		c.MergeUnflushed(&x)
		out[id] = x
	}
	return true
}

func indexOf(list []Session, id string) int {
	for i := range list {
		if list[i].ID == id {
			return i
		}
	}
	return -1
}

// AccountOf is u's account, kept with u's other per-user state: pages
// read it on every view (the partner that manages the user names its
// people in the user's activity), and a change to an account drops it
// for the account's users (ForgetUsers) on every instance.
func (c *Core) AccountOf(u User) (Account, error) {
	return userValue(c.cache, c.cache.accounts, u.ID, func() (Account, error) {
		return c.db.AccountByID(u.AccountID)
	})
}

// UserEventsVersion is a number that changes whenever userID's security
// activity does, so that what is shown of it can be kept until then. It
// does not cover the sessions events name.
func (c *Core) UserEventsVersion(userID string) (uint64, error) {
	return userValue(c.cache, c.cache.versions, userID, func() (uint64, error) {
		return c.db.EventsVersion(userID)
	})
}

// Cached reports whether the session under h is in the cache: for tests
// that must know a session was cached before they revoke it elsewhere.
func (c *Core) Cached(h TokenHash) bool { return c.cache.peek(h) != nil }

// KeepsUser reports whether userID's sessions list and activity version
// are kept: for tests of what drops them.
func (c *Core) KeepsUser(userID string) (list, version bool) {
	c.cache.mu.RLock()
	defer c.cache.mu.RUnlock()
	_, list = c.cache.lists[userID]
	_, version = c.cache.versions[userID]
	return list, version
}

// InFlight is the cached entry for the session under h as a request that
// validated it holds it, and Queue queues such an entry for the next
// flush as that request's touch would: for tests of what a revoke does to
// requests already past validation.
func (c *Core) InFlight(h TokenHash) *Tracked { return c.cache.peek(h) }

// Queue: see InFlight.
func (c *Core) Queue(h TokenHash, e *Tracked) { c.pending.Add(h, e) }
