package handlers

import "sync"

// generations is the bounded map behind every rendering cache here (the
// partial cache, the ended sessions and the kept activity views): entries
// live in two generations; when the current one is full it becomes the
// previous one and the one before is dropped, so at most twice the bound
// stays alive whatever the number of users, and an entry still in use is
// carried into the current generation on its next hit. There is no other
// eviction and no invalidation: each cache's key holds all its entry
// depends on, or its caller checks an entry before using it.
//
// It is safe for concurrent use.
type generations[K comparable, V any] struct {
	mu        sync.Mutex
	cur, prev map[K]V
	max       int
	// size weighs an entry against max (bytes of HTML, for the partial
	// cache); nil counts entries. A key put again while still current is
	// weighed again: that happens only when two requests build the same
	// entry at once, and costs no more than an early turn of generation.
	size    func(V) int
	curSize int // what size has weighed into cur
}

// newGenerations holds up to max (as size weighs, or entries if size is
// nil) in each of its two generations.
func newGenerations[K comparable, V any](max int, size func(V) int) *generations[K, V] {
	return &generations[K, V]{max: max, size: size}
}

// get is the entry under k, carried into the current generation if it was
// only in the previous one.
func (g *generations[K, V]) get(k K) (V, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	v, ok := g.cur[k]
	if !ok {
		if v, ok = g.prev[k]; ok {
			g.putLocked(k, v)
		}
	}
	return v, ok
}

// has reports whether k is held, in either generation, without carrying
// it over: asking is not using.
func (g *generations[K, V]) has(k K) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.cur[k]; ok {
		return true
	}
	_, ok := g.prev[k]
	return ok
}

// put keeps v under k in the current generation.
func (g *generations[K, V]) put(k K, v V) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.putLocked(k, v)
}

// putLocked is put with g.mu held. The generation turns when v would
// take the current one past max, unless it is empty (so one entry larger
// than max is still kept).
func (g *generations[K, V]) putLocked(k K, v V) {
	n, held := 1, len(g.cur)
	if g.size != nil {
		n, held = g.size(v), g.curSize
	}
	if g.cur == nil || (held+n > g.max && len(g.cur) > 0) {
		g.prev, g.cur, g.curSize = g.cur, make(map[K]V, len(g.cur)), 0
	}
	g.cur[k] = v
	g.curSize += n
}
