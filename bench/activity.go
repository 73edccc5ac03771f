package main

import (
	"fmt"
	"io"
	"regexp"
	"time"

	"portal/store"
)

// The security activity's scenarios (issue 16): Active Sessions for a
// user with endedPerUser sessions ended in the last 30 days (Recently
// signed out lists 10 of them), and a page of 50 of the Security activity
// of a user with about 1,000 events. Both are judged against auth-page,
// the same page for a user with fewSessions sessions and nothing ended.
const (
	endedPerUser = 100
	// activityRounds of 99 sign-ins and "Sign out all other devices"
	// (198 events each) give a log of about 1,000.
	activityRounds   = 5
	securityActivity = "/settings?section=security-activity"
)

// activityFixture is the activity scenarios' users, one per worker.
type activityFixture struct {
	Enders  []login // fewSessions live sessions and endedPerUser ended
	Loggers []login // fewSessions live sessions and a log of about 1,000 events
}

// Names of the activity scenarios.
const (
	scenarioEnded    = "active-sessions-100-ended"
	scenarioActivity = "activity-1000"
)

// endedRounds signs u in batch times and signs the others out from keep,
// rounds times: 2×rounds×batch events.
func (s *seeder) endedRounds(u, keep string, rounds, batch int) error {
	for r := range rounds {
		in := make([]store.SessionFor, batch)
		for i := range in {
			in[i] = store.SessionFor{UserID: u, NewSession: s.sample(r*batch + i)}
		}
		if _, _, err := s.st.CreateSessions(in); err != nil {
			return err
		}
		if _, err := s.st.RevokeOtherSessions(u, keep, store.ReasonRevokedAll); err != nil {
			return err
		}
	}
	return nil
}

// usersWithEnded creates n users, each signed in once (the login), with
// rounds×batch sessions signed out from it and then fewSessions-1 others
// live.
func (s *seeder) usersWithEnded(n, rounds, batch int) ([]login, error) {
	out, err := s.usersWithSessions(n, 1)
	if err != nil {
		return nil, err
	}
	for _, l := range out {
		if err := s.endedRounds(l.UserID, l.SessionID, rounds, batch); err != nil {
			return nil, err
		}
		for i := 1; i < fewSessions; i++ {
			if _, _, err := s.session(l.UserID, i); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// seedActivity seeds the activity scenarios' users.
func seedActivity(s *seeder, workers int, out io.Writer) (activityFixture, error) {
	t0, w0 := time.Now(), s.st.WriteTxCount()
	var f activityFixture
	var err error
	if f.Enders, err = s.usersWithEnded(workers, 2, endedPerUser/2); err != nil {
		return f, err
	}
	if f.Loggers, err = s.usersWithEnded(workers, activityRounds, 99); err != nil {
		return f, err
	}
	txs := s.st.WriteTxCount() - w0
	fmt.Fprintf(out, "seeded %d users with %d ended sessions and %d with about %d events: %d write txs in %s (%s per tx)\n",
		workers, endedPerUser, workers, activityRounds*2*99, txs, since(t0), perTx(t0, txs))
	return f, nil
}

// What the activity pages must hold.
var (
	endedEntryRe    = regexp.MustCompile(`<li id="ended-[0-9a-f]{32}" class="ended-entry">`)
	activityEntryRe = regexp.MustCompile(`<li class="activity-entry">`)
)

// activityScenarios are the scenarios on p, the store seeded with f.
func activityScenarios(p *portal, f activityFixture) []scenario {
	fixed := func(pl plan) func(int) plan { return func(int) plan { return pl } }
	return []scenario{
		{name: scenarioEnded, warm: true, owner: p, plan: fixed(readPlan(p.base, activeSessionsPath, nil, f.Enders)),
			about: fmt.Sprintf("GET %s, full page, user with %d sessions and %d ended in the last 30 days (Recently signed out lists 10)",
				activeSessionsPath, fewSessions, endedPerUser)},
		{name: scenarioActivity, warm: true, owner: p, plan: fixed(readPlan(p.base, securityActivity, nil, f.Loggers)),
			about: fmt.Sprintf("GET %s, full page: page 1 (50 entries) of a log of about %d events", securityActivity, activityRounds*2*99)},
	}
}

// checkActivity makes sure each login's pages hold what the scenarios
// claim: the whole page, the live rows and the entries listed.
func checkActivity(base string, f activityFixture) error {
	for _, c := range []struct {
		path   string
		logins []login
		rows   int
		re     *regexp.Regexp
		want   int
	}{
		{activeSessionsPath, f.Enders, fewSessions, endedEntryRe, 10},
		{securityActivity, f.Loggers, 0, activityEntryRe, store.EventPageSize},
	} {
		for _, l := range c.logins {
			body, _, err := get(base, c.path, sessionCookie+"="+l.Token, nil)
			if err != nil {
				return err
			}
			if !fullPageRe.MatchString(body) {
				return fmt.Errorf("GET %s is not a whole page", c.path)
			}
			if got := len(sessionRowRe.FindAllString(body, -1)); got != c.rows {
				return fmt.Errorf("GET %s: %d session rows, want %d", c.path, got, c.rows)
			}
			if got := len(c.re.FindAllString(body, -1)); got != c.want {
				return fmt.Errorf("GET %s: %d entries, want %d", c.path, got, c.want)
			}
		}
	}
	return nil
}

// printActivityTargets judges issue 16's targets against auth-page.
func printActivityTargets(out io.Writer, sums []summary, throughput func(bool) string) {
	page, ok := find(sums, "auth-page")
	if !ok || page.RPS == 0 {
		return
	}
	for _, t := range []struct {
		name string
		min  float64
	}{{scenarioEnded, 0.8}, {scenarioActivity, 0.5}} {
		s, ok := find(sums, t.name)
		if !ok || s.RPS == 0 {
			continue
		}
		r := s.RPS / page.RPS
		fmt.Fprintf(out, "  %s %s req/s >= %.1fx auth-page: %.2fx (%.0f vs %.0f req/s; by CPU per request: %.2fx)\n",
			throughput(r >= t.min), t.name, t.min, r, s.RPS, page.RPS, page.CPUPerReq/s.CPUPerReq)
	}
}
