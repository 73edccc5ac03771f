package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"portal/geo"
	"portal/server"
)

// activityServer seeds workers users of each activity scenario into the
// store of a fresh testServer.
func activityServer(tb testing.TB, workers int) (*server.Server, activityFixture, login) {
	tb.Helper()
	srv := testServer(tb, filepath.Join(tb.TempDir(), "activity.db"), true)
	s, err := newSeeder(srv.Store(), testLocator(tb), testPasswordHash)
	if err != nil {
		tb.Fatal(err)
	}
	few, err := s.usersWithSessions(1, fewSessions)
	if err != nil {
		tb.Fatal(err)
	}
	var out bytes.Buffer
	f, err := seedActivity(s, workers, &out)
	if err != nil {
		tb.Fatal(err)
	}
	return srv, f, few[0]
}

// TestActivityScenarios checks that the activity scenarios' pages hold
// what they claim, and that a short load run of each gets no error.
func TestActivityScenarios(t *testing.T) {
	srv, f, few := activityServer(t, 2)
	path := filepath.Join(t.TempDir(), "snapshot.db")
	if err := snapshot(srv.Store(), path); err != nil {
		t.Fatal(err)
	}
	p := testPortal(t, path)
	if err := checkActivity(p.base, f); err != nil {
		t.Fatal(err)
	}
	for _, sc := range activityScenarios(p, f) {
		res, err := generate(sc.plan(0), 2, 100*time.Millisecond)
		if err != nil || res.Errors > 0 || res.Requests == 0 {
			t.Fatalf("%s: %d requests, %d errors, %v %s", sc.name, res.Requests, res.Errors, err, res.FirstErr)
		}
	}
	// A page short of its entries fails the check.
	short := f
	short.Enders = []login{few}
	if err := checkActivity(p.base, short); err == nil || !strings.Contains(err.Error(), "entries") {
		t.Fatalf("check of a user without ended sessions: %v", err)
	}
}

func TestActivityTargets(t *testing.T) {
	sums := []summary{
		{Name: "auth-page", RPS: 1000, CPUPerReq: 100},
		{Name: scenarioEnded, RPS: 700, CPUPerReq: 140},
		{Name: scenarioActivity, RPS: 600, CPUPerReq: 160},
	}
	var b bytes.Buffer
	printActivityTargets(&b, sums, func(ok bool) string {
		if ok {
			return "MET    "
		}
		return "NOT MET"
	})
	for _, line := range []string{
		"NOT MET active-sessions-100-ended req/s >= 0.8x auth-page: 0.70x",
		"MET     activity-1000 req/s >= 0.5x auth-page: 0.60x",
	} {
		if !strings.Contains(b.String(), line) {
			t.Errorf("no %q in\n%s", line, b.String())
		}
	}
}

// BenchmarkHandlerActivity: the activity scenarios' pages and auth-page's,
// server CPU per request without sockets. AfterEvent records an event for
// the user before each request (a failed sign-in, flushed), so the page is
// built anew, as on the first view after any change to the user's log:
//
//	go test -run '^$' -bench HandlerActivity ./bench/
func BenchmarkHandlerActivity(b *testing.B) {
	srv, f, few := activityServer(b, 1)
	st, h := srv.Store(), srv.App().Handler()
	event := func(userID string) func() {
		return func() {
			st.RecordSignInFailure(userID, geo.Place{Network: "198.51.100.0/24", Masked: "198.51.100.x"}, false)
			if _, err := st.FlushLastActive(); err != nil {
				b.Fatal(err)
			}
		}
	}
	for _, c := range []struct {
		name, path string
		l          login
	}{
		{"auth-page", activeSessionsPath, few},
		{scenarioEnded, activeSessionsPath, f.Enders[0]},
		{scenarioActivity, securityActivity, f.Loggers[0]},
	} {
		b.Run(c.name, func(b *testing.B) {
			benchHandler(b, h, getRequest(c.path, sessionCookie+"="+c.l.Token, false))
		})
		if c.name != "auth-page" {
			b.Run(c.name+"-AfterEvent", func(b *testing.B) {
				benchHandler(b, h, getRequest(c.path, sessionCookie+"="+c.l.Token, false), event(c.l.UserID))
			})
		}
	}
}
