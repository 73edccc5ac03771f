package postgres

import (
	"sync"

	"portal/store"
)

// sessionCache keeps sessions that validated recently, so a request costs
// a map lookup rather than a query, as in the bbolt store (store/cache.go).
// With several instances on one database a revoke may come from another
// process, so the cache is trusted only while the listener hears every
// revocation (listen.go): while it is down the cache is empty and keeps
// nothing, and every validation reads through to PostgreSQL.
//
// It also keeps, per user, what the Active Sessions page reads on every
// view: the sessions not revoked (as read, before this instance's
// activity is merged in) and the activity version. Every transaction
// that changes them names the user (effects.users), and every instance
// drops the user's entries when it commits, as for a session's.
type sessionCache struct {
	mu       sync.RWMutex
	entries  map[store.TokenHash]*store.Tracked
	lists    map[string][]sessionRow // by user id
	versions map[string]uint64       // by user id
	gen      uint64                  // bumped under mu by every forget
	trusted  bool                    // the listener is up: entries may be kept
	limit    int
}

func newSessionCache(limit int) *sessionCache {
	return &sessionCache{entries: make(map[store.TokenHash]*store.Tracked),
		lists: make(map[string][]sessionRow), versions: make(map[string]uint64), limit: limit}
}

// newTracked tracks the session r, with its user if r has it.
func newTracked(r sessionRow) *store.Tracked {
	e := store.NewTracked(r.Session)
	if r.user.ID != "" {
		e.SetUser(r.user)
	}
	return e
}

func (c *sessionCache) peek(h store.TokenHash) *store.Tracked {
	c.mu.RLock()
	e := c.entries[h]
	c.mu.RUnlock()
	return e
}

// load returns the cached entry for h, reading it with fetch on a miss.
// Ended sessions are returned but not kept, and nothing is kept while the
// cache is not trusted or when a forget raced with the read (which may
// then predate a revoke).
func (c *sessionCache) load(h store.TokenHash, fetch func() (sessionRow, error)) (*store.Tracked, error) {
	if e := c.peek(h); e != nil {
		return e, nil
	}
	for attempt := 0; ; attempt++ {
		c.mu.RLock()
		gen := c.gen
		c.mu.RUnlock()
		r, err := fetch()
		if err != nil {
			return nil, err
		}
		e := newTracked(r)
		if !r.RevokedAt.IsZero() {
			return e, nil
		}
		c.mu.Lock()
		if c.gen != gen && attempt < 3 {
			c.mu.Unlock()
			continue // a revoke committed while we read: read again
		}
		if old := c.entries[h]; old != nil {
			c.mu.Unlock()
			return old, nil
		}
		if c.gen == gen && c.trusted {
			if len(c.entries) >= c.limit {
				for k := range c.entries { // evict any one; its pending activity stays queued
					delete(c.entries, k)
					break
				}
			}
			c.entries[h] = e
		}
		c.mu.Unlock()
		return e, nil
	}
}

// forget drops entries after their sessions were revoked, changed or
// deleted, here or by another instance.
func (c *sessionCache) forget(hashes ...store.TokenHash) {
	if len(hashes) == 0 {
		return
	}
	c.mu.Lock()
	for _, h := range hashes {
		delete(c.entries, h)
	}
	c.gen++
	c.mu.Unlock()
}

// setTrusted empties the cache and says whether it may keep entries from
// now on: false when the listener went down (a revoke may go unheard),
// true once it listens again. Emptying it both times drops anything a
// revocation missed meanwhile could have made stale.
func (c *sessionCache) setTrusted(t bool) {
	c.mu.Lock()
	clear(c.entries)
	clear(c.lists)
	clear(c.versions)
	c.gen++
	c.trusted = t
	c.mu.Unlock()
}

// forgetUsers drops what is kept of users after a change to their
// sessions or their log, here or by another instance.
func (c *sessionCache) forgetUsers(ids ...string) {
	if len(ids) == 0 {
		return
	}
	c.mu.Lock()
	for _, id := range ids {
		delete(c.lists, id)
		delete(c.versions, id)
	}
	c.gen++
	c.mu.Unlock()
}

// forgetAllUsers drops what is kept of every user: after an import that
// replaced the data.
func (c *sessionCache) forgetAllUsers() {
	c.mu.Lock()
	clear(c.lists)
	clear(c.versions)
	c.gen++
	c.mu.Unlock()
}

// userValue returns m[id] (m is c.lists or c.versions), reading it with
// fetch on a miss. What fetch read is kept only while the cache is
// trusted and if no forget ran meanwhile (it may predate the change
// that forget was for). Values are shared: callers copy before changing.
func userValue[T any](c *sessionCache, m map[string]T, id string, fetch func() (T, error)) (T, error) {
	c.mu.RLock()
	v, ok := m[id]
	gen := c.gen
	c.mu.RUnlock()
	if ok {
		return v, nil
	}
	v, err := fetch()
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	if c.gen == gen && c.trusted {
		if len(m) >= c.limit {
			for k := range m { // evict any one
				delete(m, k)
				break
			}
		}
		m[id] = v
	}
	c.mu.Unlock()
	return v, nil
}
