package handlers

import (
	"net/netip"
	"strings"
	"sync"
	"time"

	"portal/geo"
)

// Sign-in throttling: after a few failures, each further attempt for the
// same account (or from the same network) must wait twice as long as the
// last, up to a cap. The caps are short so an attacker cannot lock a real
// user out for long (5 minutes at most), while guessing one account is
// held to about two dozen attempts an hour.
const (
	accountFreeFailures = 5
	accountMaxWait      = 5 * time.Minute
	ipFreeFailures      = 20
	ipMaxWait           = 15 * time.Minute
	throttleWindow      = time.Hour
	throttleMaxKeys     = 100_000
)

type failures struct {
	count int
	last  time.Time
}

type throttle struct {
	mu   sync.Mutex
	keys map[string]*failures
}

func newThrottle() *throttle { return &throttle{keys: make(map[string]*failures)} }

func accountKey(email string) string { return "a:" + strings.ToLower(email) }
func networkKey(a netip.Addr) string { return "n:" + geo.Network(a) }

// wait returns how long the caller must wait before another attempt.
func (t *throttle) wait(email string, addr netip.Addr, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	return max(t.waitFor(accountKey(email), now, accountFreeFailures, accountMaxWait),
		t.waitFor(networkKey(addr), now, ipFreeFailures, ipMaxWait))
}

func (t *throttle) waitFor(key string, now time.Time, free int, limit time.Duration) time.Duration {
	f := t.keys[key]
	if f == nil || now.Sub(f.last) > throttleWindow || f.count < free {
		return 0
	}
	delay := time.Second << min(f.count-free, 20)
	return min(delay, limit) - now.Sub(f.last)
}

func (t *throttle) fail(email string, addr netip.Addr, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.keys) >= throttleMaxKeys {
		t.prune(now)
	}
	for _, k := range []string{accountKey(email), networkKey(addr)} {
		f := t.keys[k]
		if f == nil || now.Sub(f.last) > throttleWindow {
			f = &failures{}
			t.keys[k] = f
		}
		f.count++
		f.last = now
	}
}

// succeed forgets the account's failures. The network's stay: one good
// password must not reset a spray across many accounts.
func (t *throttle) succeed(email string, _ netip.Addr) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.keys, accountKey(email))
}

func (t *throttle) prune(now time.Time) {
	for k, f := range t.keys {
		if now.Sub(f.last) > throttleWindow {
			delete(t.keys, k)
		}
	}
	if len(t.keys) >= throttleMaxKeys { // under attack from everywhere: start over rather than grow
		clear(t.keys)
	}
}
