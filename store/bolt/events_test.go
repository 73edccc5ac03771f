package bolt

import (
	"testing"
	"time"

	"portal/store"
)

// events returns userID's whole log, newest first.
func events(t *testing.T, s *Store, userID string) []store.Event {
	t.Helper()
	var out []store.Event
	for page := 1; ; page++ {
		p, err := s.UserEvents(userID, store.EventQuery{Page: page})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p.Events...)
		if page >= p.Pages {
			return out
		}
	}
}

// TestExpiryRecorded: an expiry is recorded once, dated when it happened,
// whether a validation or the sweeper notices it first.
func TestExpiryRecorded(t *testing.T) {
	for _, noticer := range []string{"validation", "sweeper"} {
		t.Run(noticer, func(t *testing.T) {
			clk := newClock()
			s := MustOpen(t, Options{Now: clk.Now, Policy: testPolicy})
			u := mustUser(t, s, store.RoleClientStaff)
			sess, tok := mustSession(t, s, u.ID, store.NewSession{})
			expiredAt := sess.LastActive.Add(testPolicy.IdleTimeout)
			clk.Advance(testPolicy.IdleTimeout + 17*time.Minute) // noticed well after
			for range 2 {                                        // twice: recorded once
				switch noticer {
				case "validation":
					wantEnded(t, s, tok, store.ReasonIdle)
					if _, err := s.FlushLastActive(); err != nil {
						t.Fatal(err)
					}
				case "sweeper":
					if _, err := s.Sweep(30*24*time.Hour, 10); err != nil {
						t.Fatal(err)
					}
				}
			}
			all := events(t, s, u.ID)
			if len(all) != 2 || all[0].Kind != store.EventEnded || all[0].Reason != store.ReasonIdle || !all[0].At.Equal(expiredAt) || all[0].SessionID != sess.ID {
				t.Fatalf("events %+v, want one idle expiry at %v", all, expiredAt)
			}
			// The record now says it ended, and when.
			x, _ := s.UserSession(u.ID, sess.ID)
			if !x.EndedAt.Equal(expiredAt) || x.EndReason != store.ReasonIdle {
				t.Fatalf("session %+v, want closed at its expiry", x)
			}
			mustCheck(t, s)
		})
	}
}
