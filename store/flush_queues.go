package store

import (
	"cmp"
	"maps"
	"slices"
	"sync"
	"time"

	"portal/geo"
)

// What validations and failed sign-ins learn is written with the next
// last-active flush rather than at once: a request must never wait for a
// commit to record it, and a failed sign-in must take the same time and
// say the same thing whether or not it is recorded. Both stores queue it
// here.

// ExpiryQueue holds sessions a validation found expired, to have their
// expiry recorded, dated when it happened, by the next flush. The zero
// value is ready to use.
type ExpiryQueue struct {
	mu sync.Mutex
	m  map[TokenHash]struct{}
}

// Add queues the sessions under hs; past maxQueued they wait for the
// sweeper instead.
func (q *ExpiryQueue) Add(hs ...TokenHash) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.m == nil {
		q.m = make(map[TokenHash]struct{})
	}
	for _, h := range hs {
		if len(q.m) < maxQueued {
			q.m[h] = struct{}{}
		}
	}
}

// Take empties the queue and returns what it held.
func (q *ExpiryQueue) Take() []TokenHash {
	q.mu.Lock()
	m := q.m
	q.m = nil
	q.mu.Unlock()
	return slices.Collect(maps.Keys(m))
}

// FailureGroup is failed (or throttled) sign-ins of one user from one
// network in one 5-minute window, as a flush records them: one event with
// a count, so a guesser cannot grow the log without bound.
type FailureGroup struct {
	UserID      string
	Kind        EventKind // EventSignInFailed or EventSignInThrottled
	Place       geo.Place
	Window      time.Time // start of the window
	First, Last time.Time
	Count       int
	// Networks, if set, says the group is attempts from that many
	// networks, folded together past MaxFailureNetworks (Place unset).
	Networks int
}

// Event is g as the event a flush adds to the user's log.
func (g *FailureGroup) Event() Event {
	return Event{At: g.First, Kind: g.Kind, Place: g.Place, Count: g.Count, Until: g.Last, Networks: g.Networks}
}

// Merge adds g to e, the event of the same user, kind and window that
// PlaceFailure chose for it.
func (g *FailureGroup) Merge(e *Event) {
	e.Count += g.Count
	e.Until = g.Last
	if e.Networks > 0 {
		e.Networks += max(g.Networks, 1)
	}
}

// fold makes g a group of the networks beyond MaxFailureNetworks.
func (g *FailureGroup) fold() {
	g.Networks, g.Place = max(g.Networks, 1), geo.Place{}
}

// PlaceFailure says where g goes in its user's log, given the events of
// its user, kind and window already there (window, in any order): the
// index of the event to merge it into, or -1 to add g.Event(). A window
// holds at most MaxFailureNetworks events of one network each; attempts
// from further networks are folded into one event for all of them, so a
// flood from a thousand networks is one entry, not a thousand. Both
// databases follow it.
func PlaceFailure(window []Event, g *FailureGroup) int {
	folded, single := -1, 0
	for i, e := range window {
		switch {
		case e.Networks > 0:
			folded = i
		case g.Networks == 0 && e.Place.Network == g.Place.Network:
			return i
		default:
			single++
		}
	}
	if g.Networks == 0 && single < MaxFailureNetworks {
		return -1
	}
	g.fold()
	return folded
}

type failureKey struct {
	userID, network string
	kind            EventKind
	window          time.Time
}

func (g *FailureGroup) key() failureKey {
	network := g.Place.Network
	if g.Networks > 0 {
		network = foldedNetwork
	}
	return failureKey{userID: g.UserID, network: network, kind: g.Kind, window: g.Window}
}

// foldedNetwork keys the queue's one group of networks past
// MaxFailureNetworks (no real network is written so).
const foldedNetwork = "*"

// FailureQueue holds failed sign-ins, grouped, until the next last-active
// flush records them. Like the log, it keeps at most MaxFailureNetworks
// groups of one network each per user, kind and window, and one group for
// the networks past them. The zero value is ready to use.
type FailureQueue struct {
	mu       sync.Mutex
	m        map[failureKey]*FailureGroup
	networks map[failureKey]int  // single-network groups per user, kind and window (network "")
	folded   map[failureKey]bool // the networks a folded group counts, so none counts twice
}

// maxQueued bounds each queue of what the next flush records; past it,
// expiries wait for the sweeper and further failure groups are not
// recorded until the next flush.
const maxQueued = 10_000

// add notes a failed attempt of kind (EventKind.Failure) by userID from
// place at now.
func (q *FailureQueue) add(userID string, place geo.Place, kind EventKind, now time.Time) {
	k := failureKey{userID: userID, network: place.Network, kind: kind, window: now.Truncate(FailureWindow)}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.m == nil {
		q.m = make(map[failureKey]*FailureGroup)
		q.networks = make(map[failureKey]int)
		q.folded = make(map[failureKey]bool)
	}
	g := q.m[k]
	if g == nil {
		perUser := failureKey{userID: userID, kind: kind, window: k.window}
		if q.networks[perUser] >= MaxFailureNetworks {
			seen := q.folded[k]
			if !seen && len(q.folded) < maxQueued {
				q.folded[k] = true
			}
			k.network = foldedNetwork
			if g = q.m[k]; g != nil && !seen {
				g.Networks++
			}
		}
		if g == nil {
			if len(q.m) >= maxQueued {
				return
			}
			g = &FailureGroup{UserID: userID, Kind: kind, Place: place, Window: k.window, First: now}
			if k.network == foldedNetwork {
				g.fold()
			} else {
				q.networks[perUser]++
			}
			q.m[k] = g
		}
	}
	g.Count++
	g.Last = now
}

// Take empties the queue and returns its groups in the order they
// happened (failures before the refusals they led to, at one instant),
// never a map's: the log's order must not depend on chance.
func (q *FailureQueue) Take() []*FailureGroup {
	q.mu.Lock()
	m := q.m
	q.m, q.networks, q.folded = nil, nil, nil
	q.mu.Unlock()
	return slices.SortedFunc(maps.Values(m), func(a, b *FailureGroup) int {
		return cmp.Or(a.First.Compare(b.First), a.Last.Compare(b.Last),
			cmp.Compare(slices.Index(EventKinds, a.Kind), slices.Index(EventKinds, b.Kind)),
			cmp.Compare(a.UserID, b.UserID), cmp.Compare(a.Place.Network, b.Place.Network))
	})
}

// PutBack re-queues the groups a failed flush did not write, merged with
// any queued since.
func (q *FailureQueue) PutBack(groups []*FailureGroup) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, g := range groups {
		if q.m == nil {
			q.m = make(map[failureKey]*FailureGroup)
			q.networks = make(map[failureKey]int)
			q.folded = make(map[failureKey]bool)
		}
		k := g.key()
		if cur := q.m[k]; cur != nil {
			cur.Count += g.Count
			cur.First = g.First
			cur.Networks += g.Networks
			continue
		}
		q.m[k] = g
		if g.Networks == 0 {
			q.networks[failureKey{userID: g.UserID, kind: g.Kind, window: g.Window}]++
		}
	}
}
