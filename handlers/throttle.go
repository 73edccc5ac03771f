package handlers

import (
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"portal/geo"
)

// Sign-in throttling: after a few failures, each further attempt for the
// same account (or from the same network) must wait twice as long as the
// last, up to a cap. A guesser who waits each one out gets about two
// dozen attempts an hour. A browser that has signed in to the account
// before carries a device cookie (device.go) and is counted on its own, so
// failures from elsewhere never lock the account's real owner out.
const (
	accountFreeFailures = 5
	accountMaxWait      = 5 * time.Minute
	ipFreeFailures      = 20
	ipMaxWait           = 15 * time.Minute
	throttleWindow      = time.Hour
	throttleMaxKeys     = 100_000
	// deviceFreeFailures is how many failures a device cookie has on its
	// own; each further one counts against the account too.
	deviceFreeFailures = 3
	// maxDeviceKeys is how many device keys one account has at once.
	maxDeviceKeys = 5
)

// limit is how a kind of key is throttled.
type limit struct {
	free int
	max  time.Duration
}

var (
	accountLimit = limit{accountFreeFailures, accountMaxWait}
	networkLimit = limit{ipFreeFailures, ipMaxWait}
)

type failures struct {
	count int
	last  time.Time
	limit limit
}

// locked reports whether the next attempt on f would have to wait.
func (f *failures) locked() bool { return f.count >= f.limit.free }

type throttle struct {
	mu   sync.Mutex
	keys map[string]*failures
	// devices holds each account's device keys (device_cookie.go), oldest
	// first, by user id.
	devices map[string][]string
}

func newThrottle() *throttle {
	return &throttle{keys: make(map[string]*failures), devices: make(map[string][]string)}
}

// A throttle key names what attempts are counted against.
type key struct {
	name  string
	limit limit
	// then, if set, is checked and counted too once this key has
	// thenAfter failures.
	then      *key
	thenAfter int
}

func accountKey(email string) key {
	return key{name: "a:" + strings.ToLower(email), limit: accountLimit}
}
func networkKey(a netip.Addr) key         { return key{name: "n:" + geo.Network(a), limit: networkLimit} }
func passwordChangeKey(userID string) key { return key{name: "p:" + userID, limit: accountLimit} }

// deviceKey counts a device cookie's failures on their own; after
// deviceFreeFailures, each further one counts against account too, so
// cookies someone collected give no more than a few guesses each before
// they are the account's.
func deviceKey(nonce string, account key) key {
	return key{name: "d:" + nonce, limit: accountLimit, then: &account, thenAfter: deviceFreeFailures}
}

// attempt is a reserved try. It already counts as a failure, so however
// many requests arrive together, no more are let through than the
// throttle allows; succeeded or cancelled takes the count back.
type attempt struct {
	t    *throttle
	keys []key
}

// reserve lets an attempt on keys through, counting it as a failure of
// each, or returns how long the caller must wait first. Checking and
// counting happen under one lock: a check followed later by a record
// would let every request that arrives together pass the check.
func (t *throttle) reserve(now time.Time, keys ...key) (*attempt, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range keys {
		if k.then != nil && t.count(k.name, now) >= k.thenAfter {
			keys = append(slices.Clip(keys), *k.then)
		}
	}
	var wait time.Duration
	for _, k := range keys {
		wait = max(wait, t.waitFor(k.name, now))
	}
	if wait > 0 {
		return nil, wait
	}
	for _, k := range keys {
		f := t.keys[k.name]
		if f == nil || now.Sub(f.last) > throttleWindow {
			if f == nil && len(t.keys) >= throttleMaxKeys {
				t.evict(now)
			}
			f = &failures{limit: k.limit}
			t.keys[k.name] = f
		}
		f.count++
		f.last = now
	}
	return &attempt{t: t, keys: keys}, 0
}

// count is how many failures name has in the window.
func (t *throttle) count(name string, now time.Time) int {
	if f := t.keys[name]; f != nil && now.Sub(f.last) <= throttleWindow {
		return f.count
	}
	return 0
}

func (t *throttle) waitFor(name string, now time.Time) time.Duration {
	f := t.keys[name]
	if f == nil || now.Sub(f.last) > throttleWindow || !f.locked() {
		return 0
	}
	delay := time.Second << min(f.count-f.limit.free, 20)
	return min(delay, f.limit.max) - now.Sub(f.last)
}

// failures is how many failed attempts key has in the window, this one
// included.
func (a *attempt) failures(k key) int {
	a.t.mu.Lock()
	defer a.t.mu.Unlock()
	if f := a.t.keys[k.name]; f != nil {
		return f.count
	}
	return 0
}

// succeeded forgets the failures of the account (or device) the attempt
// was for. A network's count only loses this attempt: one good password
// must not reset a spray across many accounts.
func (a *attempt) succeeded() {
	a.t.mu.Lock()
	defer a.t.mu.Unlock()
	for _, k := range a.keys {
		if k.limit == networkLimit {
			a.t.uncount(k.name)
		} else {
			delete(a.t.keys, k.name)
		}
	}
}

// cancelled takes the attempt back: it was never evaluated (the server was
// too busy to check the password), so it is no one's failure.
func (a *attempt) cancelled() {
	a.t.mu.Lock()
	defer a.t.mu.Unlock()
	for _, k := range a.keys {
		a.t.uncount(k.name)
	}
}

func (t *throttle) uncount(name string) {
	if f := t.keys[name]; f != nil {
		if f.count--; f.count <= 0 {
			delete(t.keys, name)
		}
	}
}

// evict makes room when the table is full: first what has left the
// window, then the oldest tenth, unlocked keys before locked ones, so an
// attacker who floods the table with new keys lifts no lock but the
// oldest, and never all of them at once.
func (t *throttle) evict(now time.Time) {
	for k, f := range t.keys {
		if now.Sub(f.last) > throttleWindow {
			delete(t.keys, k)
		}
	}
	if len(t.keys) < throttleMaxKeys {
		return
	}
	type entry struct {
		name   string
		locked bool
		last   time.Time
	}
	all := make([]entry, 0, len(t.keys))
	for k, f := range t.keys {
		all = append(all, entry{k, f.locked(), f.last})
	}
	slices.SortFunc(all, func(a, b entry) int {
		if a.locked != b.locked {
			if a.locked {
				return 1
			}
			return -1
		}
		return a.last.Compare(b.last)
	})
	for _, e := range all[:max(len(all)/10, 1)] {
		delete(t.keys, e.name)
	}
}

// addDevice makes nonce the newest of the account's device keys; the
// oldest goes beyond maxDeviceKeys.
func (t *throttle) addDevice(userID, nonce string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	list, ok := t.devices[userID]
	if !ok && len(t.devices) >= throttleMaxKeys {
		// Forgetting an account's list only makes its cookies believed on
		// their MAC again, as after a restart.
		for id := range t.devices {
			delete(t.devices, id)
			if len(t.devices) < throttleMaxKeys*9/10 {
				break
			}
		}
	}
	list = append(slices.DeleteFunc(list, func(n string) bool { return n == nonce }), nonce)
	t.devices[userID] = slices.Clone(list[max(0, len(list)-maxDeviceKeys):])
}

// deviceKnown reports whether nonce is one of the account's device keys,
// or the account has none listed since this process started.
func (t *throttle) deviceKnown(userID, nonce string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	list, ok := t.devices[userID]
	return !ok || slices.Contains(list, nonce)
}

// forgetDevices drops the account's device keys, when its password
// changes and every cookie issued before is void anyway.
func (t *throttle) forgetDevices(userID string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.devices, userID)
}
