package store

import (
	"cmp"
	"encoding/binary"
	"encoding/json"
	"maps"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"portal/geo"
)

// What validations and failed sign-ins learn is written with the next
// activity flush rather than at once: a request must never wait for a
// commit to record it, and a failed sign-in must take the same time and
// say the same thing whether or not it is recorded.

// maxQueued bounds each queue; past it, expiries wait for the sweeper
// and further failure groups are not recorded until the next flush.
const maxQueued = 10_000

// failureGroup is failed (or throttled) sign-ins for one user from one
// network in one failureWindow.
type failureGroup struct {
	userID      string
	kind        EventKind
	place       geo.Place
	window      time.Time // start of the window
	first, last time.Time
	count       int
}

type failureKey struct {
	userID, network string
	kind            EventKind
	window          time.Time
}

// eventQueue holds what the next flush records.
type eventQueue struct {
	mu       sync.Mutex
	expired  map[TokenHash]struct{}
	failures map[failureKey]*failureGroup
}

// expire queues the session under h, which a validation found expired,
// to have its expiry recorded.
func (q *eventQueue) expire(h TokenHash) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.expired == nil {
		q.expired = make(map[TokenHash]struct{})
	}
	if len(q.expired) < maxQueued {
		q.expired[h] = struct{}{}
	}
}

func (q *eventQueue) take() (map[TokenHash]struct{}, map[failureKey]*failureGroup) {
	q.mu.Lock()
	defer q.mu.Unlock()
	e, f := q.expired, q.failures
	q.expired, q.failures = nil, nil
	return e, f
}

// putBack re-queues what a failed flush did not write.
func (q *eventQueue) putBack(expired map[TokenHash]struct{}, failures map[failureKey]*failureGroup) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for h := range expired {
		if q.expired == nil {
			q.expired = make(map[TokenHash]struct{})
		}
		q.expired[h] = struct{}{}
	}
	for k, g := range failures {
		if q.failures == nil {
			q.failures = make(map[failureKey]*failureGroup)
		}
		if cur := q.failures[k]; cur != nil {
			cur.count += g.count
			cur.first = g.first
			continue
		}
		q.failures[k] = g
	}
}

// RecordSignInFailure notes a failed sign-in for an existing user from
// place (throttled: refused before the password was checked). Attempts
// from one network in one 5-minute window become one event with a count,
// so a guesser cannot grow the log without bound. It is written with the
// next activity flush.
func (s *Store) RecordSignInFailure(userID string, place geo.Place, throttled bool) {
	now := s.now().UTC()
	kind := EventSignInFailed
	if throttled {
		kind = EventSignInThrottled
	}
	k := failureKey{userID: userID, network: place.Network, kind: kind, window: now.Truncate(failureWindow)}
	q := &s.events
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.failures == nil {
		q.failures = make(map[failureKey]*failureGroup)
	}
	g := q.failures[k]
	if g == nil {
		if len(q.failures) >= maxQueued {
			return
		}
		g = &failureGroup{userID: userID, kind: kind, place: place, window: k.window, first: now}
		q.failures[k] = g
	}
	g.count++
	g.last = now
}

// recordFailuresTx adds each group to its user's log, into the event of
// the same network and window if an earlier flush wrote one.
func recordFailuresTx(tx *bolt.Tx, groups map[failureKey]*failureGroup) error {
	// In the order they happened (failures before the refusals they led
	// to, at one instant), never the map's: the log's order must not
	// depend on chance.
	ordered := slices.SortedFunc(maps.Values(groups), func(a, b *failureGroup) int {
		return cmp.Or(a.first.Compare(b.first), a.last.Compare(b.last),
			cmp.Compare(slices.Index(EventKinds, a.kind), slices.Index(EventKinds, b.kind)),
			cmp.Compare(a.userID, b.userID), cmp.Compare(a.place.Network, b.place.Network))
	})
	for _, g := range ordered {
		if getUsersBucket(tx).Get([]byte(g.userID)) == nil {
			continue // the user is gone
		}
		if merged, err := mergeFailureTx(tx, g); err != nil || merged {
			if err != nil {
				return err
			}
			continue
		}
		e := Event{At: g.first, Kind: g.kind, Place: g.place, Count: g.count, Until: g.last}
		if err := addEventTx(tx, g.userID, e); err != nil {
			return err
		}
	}
	return nil
}

func mergeFailureTx(tx *bolt.Tx, g *failureGroup) (bool, error) {
	b := tx.Bucket(bucketEvents).Bucket([]byte(g.userID))
	if b == nil {
		return false, nil
	}
	c := b.Cursor()
	for k, v := c.Last(); k != nil && int64(binary.BigEndian.Uint64(k[:8])) >= g.window.UnixNano(); k, v = c.Prev() {
		var e Event
		if err := json.Unmarshal(v, &e); err != nil {
			return false, err
		}
		if e.Kind != g.kind || e.Place.Network != g.place.Network {
			continue
		}
		e.Count += g.count
		e.Until = g.last
		if _, err := b.NextSequence(); err != nil { // see UserEventsVersion
			return false, err
		}
		return true, put(b, k, e)
	}
	return false, nil
}
