package handlers

import (
	"bytes"
	"errors"
	"net"
	"slices"
	"time"

	"portal/live"
	"portal/store"
)

// liveStream is one open stream: the connection, taken over from the
// server, and what the page it serves has been shown.
type liveStream struct {
	h     *handler
	sub   *live.Stream
	conn  net.Conn
	token string // the session's cookie, kept only in this goroutine
	v     *viewer
	since time.Time // what the page has seen up to: catch up from here
	// shown is the user's live sessions as last sent, by id, with when
	// each would expire: the stream sends what changed against it.
	shown map[string]time.Time
	out   []byte
}

// run serves the stream until the session ends, the hub closes it, or a
// write fails or stalls. It owns conn (the server closes it when run
// returns) and must not panic: nothing above it would recover.
func (ls *liveStream) run(conn net.Conn, head []byte) {
	ls.conn = conn
	defer ls.sub.Close()
	defer func() {
		if r := recover(); r != nil {
			ls.h.log.Error("live stream failed", "panic", r, "user_id", ls.v.user.ID)
		}
	}()
	ls.out = append(ls.out[:0], head...)
	ls.out = append(ls.out, retryField(jittered(retryNormal))...)
	if ok := ls.refresh(nil); !ls.flush() || !ok {
		return
	}
	heartbeat := time.NewTicker(ls.h.heartbeat())
	defer heartbeat.Stop()
	expiry := time.NewTimer(ls.untilExpiry())
	defer expiry.Stop()
	for {
		ok := true
		select {
		case <-ls.sub.Wake():
			changes, all := ls.sub.Take()
			if all {
				changes = nil // re-read everything; the diff does not need them
			}
			ok = ls.refresh(changes)
		case <-expiry.C:
			ok = ls.refresh(nil)
		case <-heartbeat.C:
			// A comment, and the id: the browser reconnects from here.
			ls.out = append(ls.out, ": \n"...)
			ls.out = appendID(ls.out, ls.h.now())
		case <-ls.sub.Done():
			// Replaced by a newer stream, or shutting down: the browser
			// reconnects (to the next process, on shutdown) after a pause.
			ls.out = append(ls.out, retryField(jittered(retryNormal))...)
			ls.flush()
			return
		}
		if !ls.flush() || !ok {
			return
		}
		expiry.Reset(ls.untilExpiry())
	}
}

// flush writes what is queued, reporting false if the peer is gone or
// has stopped reading.
func (ls *liveStream) flush() bool {
	if len(ls.out) == 0 {
		return true
	}
	ls.conn.SetWriteDeadline(time.Now().Add(writeStall))
	_, err := ls.conn.Write(ls.out)
	ls.out = ls.out[:0]
	return err == nil
}

// refresh brings the page up to date after changes (or, with none, when a
// session may have expired): it re-checks the stream's own session and
// sends what changed in the user's sessions since the page last heard. It
// returns false once the stream must end.
func (ls *liveStream) refresh(changes []store.Change) bool {
	v, reason, err := ls.h.viewer(ls.token)
	switch {
	case err != nil:
		ls.h.log.Error("live stream: session check failed", "user_id", ls.v.user.ID, "err", err)
		return false
	case v == nil:
		ls.out = append(ls.out, endEvent(reason)...)
		return false
	}
	for _, ch := range changes {
		if ch.Kind == store.UserChanged && ch.UserID == ls.v.user.ID {
			// What was authorised before a password change or a disable
			// may not be now: the browser reconnects and is checked anew.
			ls.out = append(ls.out, retryField(jittered(retryUserGone))...)
			return false
		}
	}
	ls.v.session = v.session
	now := ls.h.now()
	list, err := ls.h.store.ListUserSessions(ls.v.user.ID)
	if err != nil {
		ls.h.log.Error("live stream: list sessions failed", "user_id", ls.v.user.ID, "err", err)
		return false
	}
	if ls.shown == nil {
		err = ls.catchUp(list)
	} else {
		err = ls.diff(list)
	}
	if err != nil {
		ls.h.log.Error("live stream: read sessions failed", "user_id", ls.v.user.ID, "err", err)
		return false
	}
	ls.out = appendID(ls.out, now)
	return true
}

// catchUp sends, on a new stream, what changed since the page last heard
// (since: its render time, or the id of the last event its browser got):
// the sessions that started or ended meanwhile.
func (ls *liveStream) catchUp(list []store.Session) error {
	ls.remember(list)
	if ls.since.IsZero() {
		return nil
	}
	var added []store.Session
	for _, s := range list {
		if s.CreatedAt.After(ls.since) && s.ID != ls.v.session.ID {
			added = append(added, s)
		}
	}
	ended, err := ls.h.store.SessionsEndedSince(ls.v.user.ID, ls.since)
	if err != nil {
		return err
	}
	ls.send(list, added, ended)
	return nil
}

// remember records list as shown, returning what was shown before.
func (ls *liveStream) remember(list []store.Session) map[string]time.Time {
	prev := ls.shown
	ls.shown = make(map[string]time.Time, len(list))
	policy := ls.h.store.Policy()
	for _, s := range list {
		ls.shown[s.ID] = s.ExpiresAt(policy)
	}
	return prev
}

// liveSessions is what changed in a user's sessions, as the page's rows
// and controls show it.
type liveSessions struct {
	Ended    []sessionRow // each marked to replace its row
	Added    []sessionRow
	AddAt    string // hx-swap-oob for the added rows
	Sessions *sessionList
	Announce string
}

// diff sends the sessions that ended or started since the last list.
func (ls *liveStream) diff(list []store.Session) error {
	prev := ls.remember(list)
	var endedIDs []string
	for id := range prev {
		if _, ok := ls.shown[id]; !ok {
			endedIDs = append(endedIDs, id)
		}
	}
	slices.Sort(endedIDs)
	var added, ended []store.Session
	for _, s := range list {
		if _, ok := prev[s.ID]; !ok && s.ID != ls.v.session.ID {
			added = append(added, s)
		}
	}
	for _, id := range endedIDs {
		s, err := ls.h.store.UserSession(ls.v.user.ID, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
			continue // swept meanwhile
		case err != nil:
			return err
		}
		ended = append(ended, s)
	}
	ls.send(list, added, ended)
	return nil
}

// send queues what changed: a notice per new sign-in (every role), and
// for customers the rows that ended or started, with the count that
// "Sign out all other devices" shows and a sentence for screen readers.
// The page ignores rows it already shows as they are (see app.js).
func (ls *liveStream) send(list, added, ended []store.Session) {
	if len(added) == 0 && len(ended) == 0 {
		return
	}
	for _, s := range added {
		ls.render("notice", "partials/live_notice", ls.h.newSignInNotice(ls.v, s))
	}
	if !ls.v.user.Role.IsCustomer() {
		return
	}
	all := ls.h.sessionListOf(list, ls.v.session.ID, ls.v.csrf, ls.v.loc)
	u := liveSessions{Sessions: all, AddAt: "afterend:#session-" + ls.v.session.ID}
	now := ls.h.now()
	for _, s := range ended {
		if done, _ := s.Ended(now, ls.h.store.Policy()); !done {
			continue // gone from the list but live: only if the clock went back
		}
		row := ls.h.row(s, false, ls.v.csrf, now, ls.v.loc)
		row.OOB = "true"
		u.Ended = append(u.Ended, row)
		u.Announce = endedAnnouncement(row)
	}
	isAdded := make(map[string]bool, len(added))
	for _, s := range added {
		isAdded[s.ID] = true
	}
	for _, r := range all.Rows {
		if isAdded[r.ID] {
			u.Added = append(u.Added, r)
			u.Announce = newSignInAnnouncement(r)
		}
	}
	if len(u.Ended)+len(u.Added) > 1 {
		u.Announce = sessionsChanged(len(u.Ended), len(u.Added))
	}
	ls.render("sessions", "partials/live_sessions", u)
}

// untilExpiry is how long until the next shown session (the stream's own
// included) would expire if unused, when the stream looks again.
func (ls *liveStream) untilExpiry() time.Duration {
	next := ls.v.session.ExpiresAt(ls.h.store.Policy())
	for _, at := range ls.shown {
		if !at.IsZero() && (next.IsZero() || at.Before(next)) {
			next = at
		}
	}
	if next.IsZero() {
		return 24 * time.Hour
	}
	// A little after the instant, so the check sees it expired; never a
	// busy loop if the clock disagrees.
	return max(next.Sub(ls.h.now())+50*time.Millisecond, 50*time.Millisecond)
}

// render queues template name, rendered with data, as event.
func (ls *liveStream) render(event, name string, data any) {
	var b bytes.Buffer
	if err := ls.h.views.Render(&b, name, data); err != nil {
		ls.h.log.Error("live stream: render failed", "template", name, "err", err)
		return
	}
	ls.out = appendEvent(ls.out, event, bytes.TrimSpace(b.Bytes()))
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
