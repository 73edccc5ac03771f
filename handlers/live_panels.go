package handlers

import (
	"errors"
	"slices"
	"time"

	"portal/store"
)

// Part of the live-update plumbing: live.go says where each piece is.

// panel is one user's sessions as a page shows them: the stream's own
// user's Active Sessions (and notices), or a client user's sessions on a
// partner's console page. The stream sends what changed against it.
type panel struct {
	userID string
	// shown is the live sessions as last sent, by id, with when each would
	// expire if unused; nil until the first read.
	shown map[string]time.Time
}

// changes reads what started and ended since the panel was last sent
// (since the page's time, the first time) and remembers list as sent.
func (ls *liveStream) changes(p *panel, list []store.Session, skip string) (added, ended []store.Session, err error) {
	first := p.shown == nil
	prev := p.shown
	p.shown = make(map[string]time.Time, len(list))
	policy := ls.h.db.Policy()
	for _, s := range list {
		p.shown[s.ID] = s.ExpiresAt(policy)
	}
	if first {
		if ls.since.IsZero() {
			return nil, nil, nil
		}
		for _, s := range list {
			if s.CreatedAt.After(ls.since) && s.ID != skip {
				added = append(added, s)
			}
		}
		ended, err = ls.h.sessions.SessionsEndedSince(p.userID, ls.since)
		return added, ended, err
	}
	for _, s := range list {
		if _, ok := prev[s.ID]; !ok && s.ID != skip {
			added = append(added, s)
		}
	}
	var gone []string
	for id := range prev {
		if _, ok := p.shown[id]; !ok {
			gone = append(gone, id)
		}
	}
	slices.Sort(gone)
	for _, id := range gone {
		s, err := ls.h.sessions.UserSession(p.userID, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
			continue // swept meanwhile
		case err != nil:
			return nil, nil, err
		}
		ended = append(ended, s)
	}
	return added, ended, nil
}

// liveRows is what changed in a user's sessions as the page's rows and
// controls show it, for partials/live_sessions.
type liveRows struct {
	Ended      []sessionRow // each marked to replace its row
	Added      []sessionRow
	AddAt      string // hx-swap-oob for the added rows
	Sessions   *sessionList
	Everywhere *everywhereControl
	Announce   string
}

// fill turns added and ended into rows, taking added rows from all (so
// they read as the page's would) and marking ended ones signed out.
func (ls *liveStream) fill(u *liveRows, all []sessionRow, added, ended []store.Session, base string) {
	now := ls.h.now()
	for _, s := range ended {
		if done, _ := s.Ended(now, ls.h.db.Policy()); !done {
			continue // gone from the list but live: only if the clock went back
		}
		// No form on an ended row, so no token: every page of the user
		// shares one rendering of it in the partial cache.
		row := ls.h.row(s, false, "", now, ls.v.loc)
		row.SignOutBase, row.OOB = base, "true"
		u.Ended = append(u.Ended, row)
		u.Announce = endedAnnouncement(row)
	}
	for _, r := range all {
		if slices.ContainsFunc(added, func(s store.Session) bool { return s.ID == r.ID }) {
			u.Added = append(u.Added, r)
			u.Announce = newSignInAnnouncement(r)
		}
	}
	if len(u.Ended)+len(u.Added) > 1 {
		u.Announce = sessionsChanged(len(u.Ended), len(u.Added))
	}
}

// refreshOwn sends what changed in the stream's own user's sessions: a
// notice per new sign-in (every role), and for customers the Active
// Sessions rows that ended or started, with the count "Sign out all other
// devices" shows and a sentence for screen readers. The page ignores rows
// it already shows as they are (see app.js).
func (ls *liveStream) refreshOwn() error {
	if ls.own == nil {
		ls.own = &panel{userID: ls.v.user.ID}
	}
	list, err := ls.h.sessions.ListUserSessions(ls.v.user.ID)
	if err != nil {
		return err
	}
	added, ended, err := ls.changes(ls.own, list, ls.v.session.ID)
	if err != nil || len(added)+len(ended) == 0 {
		return err
	}
	for _, s := range added {
		ls.render("notice", "partials/live_notice", ls.h.newSignInNotice(ls.v, s))
	}
	if !ls.v.user.Role.IsCustomer() {
		return nil
	}
	// Rows are built only for sessions to add (all of them, for the
	// suffixes that tell alike rows apart); the count needs none.
	var sessions *sessionList
	if len(added) > 0 {
		sessions = ls.h.sessionListOf(list, ls.v.session.ID, ls.v.csrf, ls.v.loc)
	} else {
		others := max(len(list)-1, 0)
		sessions = &sessionList{Others: others, OthersSentence: willSignOutOthers(others), CSRF: ls.v.csrf}
	}
	u := liveRows{Sessions: sessions, AddAt: "afterend:#session-" + ls.v.session.ID}
	ls.fill(&u, sessions.Rows, added, ended, activeSessionsBase)
	ls.render("sessions", "partials/live_sessions", u)
	return nil
}

// refreshWatched sends what changed in a client user's sessions to the
// partner's console page. It reports false once the user is no longer the
// partner's to see (the store checks the scope on every read).
func (ls *liveStream) refreshWatched(p *panel) (bool, error) {
	u, _, list, err := ls.h.partners.PartnerUserSessions(ls.v.user.AccountID, p.userID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	case err != nil:
		return false, err
	}
	added, ended, err := ls.changes(p, list, "")
	if err != nil || len(added)+len(ended) == 0 {
		return true, err
	}
	rows, live := ls.h.partnerRows(u.ID, list, ls.v.csrf, ls.v.loc)
	everywhere := newEverywhereControl(u, live, ls.v.csrf)
	lr := liveRows{Everywhere: &everywhere, AddAt: "afterbegin:#session-rows"}
	ls.fill(&lr, rows, added, ended, partnerSessionsBase(u.ID))
	ls.render("watch", "partials/live_sessions", lr)
	return true, nil
}

// signInNotice is the notice a new sign-in raises on the user's other
// open pages.
type signInNotice struct {
	ID, CSRF, Device, Where, When string
	CanSignOut                    bool // customers sign sessions out; partners have no Active Sessions
}

func (h *handler) newSignInNotice(v *viewer, s store.Session) signInNotice {
	r := h.row(s, false, v.csrf, h.now(), v.loc)
	return signInNotice{ID: s.ID, CSRF: v.csrf, Device: r.Device, Where: r.where(), When: r.Created.Relative,
		CanSignOut: v.user.Role.IsCustomer()}
}
