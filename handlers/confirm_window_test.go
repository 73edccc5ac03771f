package handlers

import (
	"testing"
	"time"

	"portal/store"
)

func TestConfirmedRecently(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	h := &handler{cfg: Config{ReauthWindow: 15 * time.Minute}, now: func() time.Time { return now }}
	for _, tc := range []struct {
		name string
		sess store.Session
		want bool
	}{
		{"signed in just now", store.Session{CreatedAt: now.Add(-time.Minute)}, true},
		{"signed in an hour ago", store.Session{CreatedAt: now.Add(-time.Hour)}, false},
		{"signed in an hour ago, confirmed just now", store.Session{CreatedAt: now.Add(-time.Hour), ConfirmedAt: now.Add(-time.Minute)}, true},
		{"at the window's end", store.Session{CreatedAt: now.Add(-15 * time.Minute)}, false},
		{"signed in with an app code just now", store.Session{CreatedAt: now.Add(-time.Minute), Auth: store.AuthPasswordApp}, true},
		{"signed in with a recovery code just now", store.Session{CreatedAt: now.Add(-time.Minute), Auth: store.AuthPasswordRecovery}, false},
		{"recovery code, then confirmed", store.Session{CreatedAt: now.Add(-time.Minute), Auth: store.AuthPasswordRecovery, ConfirmedAt: now}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := h.confirmedRecently(tc.sess); got != tc.want {
				t.Errorf("confirmedRecently = %v, want %v", got, tc.want)
			}
		})
	}
	if got := confirmURL("/settings?section=two-step&x=1"); got != "/confirm?next=%2Fsettings%3Fsection%3Dtwo-step%26x%3D1" {
		t.Errorf("confirmURL = %q", got)
	}
}
