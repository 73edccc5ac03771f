package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"portal/password"
	"portal/store"
)

// guessFrom posts one sign-in for email from addr, with b's cookies.
func guessFrom(b *browser, email, pw, addr string) resp {
	b.get("/login")
	return b.do(http.MethodPost, "/login", url.Values{"email": {email}, "password": {pw}, csrfField: {b.csrf()}},
		map[string]string{"X-Forwarded-For": addr})
}

// TestSecurity_CollectedDeviceCookies: someone who knew the password
// signed in from 30 browsers and kept their device cookies. Once the
// password is changed (by its owner, or reset by an operator), the cookies
// are worth nothing: all of them together get no more checked guesses
// than the account's own budget. Each cookie was throttled on its own, so
// 30 cookies gave 150 guesses, with the account locked for everyone else.
func TestSecurity_CollectedDeviceCookies(t *testing.T) {
	const collected = 30
	tests := []struct {
		name   string
		change func(e *env, owner *browser, u store.User)
	}{
		{"the owner changes the password", func(e *env, owner *browser, u store.User) {
			owner.signIn(u.Email)
			owner.get("/settings?section=password")
			r := owner.post("/settings/password", url.Values{"current_password": {testPassword}, "new_password": {"a brand new password"}, "sign_out_others": {"1"}})
			if r.StatusCode != http.StatusSeeOther {
				e.t.Fatalf("password change: %d", r.StatusCode)
			}
		}},
		// Two-step sign-in turned on, then reset by an operator (the owner
		// lost their phone): each change voids the cookies.
		{"two-step sign-in is turned on", func(e *env, _ *browser, u store.User) {
			if err := e.st.EnableTwoStep(u.ID, store.Actor{}, []byte("12345678901234567890"), []string{"CODE"}); err != nil {
				e.t.Fatal(err)
			}
			// The owner's own code sign-ins are not the thieves': the
			// account's budget is what the test counts, so turn it off
			// again as an operator would.
			e.clock.Advance(time.Second)
			if _, err := e.st.ResetTwoStep("", u.ID, store.Actor{}); err != nil {
				e.t.Fatal(err)
			}
		}},
		{"an operator resets the password", func(e *env, _ *browser, u store.User) {
			hash, err := password.Hash("an operator's new password")
			if err != nil {
				e.t.Fatal(err)
			}
			if _, err := e.st.SetPasswordHash(u.ID, hash, true, ""); err != nil {
				e.t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, trustAll)
			u := e.user(store.RoleClientStaff, "owner@example.com")
			thieves := make([]*browser, collected)
			for i := range thieves {
				thieves[i] = e.browser(uaChrome)
				if r := guessFrom(thieves[i], u.Email, testPassword, fmt.Sprintf("198.51.100.%d", i)); r.StatusCode != http.StatusSeeOther {
					t.Fatalf("collecting cookie %d: %d", i, r.StatusCode)
				}
				if thieves[i].cookies[deviceCookie] == "" {
					t.Fatalf("sign-in %d left no device cookie", i)
				}
			}
			tt.change(e, e.browser(uaFirefox), u)
			checked, n := 0, 0
			for i, b := range thieves {
				for {
					n++
					r := guessFrom(b, u.Email, fmt.Sprintf("guess %d", n), fmt.Sprintf("203.%d.%d.1", n/250, n%250))
					if r.StatusCode != http.StatusUnauthorized {
						if r.StatusCode != http.StatusTooManyRequests {
							t.Fatalf("cookie %d, guess %d: %d, want 401 or 429", i, n, r.StatusCode)
						}
						break
					}
					checked++
					if n > 10*collected*accountFreeFailures {
						t.Fatal("the guesses never ran out")
					}
				}
			}
			t.Logf("%d collected cookies: %d guesses checked after the change", collected, checked)
			if checked > accountFreeFailures {
				t.Fatalf("%d collected cookies got %d checked guesses after the password changed, want at most the account's %d",
					collected, checked, accountFreeFailures)
			}
		})
	}
}

// TestDeviceCookieKeysCapped: an account has at most maxDeviceKeys device
// keys. A browser signing in again keeps its key; a new browser beyond the
// cap pushes out the oldest, whose cookie then counts for nothing.
func TestDeviceCookieKeysCapped(t *testing.T) {
	e := newEnv(t, trustAll)
	u := e.user(store.RoleClientStaff, "owner@example.com")
	first := e.browser(uaFirefox)
	first.signIn(u.Email)
	cookie := first.cookies[deviceCookie]
	first.post("/logout", nil)
	first.signIn(u.Email)
	if got := first.cookies[deviceCookie]; nonceOf(got) != nonceOf(cookie) {
		t.Fatalf("signing in again from the same browser gave a new device key: %q, had %q", got, cookie)
	}
	newest := make([]*browser, maxDeviceKeys)
	for i := range newest {
		newest[i] = e.browser(uaIPhone)
		if r := guessFrom(newest[i], u.Email, testPassword, fmt.Sprintf("198.51.100.%d", i)); r.StatusCode != http.StatusSeeOther {
			t.Fatalf("browser %d: %d", i, r.StatusCode)
		}
		delete(newest[i].cookies, sessionCookie) // the browser closes; its device cookie stays
	}
	delete(first.cookies, sessionCookie)
	// Lock the account for browsers it does not know.
	for i := range accountFreeFailures {
		guessFrom(e.browser(uaChrome), u.Email, "guess", fmt.Sprintf("203.0.%d.1", i))
	}
	if r := guessFrom(newest[0], u.Email, testPassword, "192.0.2.1"); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("one of the newest %d browsers, with the account locked: %d, want its device cookie recognized", maxDeviceKeys, r.StatusCode)
	}
	if r := guessFrom(first, u.Email, testPassword, "192.0.2.2"); r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("the oldest browser after %d newer ones, with the account locked: %d, want 429", maxDeviceKeys, r.StatusCode)
	}
}

// nonceOf is the device key a device cookie names.
func nonceOf(cookie string) string {
	nonce, _, _ := strings.Cut(cookie, ".")
	return nonce
}

// TestDeviceCookieFailuresReachAccount: a device cookie's first few
// failures are its own; after deviceFreeFailures, each further one counts
// against the account too.
func TestDeviceCookieFailuresReachAccount(t *testing.T) {
	e := newEnv(t, trustAll)
	u := e.user(store.RoleClientStaff, "owner@example.com")
	dev := e.browser(uaFirefox)
	dev.signIn(u.Email)
	dev.post("/logout", nil)
	const extra = 2
	for i := range deviceFreeFailures + extra {
		if r := guessFrom(dev, u.Email, "guess", "192.0.2.1"); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("device failure %d: %d", i, r.StatusCode)
		}
	}
	left := 0
	for i := range accountFreeFailures + 1 {
		if guessFrom(e.browser(uaChrome), u.Email, "guess", fmt.Sprintf("203.0.%d.1", i)).StatusCode == http.StatusUnauthorized {
			left++
		}
	}
	if want := accountFreeFailures - extra; left != want {
		t.Fatalf("after %d failures on a device cookie, the account had %d failures left, want %d", deviceFreeFailures+extra, left, want)
	}
}
