package handlers

import (
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"portal/store"
)

// TestSecurity_ParallelGuessesThrottled: guesses that arrive together are
// held to what the throttle allows one after another. Checking before the
// hash and recording after it let all of them through.
func TestSecurity_ParallelGuessesThrottled(t *testing.T) {
	tests := []struct {
		name      string
		n         int
		email     func(i int) string
		evaluated int // the most that may be checked
	}{
		{"one account from one address", 60, func(int) string { return "admin@client.example" }, accountFreeFailures},
		{"many accounts from one network", 40, func(i int) string { return fmt.Sprintf("user%d@client.example", i) }, ipFreeFailures},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.user(store.RoleClientAdmin, "admin@client.example")
			base, tr := e.listen(), netTransport(t)
			clients := make([]*netClient, tt.n)
			for i := range clients {
				clients[i] = newNetClient(t, base, tr)
				clients[i].openLogin()
			}
			rs := together(tt.n, func(i int) netResp { return clients[i].login(tt.email(i), "wrong password", nil) })
			got := statuses(rs)
			t.Logf("%d at once: %v", tt.n, got)
			if got[http.StatusUnauthorized] == 0 || got[http.StatusUnauthorized] > tt.evaluated {
				t.Fatalf("%d passwords checked, want 1 to %d", got[http.StatusUnauthorized], tt.evaluated)
			}
			if got[http.StatusUnauthorized]+got[http.StatusTooManyRequests]+got[http.StatusServiceUnavailable] != tt.n {
				t.Fatalf("unexpected answers: %v", got)
			}
			for _, r := range rs {
				if r.status == http.StatusTooManyRequests && (r.header.Get("Retry-After") == "" || !strings.Contains(r.body, "Try again in")) {
					t.Fatalf("a throttled answer without Retry-After or a sentence: %q %.200s", r.header.Get("Retry-After"), r.body)
				}
			}
		})
	}
}

// TestSecurity_OwnerNotLockedOut: a guesser who keeps an account's
// throttle busy all hour does not keep its owner out: the owner's browser
// signed in before and carries a device cookie, so its sign-ins are
// counted on their own. Browsers without one, or with a forged one, stay
// throttled.
func TestSecurity_OwnerNotLockedOut(t *testing.T) {
	e := newEnv(t, trustAll)
	e.user(store.RoleClientStaff, "owner@example.com")
	owner, attacker, forger := e.browser(uaFirefox), e.browser(uaChrome), e.browser(uaChrome)
	owner.signIn("owner@example.com")
	owner.post("/logout", nil)
	if owner.cookies[deviceCookie] == "" {
		t.Fatal("no device cookie after a successful sign-in")
	}
	forger.cookies[deviceCookie] = "AAAAAAAAAAAAAAAAAAAAAA." + strings.Repeat("A", 43)
	attempt := func(b *browser, pw string, from string) resp {
		b.get("/login")
		return b.do(http.MethodPost, "/login", url.Values{"email": {"owner@example.com"}, "password": {pw}, csrfField: {b.csrf()}},
			map[string]string{"X-Forwarded-For": from})
	}
	in, guesses := 0, 0
	for minute := range 60 {
		// The guesser tries from a new network whenever the throttle lets it.
		for {
			r := attempt(attacker, "guess", fmt.Sprintf("198.51.%d.%d", minute, guesses%200))
			if r.StatusCode != http.StatusUnauthorized {
				break
			}
			guesses++
		}
		if r := attempt(forger, testPassword, "203.0.113.9"); r.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("minute %d: a forged device cookie got %d, want 429", minute, r.StatusCode)
		}
		if r := attempt(owner, testPassword, "192.0.2.10"); r.StatusCode == http.StatusSeeOther {
			in++
			owner.get(activeSessionsURL)
			if r := owner.post("/logout", nil); r.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign out: %d", r.StatusCode)
			}
		}
		e.clock.Advance(time.Minute)
	}
	t.Logf("guesser: %d guesses in the hour; owner: in %d of 60 times", guesses, in)
	if in != 60 {
		t.Fatalf("the owner got in %d of 60 times while a guesser kept the account locked", in)
	}
	if guesses > 25 {
		t.Fatalf("the guesser got %d guesses in an hour, want about two dozen at most", guesses)
	}
}

// TestThrottleFloodKeepsLocks: filling the table with new keys evicts old
// unlocked entries, never a lock. Clearing the whole table when it filled
// up lifted every lock at once, a victim's included.
func TestThrottleFloodKeepsLocks(t *testing.T) {
	th := newThrottle()
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	victim := accountKey("victim@example.com")
	for range accountFreeFailures {
		if a, _ := th.reserve(now, victim); a == nil {
			t.Fatal("a free attempt was refused")
		}
	}
	if a, _ := th.reserve(now, victim); a != nil {
		t.Fatal("the victim's account is not locked after its free failures")
	}
	for i := range throttleMaxKeys + throttleMaxKeys/5 {
		now = now.Add(time.Microsecond) // all within the victim's 1-second wait
		addr := netip.AddrFrom4([4]byte{11 + byte(i>>16), byte(i >> 8), byte(i), 1})
		if a, _ := th.reserve(now, networkKey(addr)); a == nil {
			t.Fatalf("flood key %d was refused", i)
		}
	}
	if n := len(th.keys); n > throttleMaxKeys {
		t.Fatalf("%d keys held, want at most %d", n, throttleMaxKeys)
	}
	if a, wait := th.reserve(now, victim); a != nil || wait <= 0 {
		t.Fatal("a flood of new keys lifted the victim's lock")
	}
}

// TestThrottleReservation: a reserved attempt counts until it is known
// to have succeeded or was never evaluated.
func TestThrottleReservation(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	acct, netw := accountKey("a@example.com"), networkKey(netip.MustParseAddr("203.0.113.7"))
	tests := []struct {
		name         string
		end          func(*attempt)
		acctN, netwN int
	}{
		{"failed", func(*attempt) {}, 1, 1},
		{"succeeded: the account is forgiven, the network only this attempt", (*attempt).succeeded, 0, 0},
		{"cancelled: counted nowhere", (*attempt).cancelled, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			th := newThrottle()
			// An earlier failure from the network stays whatever happens.
			if a, _ := th.reserve(now, networkKey(netip.MustParseAddr("203.0.113.8"))); a == nil {
				t.Fatal("refused")
			}
			a, _ := th.reserve(now, acct, netw)
			if a == nil {
				t.Fatal("refused")
			}
			tt.end(a)
			if got := a.failures(acct); got != tt.acctN {
				t.Errorf("account failures %d, want %d", got, tt.acctN)
			}
			if got := a.failures(netw); got != tt.netwN+1 {
				t.Errorf("network failures %d, want %d", got, tt.netwN+1)
			}
		})
	}
}
