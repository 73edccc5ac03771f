// Package live routes committed changes to sessions to the open pages
// that show them. The store publishes each change once it is committed
// (store.Notifier); the hub hands it to every stream that shows the
// user's sessions, where a handler turns it into server-sent events.
//
// The hub is in-process. Deployments with several instances back the same
// interface with their database's notifications, so a change committed on
// one instance reaches streams on all of them.
package live

import (
	"errors"
	"sync"

	"portal/store"
)

// Options bounds the streams one hub serves.
type Options struct {
	// MaxPerUser is how many streams one user may have open at once (one
	// per browser with its tabs sharing it; more for people with several
	// browsers). Opening one more closes that user's oldest.
	MaxPerUser int
	// MaxTotal is how many streams the hub serves at once; beyond it Open
	// refuses with ErrFull.
	MaxTotal int
}

// Defaults for Options' zero values.
const (
	DefaultMaxPerUser = 10
	DefaultMaxTotal   = 20000
)

// maxPending bounds the changes queued for one stream between wake-ups;
// past it the stream is told to re-read everything instead.
const maxPending = 64

var (
	// ErrFull means the hub already serves MaxTotal streams.
	ErrFull = errors.New("live: too many open streams")
	// ErrClosed means the hub is shutting down.
	ErrClosed = errors.New("live: shutting down")
)

// Hub is the set of open streams, indexed by the users whose sessions
// they show. It is safe for concurrent use.
type Hub struct {
	opts Options

	mu     sync.Mutex
	byUser map[string]map[*Stream]struct{} // every stream showing a user's sessions
	own    map[string][]*Stream            // each user's own streams, oldest first
	total  int
	closed bool
}

// NewHub returns an empty hub.
func NewHub(opts Options) *Hub {
	if opts.MaxPerUser <= 0 {
		opts.MaxPerUser = DefaultMaxPerUser
	}
	if opts.MaxTotal <= 0 {
		opts.MaxTotal = DefaultMaxTotal
	}
	return &Hub{opts: opts, byUser: map[string]map[*Stream]struct{}{}, own: map[string][]*Stream{}}
}

// CloseReason says why the hub closed a stream.
type CloseReason uint8

const (
	// Replaced: the user opened more than MaxPerUser streams and this was
	// the oldest.
	Replaced CloseReason = iota + 1
	// ShuttingDown: the process is stopping; the browser should connect
	// to the next one.
	ShuttingDown
)

// Stream is one open event stream: a browser's session watching its own
// user's sessions and, for partner users, those of the users it watches.
type Stream struct {
	hub       *Hub
	userID    string
	sessionID string
	watch     []string

	wake chan struct{} // a token when changes are queued
	done chan struct{} // closed when the hub closes the stream

	mu       sync.Mutex
	pending  []store.Change
	overflow bool
	reason   CloseReason
	removed  bool
}

// Open registers a stream for session sessionID of user userID, also
// showing the sessions of the users in watch. If the user already has
// MaxPerUser streams, their oldest is closed (Replaced).
func (h *Hub) Open(userID, sessionID string, watch []string) (*Stream, error) {
	s := &Stream{hub: h, userID: userID, sessionID: sessionID, watch: watch,
		wake: make(chan struct{}, 1), done: make(chan struct{})}
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.closed:
		return nil, ErrClosed
	case h.total >= h.opts.MaxTotal && len(h.own[userID]) < h.opts.MaxPerUser:
		return nil, ErrFull
	}
	if mine := h.own[userID]; len(mine) >= h.opts.MaxPerUser {
		h.closeLocked(mine[0], Replaced)
	}
	h.own[userID] = append(h.own[userID], s)
	for _, u := range s.users() {
		set := h.byUser[u]
		if set == nil {
			set = map[*Stream]struct{}{}
			h.byUser[u] = set
		}
		set[s] = struct{}{}
	}
	h.total++
	return s, nil
}

// Publish queues changes for every stream showing their users and wakes
// those streams. It never blocks: it is called on the writer's goroutine
// (Hub is a store.Notifier).
func (h *Hub) Publish(changes []store.Change) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, ch := range changes {
		if ch.Kind == store.ChangesMissed {
			for _, mine := range h.own {
				for _, s := range mine {
					s.rereadAll()
				}
			}
			continue
		}
		for s := range h.byUser[ch.UserID] {
			s.queue(ch)
		}
	}
}

// Len is how many streams are open.
func (h *Hub) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.total
}

// Close closes every stream (ShuttingDown) and refuses new ones. It
// returns how many it closed.
func (h *Hub) Close() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	var all []*Stream
	for _, mine := range h.own {
		all = append(all, mine...)
	}
	for _, s := range all {
		h.closeLocked(s, ShuttingDown)
	}
	return len(all)
}

// closeLocked removes s and tells it why. h.mu is held.
func (h *Hub) closeLocked(s *Stream, reason CloseReason) {
	if !h.removeLocked(s) {
		return
	}
	s.mu.Lock()
	s.reason = reason
	s.mu.Unlock()
	close(s.done)
}

// removeLocked unregisters s, reporting whether it was registered.
func (h *Hub) removeLocked(s *Stream) bool {
	s.mu.Lock()
	was := !s.removed
	s.removed = true
	s.mu.Unlock()
	if !was {
		return false
	}
	for _, u := range s.users() {
		if set := h.byUser[u]; set != nil {
			delete(set, s)
			if len(set) == 0 {
				delete(h.byUser, u)
			}
		}
	}
	mine := h.own[s.userID]
	for i, x := range mine {
		if x == s {
			mine = append(mine[:i:i], mine[i+1:]...)
			break
		}
	}
	if len(mine) == 0 {
		delete(h.own, s.userID)
	} else {
		h.own[s.userID] = mine
	}
	h.total--
	return true
}

func (s *Stream) users() []string { return append([]string{s.userID}, s.watch...) }

func (s *Stream) queue(ch store.Change) {
	s.mu.Lock()
	if len(s.pending) >= maxPending {
		s.pending, s.overflow = nil, true
	} else if !s.overflow {
		s.pending = append(s.pending, ch)
	}
	s.mu.Unlock()
	s.poke()
}

// poke wakes the stream, unless it is awake already: what was queued
// waits in pending.
func (s *Stream) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// rereadAll tells the stream to read everything it shows again.
func (s *Stream) rereadAll() {
	s.mu.Lock()
	s.pending, s.overflow = nil, true
	s.mu.Unlock()
	s.poke()
}

// Wake receives when changes are queued for the stream.
func (s *Stream) Wake() <-chan struct{} { return s.wake }

// Done is closed when the hub closes the stream; Reason says why.
func (s *Stream) Done() <-chan struct{} { return s.done }

// Reason is why the hub closed the stream (zero while it is open).
func (s *Stream) Reason() CloseReason {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reason
}

// Take returns the changes queued since the last Take. all reports that
// more changes came than were kept, so the stream must re-read
// everything it shows rather than apply changes one by one.
func (s *Stream) Take() (changes []store.Change, all bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	changes, all = s.pending, s.overflow
	s.pending, s.overflow = nil, false
	return changes, all
}

// Close unregisters the stream; the handler calls it when the connection
// ends. Closing twice, or after the hub closed it, is harmless.
func (s *Stream) Close() {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	s.hub.removeLocked(s)
}
