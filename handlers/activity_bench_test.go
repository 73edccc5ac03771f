package handlers

import (
	"net/http"
	"net/netip"
	"testing"

	"portal/store"
)

// activityBench is a signed-in customer with 5 live sessions whose log
// holds ended sessions: per round, 99 sign-ins and "Sign out all other
// devices" from the viewer's session (198 events).
func activityBench(b *testing.B, rounds int) *browser {
	b.Helper()
	e := newEnv(b)
	u := e.user(store.RoleClientStaff, "bench@client.example")
	br := e.sessionAs(u, uaFirefox, "203.0.113.10")
	keep := br.currentID()
	for range rounds {
		batch := make([]store.SessionFor, 99)
		for i := range batch {
			batch[i] = store.SessionFor{UserID: u.ID, NewSession: store.SignIn(uaChrome, e.geo.Place(netip.MustParseAddr("203.0.113.70")))}
		}
		if _, _, err := e.st.CreateSessions(batch); err != nil {
			b.Fatal(err)
		}
		if _, err := e.st.RevokeOtherSessions(u.ID, keep, store.ReasonRevokedAll); err != nil {
			b.Fatal(err)
		}
	}
	for range 4 {
		e.sessionAs(u, uaIPhone, "198.51.100.140")
	}
	return br
}

func benchPage(b *testing.B, br *browser, target string) {
	b.Helper()
	if r := br.get(target); r.StatusCode != http.StatusOK {
		b.Fatalf("%s: %d", target, r.StatusCode)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		br.get(target)
	}
}

// and with 500 ended sessions in the last 30 days (50 listed under
// Recently signed out).
func BenchmarkActiveSessionsPage(b *testing.B) {
	b.Run("no ended sessions", func(b *testing.B) { benchPage(b, activityBench(b, 0), activeSessionsURL) })
	b.Run("99 ended sessions", func(b *testing.B) { benchPage(b, activityBench(b, 1), activeSessionsURL) })
	b.Run("495 ended sessions", func(b *testing.B) { benchPage(b, activityBench(b, 5), activeSessionsURL) })
}

// BenchmarkSecurityActivityPage is a page of 50 from a log of about
// 1,000, and the Profile section for scale.
func BenchmarkSecurityActivityPage(b *testing.B) {
	br := activityBench(b, 5)
	b.Run("page 1", func(b *testing.B) { benchPage(b, br, "/settings?section=security-activity") })
	b.Run("page 20", func(b *testing.B) { benchPage(b, br, "/settings?section=security-activity&page=20") })
	b.Run("profile, for scale", func(b *testing.B) { benchPage(b, br, "/settings?section=profile") })
}
