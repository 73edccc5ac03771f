package password

import (
	"errors"
	"sync"
	"time"
)

// ErrBusy means the gate is full: too many hashes are running and waiting.
var ErrBusy = errors.New("password: too many password checks at once")

// Gate bounds how many password hashes run at once. Each argon2id hash
// holds 19 MiB for its duration, so without a bound a few hundred
// simultaneous sign-ins take gigabytes and starve every other request. A
// few callers may wait briefly for a slot (real people signing in at the
// same moment); everyone beyond them is refused at once, so nothing queues
// without bound.
//
// A few slots, with their own waiting room, may be reserved for callers
// the application trusts more (a browser that has signed in to the account
// before): a flood of everyone else never reaches them. And a caller may
// name where it comes from (a network): only one caller per name waits at
// a time, so one network cannot fill the waiting room.
type Gate struct {
	slots   chan struct{}
	waiters chan struct{}
	// reserved and reservedWaiters are for Reserved callers only; nil
	// channels (never ready) when there are none.
	reserved        chan struct{}
	reservedWaiters chan struct{}
	maxWait         time.Duration

	mu      sync.Mutex
	waiting map[string]bool // the From of every caller waiting now
}

// Caller says who enters the gate.
type Caller struct {
	// From names where the caller comes from; at most one caller with a
	// given non-empty From waits at a time.
	From string
	// Reserved callers may also take the reserved slots.
	Reserved bool
}

// NewGate lets running hashes run at once and up to waiting more callers
// wait for a slot, each for at most maxWait.
func NewGate(running, waiting int, maxWait time.Duration) *Gate {
	return &Gate{
		slots:   make(chan struct{}, max(running, 1)),
		waiters: make(chan struct{}, max(waiting, 0)),
		maxWait: maxWait,
		waiting: make(map[string]bool),
	}
}

// WithReserved adds running slots, and room for waiting callers, that only
// Reserved callers may take. It returns g, and must be called before g is
// used.
func (g *Gate) WithReserved(running, waiting int) *Gate {
	if running > 0 {
		g.reserved = make(chan struct{}, running)
		g.reservedWaiters = make(chan struct{}, max(waiting, 0))
	}
	return g
}

// Running is how many hashes run now, its caller's included.
func (g *Gate) Running() int { return len(g.slots) + len(g.reserved) }

// Slots is how many hashes may run at once, reserved slots included.
func (g *Gate) Slots() int { return cap(g.slots) + cap(g.reserved) }

// Enter takes a slot, or returns ErrBusy. The caller must call release
// exactly once when its hashing is done.
func (g *Gate) Enter() (release func(), err error) { return g.EnterAs(Caller{}) }

// EnterAs is Enter for caller c.
func (g *Gate) EnterAs(c Caller) (release func(), err error) {
	if r := g.take(c); r != nil {
		return r, nil
	}
	room := g.waiters
	if c.Reserved && g.reserved != nil {
		room = g.reservedWaiters
	}
	if !g.startWaiting(c.From) {
		return nil, ErrBusy
	}
	defer g.stopWaiting(c.From)
	select {
	case room <- struct{}{}:
	default:
		return nil, ErrBusy
	}
	defer func() { <-room }()
	timer := time.NewTimer(g.maxWait)
	defer timer.Stop()
	var reserved chan struct{} // nil, never ready, for ordinary callers
	if c.Reserved {
		reserved = g.reserved
	}
	select {
	case g.slots <- struct{}{}:
		return func() { <-g.slots }, nil
	case reserved <- struct{}{}:
		return func() { <-reserved }, nil
	case <-timer.C:
		return nil, ErrBusy
	}
}

// take takes a free slot at once, or returns nil.
func (g *Gate) take(c Caller) (release func()) {
	select {
	case g.slots <- struct{}{}:
		return func() { <-g.slots }
	default:
	}
	if c.Reserved && g.reserved != nil {
		select {
		case g.reserved <- struct{}{}:
			return func() { <-g.reserved }
		default:
		}
	}
	return nil
}

func (g *Gate) startWaiting(from string) bool {
	if from == "" {
		return true
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.waiting[from] {
		return false
	}
	g.waiting[from] = true
	return true
}

func (g *Gate) stopWaiting(from string) {
	if from == "" {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.waiting, from)
}

// Full reports whether EnterAs(c) would be refused at once right now: no
// slot is free and c could not wait. It takes nothing, so a caller that
// must answer as if it had hashed (an unknown email) can be refused
// exactly when a hash would have been.
func (g *Gate) Full(c Caller) bool {
	if len(g.slots) < cap(g.slots) || c.Reserved && g.reserved != nil && len(g.reserved) < cap(g.reserved) {
		return false
	}
	room := g.waiters
	if c.Reserved && g.reserved != nil {
		room = g.reservedWaiters
	}
	if len(room) >= cap(room) {
		return true
	}
	if c.From != "" {
		g.mu.Lock()
		defer g.mu.Unlock()
		return g.waiting[c.From]
	}
	return false
}
