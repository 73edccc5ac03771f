package cli

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"portal/activity"
	"portal/server"
	"portal/store"
)

// cmdActivity prints a user's security activity since a while ago, newest
// first, in the sentences the pages show, with times in UTC.
func cmdActivity(c *cli, args []string) error {
	fs, db := c.flagSet()
	emailFlag := fs.String("email", "", "the user's email address (required)")
	sinceFlag := fs.String("since", "7d", "how far back to go: a duration like 12h, 7d or 90d")
	if _, err := c.parse(fs, args, 0); err != nil {
		return err
	}
	email, err := requireEmail(*emailFlag)
	if err != nil {
		return err
	}
	since, err := parseSince(*sinceFlag)
	if err != nil {
		return err
	}
	return c.withStore(*db, false, func(st store.Backend) error {
		u, err := userByEmail(st, email)
		if err != nil {
			return err
		}
		events, err := eventsSince(st, u.ID, time.Now().Add(-since))
		if err != nil {
			return err
		}
		if len(events) == 0 {
			fmt.Fprintf(c.stdout, "%s has no security activity in the last %s.\n", u.Email, activity.Duration(since))
			return nil
		}
		acct, err := st.AccountByID(u.AccountID)
		if err != nil {
			return err
		}
		// The partner that manages the user now is named with its people;
		// one the client has left is "a previous partner", as on the pages.
		d := activity.Describer{Lookup: activity.StoreLookup(st, u.ID), Policy: st.Policy(),
			SessionLimit: c.sessionLimit(st), Zone: time.UTC, Partner: "their AiDial partner", PartnerID: acct.Partner}
		tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "TIME\tSESSION\tWHAT")
		for _, e := range events {
			session := "-"
			if len(e.SessionID) >= 8 {
				session = e.SessionID[:8]
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", e.At.UTC().Format(cliTime), session, printable(d.Describe(e).Sentence))
		}
		return tw.Flush()
	})
}

// eventsSince is every event of userID at or after since, newest first.
func eventsSince(st store.Backend, userID string, since time.Time) ([]store.Event, error) {
	var out []store.Event
	for page := 1; ; page++ {
		p, err := st.UserEvents(userID, store.EventQuery{Since: since, Page: page})
		if err != nil {
			return nil, err
		}
		out = append(out, p.Events...)
		if page >= p.Pages {
			return out, nil
		}
	}
}

// sessionLimit is the session cap the sentences name: the running
// server's, or the one its flags' environment gives (0, no number, if it
// cannot be read).
func (c *cli) sessionLimit(st store.Backend) int {
	if n := st.SessionLimit(); n > 0 || c.shared != nil {
		return n
	}
	cfg, err := server.ParseConfig(nil, c.getenv, io.Discard)
	if err != nil {
		return 0
	}
	return cfg.MaxSessions
}

// parseSince reads -since: a Go duration, or whole days ("7d").
func parseSince(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		n, err = strconv.Atoi(days)
		d = time.Duration(n) * 24 * time.Hour
	}
	if err != nil || d <= 0 || d > 3650*24*time.Hour {
		return 0, usagef("-since must be a duration like 12h, 7d or 90d, got %q", s)
	}
	return d, nil
}
