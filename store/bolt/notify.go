package bolt

import (
	"sync"

	bbolt "go.etcd.io/bbolt"

	"portal/store"
)

// notifications collects the changes of committed transactions until the
// writer that committed them has invalidated the caches and publishes
// them. A writer may publish another's changes along with its own; that
// is safe since every cache invalidation covers all earlier commits.
type notifications struct {
	mu      sync.Mutex
	pending []store.Change
}

// notify queues ch to be published once tx commits, and drops the session
// with hash h (if any) from the cache at the same moment, before anyone
// hears of the change.
func (s *Store) notify(tx *bbolt.Tx, h store.TokenHash, ch store.Change) {
	tx.OnCommit(func() {
		if h != (store.TokenHash{}) {
			s.Forget(h)
		}
		if s.opts.Notifier == nil {
			return
		}
		s.changes.mu.Lock()
		s.changes.pending = append(s.changes.pending, ch)
		s.changes.mu.Unlock()
	})
}

// publish hands the queued changes to the Notifier. update calls it after
// every write, once the caches are invalidated.
func (s *Store) publish() {
	if s.opts.Notifier == nil {
		return
	}
	s.changes.mu.Lock()
	batch := s.changes.pending
	s.changes.pending = nil
	s.changes.mu.Unlock()
	if len(batch) > 0 {
		s.opts.Notifier.Publish(batch)
	}
}
