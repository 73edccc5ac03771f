package store

import (
	"slices"
	"sync"
	"sync/atomic"
)

// listCache keeps each user's decoded session records between writes, so
// showing the list is not a read transaction plus a JSON decode per record
// on every page view. Every committed write transaction bumps a generation
// counter and so makes every entry stale. Readers take the generation
// before they read the database, so a copy read before a commit is never
// served after it. Entries are shared and never modified: callers copy.
type listCache struct {
	gen     atomic.Uint64
	mu      sync.Mutex
	entries map[string]listEntry
	limit   int
}

type listEntry struct {
	gen      uint64
	sessions []Session
}

func newListCache(limit int) *listCache {
	return &listCache{entries: make(map[string]listEntry), limit: limit}
}

func (c *listCache) generation() uint64 { return c.gen.Load() }

// invalidate is called after every write transaction.
func (c *listCache) invalidate() { c.gen.Add(1) }

func (c *listCache) get(userID string, gen uint64) ([]Session, bool) {
	c.mu.Lock()
	e, ok := c.entries[userID]
	c.mu.Unlock()
	return e.sessions, ok && e.gen == gen
}

func (c *listCache) put(userID string, gen uint64, sessions []Session) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[userID]; !ok && len(c.entries) >= c.limit {
		for k := range c.entries { // evict any one
			delete(c.entries, k)
			break
		}
	}
	c.entries[userID] = listEntry{gen: gen, sessions: sessions}
}

// find copies the sessions of ids into out from userID's current entry
// and reports whether every one of them was there.
func (c *listCache) find(userID string, ids []string, out map[string]Session) bool {
	list, ok := c.get(userID, c.generation())
	if !ok {
		return false
	}
	for _, id := range ids {
		i := slices.IndexFunc(list, func(x Session) bool { return x.ID == id })
		if i < 0 {
			return false
		}
		out[id] = list[i]
	}
	return true
}
