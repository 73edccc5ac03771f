package store

import (
	"sync"
)

// sessionCache keeps sessions that have validated recently, so the hot path
// is a map lookup instead of a read transaction and a JSON decode. It holds
// only what was in the database; every revoke removes its entries in the
// same call that committed it, and a generation counter stops a load that
// raced with a revoke from putting a stale live copy back.
type sessionCache struct {
	mu      sync.RWMutex
	entries map[TokenHash]*Tracked
	gen     uint64 // bumped under mu by every forget
	limit   int
}

func newSessionCache(limit int) *sessionCache {
	return &sessionCache{entries: make(map[TokenHash]*Tracked), limit: limit}
}

func (c *sessionCache) peek(h TokenHash) *Tracked {
	c.mu.RLock()
	e := c.entries[h]
	c.mu.RUnlock()
	return e
}

// load returns the cached entry for h, reading it with fetch on a miss.
// Ended sessions are returned but not kept.
func (c *sessionCache) load(h TokenHash, fetch func() (Session, error)) (*Tracked, error) {
	if e := c.peek(h); e != nil {
		return e, nil
	}
	for attempt := 0; ; attempt++ {
		c.mu.RLock()
		gen := c.gen
		c.mu.RUnlock()
		sess, err := fetch()
		if err != nil {
			return nil, err
		}
		e := NewTracked(sess)
		if !sess.RevokedAt.IsZero() {
			return e, nil
		}
		c.mu.Lock()
		if c.gen != gen && attempt < 3 {
			// A revoke committed while we read, so our copy may predate
			// it: read again rather than cache a stale live session.
			c.mu.Unlock()
			continue
		}
		if old := c.entries[h]; old != nil {
			c.mu.Unlock()
			return old, nil
		}
		if c.gen == gen {
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

// forget drops entries after their sessions were revoked or deleted.
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
