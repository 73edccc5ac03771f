package handlers

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"

	"portal/store"
)

// TestSecurity_SignInFlood: 40 clients sign in with unknown emails as fast
// as they are answered, each request from another random /24, while a
// real user signs in over and over, from a browser that has signed in
// before and from new ones. The gate used to answer 503 to anyone beyond
// its queue, and the flood (which a 503 costs nothing) kept it full: the
// owner got in 1 time in 43 with a device cookie. Now unknown emails take
// no slot and device cookies have their own share, so the owner's known
// browser is never refused, and new browsers get in. (The share of
// successes under a longer flood is measured by the benchmark, bench
// -flood, not asserted here.)
func TestSecurity_SignInFlood(t *testing.T) {
	const flooders, tries = 40, 12
	e := newEnv(t, trustLoopback)
	u := e.user(store.RoleClientStaff, "owner@example.com")
	base, tr := e.listen(), netTransport(t)

	// The owner's browser signs in once, for its device cookie.
	home := newNetClient(t, base, tr)
	home.openLogin()
	if r := home.login(u.Email, testPassword, map[string]string{"X-Forwarded-For": "192.0.2.10"}); r.status != http.StatusSeeOther {
		t.Fatalf("first sign-in: %d %v", r.status, r.err)
	}
	baseURL, _ := url.Parse(base)
	var device *http.Cookie
	for _, c := range home.hc.Jar.Cookies(baseURL) {
		if c.Name == deviceCookie {
			device = c
		}
	}
	if device == nil {
		t.Fatal("no device cookie after signing in")
	}
	// signIn is one sign-in by the owner from a fresh browser, with the
	// device cookie or without.
	signIn := func(withCookie bool, addr string) netResp {
		b := newNetClient(t, base, tr)
		if withCookie {
			b.hc.Jar.SetCookies(baseURL, []*http.Cookie{{Name: device.Name, Value: device.Value}})
		}
		if r := b.do(http.MethodGet, "/login", nil, nil); r.err != nil || r.status != http.StatusOK {
			return r
		}
		return b.login(u.Email, testPassword, map[string]string{"X-Forwarded-For": addr})
	}

	var sent atomic.Int64
	stop := make(chan struct{})
	ready, done := make(chan struct{}, flooders), make(chan struct{})
	go func() {
		defer close(done)
		together(flooders, func(i int) struct{} {
			c := newNetClient(t, base, tr)
			c.openLogin()
			ready <- struct{}{}
			for n := 0; ; n++ {
				select {
				case <-stop:
					return struct{}{}
				default:
				}
				addr := fmt.Sprintf("%d.%d.%d.7", 11+rand.IntN(50), rand.IntN(256), rand.IntN(256))
				c.login(fmt.Sprintf("flood-%d-%d@nobody.example", i, n), "guess", map[string]string{"X-Forwarded-For": addr})
				sent.Add(1)
			}
		})
	}()
	defer func() { close(stop); <-done }()
	for range flooders {
		<-ready
	}
	// Wait for the flood to be under way: every flooder has been answered
	// at least once on average.
	for sent.Load() < flooders {
		home.do(http.MethodGet, "/healthz", nil, nil)
	}

	got := map[bool]map[int]int{true: {}, false: {}}
	for i := range 2 * tries {
		withCookie := i%2 == 0
		r := signIn(withCookie, fmt.Sprintf("192.0.2.%d", 10+i%2))
		if r.err != nil {
			t.Fatalf("owner's sign-in %d: %v", i, r.err)
		}
		got[withCookie][r.status]++
	}
	t.Logf("with %d flooding (%d requests so far): owner with device cookie %v, from new browsers %v", flooders, sent.Load(), got[true], got[false])
	if got[true][http.StatusSeeOther] != tries {
		t.Errorf("the owner's known browser got in %d of %d times during the flood (%v); it must never be refused", got[true][http.StatusSeeOther], tries, got[true])
	}
	if got[false][http.StatusSeeOther] < tries/2 {
		t.Errorf("the owner from new browsers got in %d of %d times during the flood (%v), want at least half", got[false][http.StatusSeeOther], tries, got[false])
	}
}
