package bolt

import (
	"bytes"
	"sync"
	"time"

	"portal/store"
)

// WebAuthn ceremonies between their begin and finish are kept in memory,
// not in the file: a bbolt file is only ever opened by one process, so
// the process that began a ceremony is the one that finishes it, and a
// flood of sign-in page loads (each begins one) must not become a flood of
// disk writes. A restart forgets them; whoever was half way through starts
// again.

// maxCeremonies bounds the ceremonies kept: when full, expired ones go
// first, then the oldest.
const maxCeremonies = 20000

// ceremonies is the store's ceremonies: safe for concurrent use.
type ceremonies struct {
	mu    sync.Mutex
	byKey map[store.TokenHash]ceremony
	// queue is the keys in the order they were put, oldest first. Taken
	// (or replaced) entries stay in it until they reach the front or it
	// is compacted: seq tells a stale place from the live one.
	queue []queued
	seq   uint64
}

type ceremony struct {
	data    []byte
	expires time.Time
	seq     uint64
}

type queued struct {
	key store.TokenHash
	seq uint64
}

// live reports whether q names the entry kept under its key.
func (c *ceremonies) live(q queued) bool {
	e, ok := c.byKey[q.key]
	return ok && e.seq == q.seq
}

func (c *ceremonies) put(key store.TokenHash, data []byte, expires, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byKey == nil {
		c.byKey = make(map[store.TokenHash]ceremony)
	}
	// Every ceremony lives CeremonyLifetime, so the queue's front is also
	// the first to expire: dropping from there drops the expired ones,
	// then, if it is still full, the oldest.
	for len(c.queue) > 0 {
		q := c.queue[0]
		if c.live(q) {
			if len(c.byKey) < maxCeremonies && c.byKey[q.key].expires.After(now) {
				break
			}
			delete(c.byKey, q.key)
		}
		c.queue = c.queue[1:]
	}
	c.seq++
	c.byKey[key] = ceremony{data: bytes.Clone(data), expires: expires, seq: c.seq}
	c.queue = append(c.queue, queued{key, c.seq})
	if len(c.queue) > 2*len(c.byKey)+64 { // mostly taken ones: compact
		fresh := make([]queued, 0, len(c.byKey))
		for _, q := range c.queue {
			if c.live(q) {
				fresh = append(fresh, q)
			}
		}
		c.queue = fresh
	}
}

func (c *ceremonies) take(key store.TokenHash, now time.Time) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byKey[key]
	if !ok {
		return nil, false
	}
	delete(c.byKey, key) // expired or not, it is of no more use
	return e.data, e.expires.After(now)
}

// PutCeremony keeps data under key until expires (store.PasskeyStorage),
// in memory.
func (s *Store) PutCeremony(key store.TokenHash, data []byte, expires time.Time) error {
	s.ceremonies.put(key, data, expires, s.now())
	return nil
}

// TakeCeremony removes and returns what key holds if it has not expired
// at now (store.PasskeyStorage).
func (s *Store) TakeCeremony(key store.TokenHash, now time.Time) ([]byte, error) {
	data, ok := s.ceremonies.take(key, now)
	if !ok {
		return nil, store.ErrNotFound
	}
	return data, nil
}
