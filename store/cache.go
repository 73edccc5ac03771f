package store

import "sync"

// sessionCache keeps sessions that validated recently, so a request costs
// a map lookup instead of a read. It holds only what was in the database:
// every revoke removes its entries (Core.Forget) once it committed, and a
// generation counter stops a read that raced with a revoke from putting a
// stale live copy back. While it is not trusted (a database whose other
// writers cannot be heard just now) it keeps nothing, and every request
// reads through.
//
// It also keeps, per user, what the Active Sessions page reads on every
// view: the sessions not revoked (as read, before unflushed use is
// merged in) and the activity version, dropped by ForgetUsers.
type sessionCache struct {
	mu       sync.RWMutex
	entries  map[TokenHash]*Tracked
	lists    map[string][]Session // by user id
	versions map[string]uint64    // by user id
	accounts map[string]Account   // the user's account, by user id
	gen      uint64               // bumped under mu by every forget
	trusted  bool
	limit    int
}

func newSessionCache(limit int) *sessionCache {
	return &sessionCache{entries: make(map[TokenHash]*Tracked),
		lists: make(map[string][]Session), versions: make(map[string]uint64), accounts: make(map[string]Account), limit: limit}
}

func (c *sessionCache) peek(h TokenHash) *Tracked {
	c.mu.RLock()
	e := c.entries[h]
	c.mu.RUnlock()
	return e
}

// load returns the cached entry for h, reading it with fetch on a miss.
// Ended sessions are returned but not kept, and nothing is kept while the
// cache is not trusted or when a forget raced with the read (which may
// then predate a revoke).
func (c *sessionCache) load(h TokenHash, fetch func() (*Tracked, error)) (*Tracked, error) {
	if e := c.peek(h); e != nil {
		return e, nil
	}
	for attempt := 0; ; attempt++ {
		c.mu.RLock()
		gen := c.gen
		c.mu.RUnlock()
		e, err := fetch()
		if err != nil {
			return nil, err
		}
		if !e.sess.EndedAt.IsZero() {
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
			evictOne(c.entries, c.limit) // what it saw stays queued
			c.entries[h] = e
		}
		c.mu.Unlock()
		return e, nil
	}
}

// evictOne makes room for one more entry in m, which holds at most limit.
func evictOne[K comparable, V any](m map[K]V, limit int) {
	if len(m) < limit {
		return
	}
	for k := range m { // any one
		delete(m, k)
		return
	}
}

func (c *sessionCache) forget(hashes ...TokenHash) {
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

// setTrusted empties the cache both ways: anything a missed change could
// have made stale goes.
func (c *sessionCache) setTrusted(t bool) {
	c.mu.Lock()
	clear(c.entries)
	clear(c.lists)
	clear(c.versions)
	clear(c.accounts)
	c.gen++
	c.trusted = t
	c.mu.Unlock()
}

func (c *sessionCache) forgetUsers(ids ...string) {
	if len(ids) == 0 {
		return
	}
	c.mu.Lock()
	for _, id := range ids {
		delete(c.lists, id)
		delete(c.versions, id)
		delete(c.accounts, id)
	}
	c.gen++
	c.mu.Unlock()
}

func (c *sessionCache) forgetAllUsers() {
	c.mu.Lock()
	clear(c.lists)
	clear(c.versions)
	clear(c.accounts)
	c.gen++
	c.mu.Unlock()
}

// list is userID's kept list, if kept. It is shared: copy before changing.
func (c *sessionCache) list(userID string) ([]Session, bool) {
	c.mu.RLock()
	l, ok := c.lists[userID]
	c.mu.RUnlock()
	return l, ok
}

// userValue returns m[id] (m is c.lists or c.versions), reading it with
// fetch on a miss. What fetch read is kept only while the cache is
// trusted and if no forget ran meanwhile (it may predate the change that
// forget was for). Values are shared: callers copy before changing.
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
		evictOne(m, c.limit)
		m[id] = v
	}
	c.mu.Unlock()
	return v, nil
}
