package handlers

import (
	"html/template"
	"slices"
	"time"

	"github.com/gofiber/fiber/v2"

	"portal/store"
)

// sessionList is the Active Sessions section: the caller's sessions and
// the sign-out-all control.
type sessionList struct {
	Rows           []sessionRow
	Others         int
	OthersSentence string
	Message        string
	CSRF           string
	Recent         *recentList // Recently signed out, on the section's page; nil in fragments that do not show it
}

// Caption describes the sessions table to screen readers.
func (l *sessionList) Caption() string {
	return "Sessions signed in to your account, current session first"
}

// sessionRow is one session as the row partial shows it; the page and the
// htmx responses both render it through partials/session_row.
type sessionRow struct {
	ID, CSRF     string
	SignOutBase  string // the Sign out address up to the id
	Current      bool
	Ended        bool
	EndedText    string
	Device       string
	TypeLabel    string
	Icon         template.HTML
	Suffix       string
	Location     string
	Approx       bool
	NoLocation   string
	MaskedIP     string
	Created      when
	LastActive   when
	SignOutLabel string
	// AuthLabel is how the session signed in ("Password and authenticator
	// app"); TwoStep marks a second step, shown as a badge.
	AuthLabel string
	TwoStep   bool
	OOB       string // hx-swap-oob of a row sent by live updates; "" on pages
}

// activeSessionsBase is where a customer's Sign out of a row posts, up to
// the session id; the partner console's rows post elsewhere.
const activeSessionsBase = "/settings/active-sessions/"

// when is a time as a page shows it: relative text, exact text in the
// viewer's zone with the zone's abbreviation, machine form.
type when struct {
	ISO, Exact, Relative string
}

// exactFormat is an exact time: "27 Nov 2026, 10:02 CET".
const exactFormat = "2 Jan 2006, 15:04 MST"

func makeWhen(t, now time.Time, loc *time.Location) when {
	t = t.In(loc)
	return when{ISO: t.UTC().Format(time.RFC3339), Exact: t.Format(exactFormat), Relative: relative(t, now)}
}

// relative says how long ago t was, in words; past a month, the date in
// t's zone.
func relative(t, now time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute", " ago")
	case d < 24*time.Hour:
		return plural(int(d/time.Hour), "hour", " ago")
	case d < 48*time.Hour:
		return "yesterday"
	case d < 30*24*time.Hour:
		return plural(int(d/(24*time.Hour)), "day", " ago")
	}
	return t.Format("2 Jan 2006")
}

// listSessions lists the caller's live sessions, current first.
func (h *handler) listSessions(c *fiber.Ctx) (*sessionList, error) {
	a := authOf(c)
	list, err := h.sessions.ListUserSessions(a.User.ID)
	if err != nil {
		return nil, err
	}
	return h.sessionListOf(list, a.Session.ID, a.CSRF, zoneOf(c)), nil
}

// sessionListOf is the Active Sessions list of the sessions in list as
// the session currentID sees them: the page, and live updates, which have
// no request to ask.
func (h *handler) sessionListOf(list []store.Session, currentID, csrf string, loc *time.Location) *sessionList {
	now := h.now()
	v := &sessionList{CSRF: csrf}
	v.Rows = make([]sessionRow, 0, len(list))
	for _, s := range list {
		v.Rows = append(v.Rows, h.row(s, s.ID == currentID, csrf, now, loc))
	}
	// The store orders by last activity; the current session goes first.
	slices.SortStableFunc(v.Rows, func(a, b sessionRow) int {
		switch {
		case a.Current == b.Current:
			return 0
		case a.Current:
			return -1
		}
		return 1
	})
	distinguish(v.Rows)
	v.Others = len(list) - 1
	if v.Others < 0 {
		v.Others = 0
	}
	v.OthersSentence = willSignOutOthers(v.Others)
	return v
}

// row prepares one session for display, its times in loc.
func (h *handler) row(s store.Session, current bool, csrf string, now time.Time, loc *time.Location) sessionRow {
	info := s.Device
	r := sessionRow{
		ID: s.ID, CSRF: csrf, SignOutBase: activeSessionsBase, Current: current,
		Device: info.Label(), TypeLabel: info.TypeLabel(), Icon: deviceIcon(info.Type),
		MaskedIP:   s.LastPlace.Masked,
		Created:    makeWhen(s.CreatedAt, now, loc),
		NoLocation: "Unknown location",
		AuthLabel:  s.Auth.Label(), TwoStep: s.Auth.TwoStep(),
	}
	// The current row says "Active now" rather than a time; leaving the
	// time out keeps the row's value, and so its cached HTML, the same from
	// one request to the next.
	if !current {
		r.LastActive = makeWhen(s.LastActive, now, loc)
	}
	r.Location, r.Approx = s.Where()
	if ended, reason := s.Ended(now, h.db.Policy()); ended {
		r.Ended = true
		r.EndedText = "Signed out"
		if reason == store.ReasonIdle || reason == store.ReasonLifetime {
			r.EndedText = "Expired"
		}
	}
	r.SignOutLabel = r.signOutLabel()
	return r
}

func (r sessionRow) where() string {
	if r.Location != "" {
		return r.Location
	}
	if r.MaskedIP != "" {
		return r.MaskedIP
	}
	return r.NoLocation
}

func (r sessionRow) signOutLabel() string {
	l := "Sign out " + r.Device + ", " + r.where()
	if r.Suffix != "" {
		l += " (" + r.Suffix + ")"
	}
	return l
}

// distinguish gives rows that would read the same a short suffix from
// their id, so a person can tell which one they are signing out.
func distinguish(rows []sessionRow) {
	seen := map[string]int{}
	for _, r := range rows {
		seen[r.Device+"|"+r.where()]++
	}
	for i := range rows {
		if seen[rows[i].Device+"|"+rows[i].where()] > 1 {
			rows[i].Suffix = "session " + rows[i].ID[:4]
			rows[i].SignOutLabel = rows[i].signOutLabel()
		}
	}
}
