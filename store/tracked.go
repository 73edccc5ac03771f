package store

import (
	"sync"
	"sync/atomic"
	"time"

	"portal/geo"
)

// Tracked is a session as it was loaded plus what requests have seen of
// it since (its last-active time, network and browser), kept in memory
// until the next last-active flush writes them: a request touches memory
// only. Both stores' session caches and last-active queues hold Tracked
// sessions. It is safe for concurrent use.
type Tracked struct {
	sess       Session // as loaded; never changed after
	lastActive atomic.Int64
	place      atomic.Pointer[geo.Place]
	agent      atomic.Pointer[Agent]
	user       atomic.Pointer[User] // filled by the first Authenticate
	dirty      atomic.Bool
}

// NewTracked tracks s as loaded.
func NewTracked(s Session) *Tracked {
	e := &Tracked{sess: s}
	e.lastActive.Store(s.LastActive.UnixNano())
	return e
}

// UserID is the session's user.
func (e *Tracked) UserID() string { return e.sess.UserID }

// Snapshot is the session with what was seen since it was loaded.
func (e *Tracked) Snapshot() Session {
	s := e.sess
	s.LastActive = time.Unix(0, e.lastActive.Load()).UTC()
	if p := e.place.Load(); p != nil {
		s.LastPlace = *p
	}
	if a := e.agent.Load(); a != nil {
		s.UserAgent, s.Device = a.UserAgent, a.Device
	}
	return s
}

// Touch moves last-active forward to now and reports whether the session
// just became dirty (so the caller queues it for the next flush).
func (e *Tracked) Touch(now time.Time) bool {
	n := now.UnixNano()
	for {
		old := e.lastActive.Load()
		if n <= old || e.lastActive.CompareAndSwap(old, n) {
			break
		}
	}
	return !e.dirty.Load() && e.dirty.CompareAndSwap(false, true)
}

// SeenFrom notes that the session was just used from place; the caller
// queues it for the next flush.
func (e *Tracked) SeenFrom(place geo.Place) {
	e.place.Store(&place)
	e.dirty.Store(true)
}

// SeenWith notes that the session now sends another user agent; the
// caller queues it for the next flush.
func (e *Tracked) SeenWith(a Agent) {
	e.agent.Store(&a)
	e.dirty.Store(true)
}

// User is the session's user as the first Authenticate read it.
func (e *Tracked) User() (User, bool) {
	if u := e.user.Load(); u != nil {
		return *u, true
	}
	return User{}, false
}

// SetUser keeps the session's user for the next Authenticate.
func (e *Tracked) SetUser(u User) { e.user.Store(&u) }

// Flushing says a flush is writing what was seen: a touch after this
// queues the session again.
func (e *Tracked) Flushing() { e.dirty.Store(false) }

// Seen is what requests saw: the last-active time, and the network and
// browser if they changed (nil if not).
func (e *Tracked) Seen() (lastActive time.Time, place *geo.Place, agent *Agent) {
	return time.Unix(0, e.lastActive.Load()).UTC(), e.place.Load(), e.agent.Load()
}

// MergeInto brings x, the same session as read from the database, up to
// date with what was seen and not yet flushed: a later last-active time,
// and the network and browser of a session that is not revoked.
func (e *Tracked) MergeInto(x *Session) {
	la, place, agent := e.Seen()
	if la.After(x.LastActive) {
		x.LastActive = la
	}
	if place != nil && x.EndedAt.IsZero() {
		x.LastPlace = *place
	}
	if agent != nil && x.EndedAt.IsZero() {
		x.UserAgent, x.Device = agent.UserAgent, agent.Device
	}
}

// LastActiveQueue holds the sessions whose last-active time, network or
// browser changed since the last flush, which writes them all in one
// transaction. A crash loses at most one flush interval of last-active
// times, never a revoke. The zero value is ready to use.
type LastActiveQueue struct {
	mu      sync.Mutex
	pending map[TokenHash]*Tracked
}

// Add queues e, the session under h.
func (a *LastActiveQueue) Add(h TokenHash, e *Tracked) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.pending == nil {
		a.pending = make(map[TokenHash]*Tracked)
	}
	if old := a.pending[h]; old != nil && old != e {
		// The session was loaded again as e (evicted from the cache, or
		// read through while the cache was not trusted). The flush writes
		// only what the queued entry holds, so e takes over what old saw
		// and e has not (e's own are newer).
		e.place.CompareAndSwap(nil, old.place.Load())
		e.agent.CompareAndSwap(nil, old.agent.Load())
	}
	a.pending[h] = e
}

// Get is the queued session under h, or nil.
func (a *LastActiveQueue) Get(h TokenHash) *Tracked {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.pending[h]
}

// Take empties the queue and returns what it held.
func (a *LastActiveQueue) Take() map[TokenHash]*Tracked {
	a.mu.Lock()
	defer a.mu.Unlock()
	p := a.pending
	a.pending = make(map[TokenHash]*Tracked, len(p))
	return p
}

// PutBack re-queues what a failed flush did not write, keeping any
// session queued again since.
func (a *LastActiveQueue) PutBack(p map[TokenHash]*Tracked) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.pending == nil {
		a.pending = make(map[TokenHash]*Tracked)
	}
	for h, e := range p {
		if _, ok := a.pending[h]; !ok {
			a.pending[h] = e
		}
	}
}

// Len is how many sessions wait for the next flush.
func (a *LastActiveQueue) Len() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.pending)
}
