package password

import (
	"errors"
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
type Gate struct {
	slots   chan struct{}
	waiters chan struct{}
	maxWait time.Duration
}

// NewGate lets running hashes run at once and up to waiting more callers
// wait for a slot, each for at most maxWait.
func NewGate(running, waiting int, maxWait time.Duration) *Gate {
	return &Gate{
		slots:   make(chan struct{}, max(running, 1)),
		waiters: make(chan struct{}, max(waiting, 0)),
		maxWait: maxWait,
	}
}

// Enter takes a slot, or returns ErrBusy. The caller must call release
// exactly once when its hashing is done.
func (g *Gate) Enter() (release func(), err error) {
	release = func() { <-g.slots }
	select {
	case g.slots <- struct{}{}:
		return release, nil
	default:
	}
	select {
	case g.waiters <- struct{}{}:
	default:
		return nil, ErrBusy
	}
	defer func() { <-g.waiters }()
	timer := time.NewTimer(g.maxWait)
	defer timer.Stop()
	select {
	case g.slots <- struct{}{}:
		return release, nil
	case <-timer.C:
		return nil, ErrBusy
	}
}
