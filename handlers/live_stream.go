package handlers

import (
	"bytes"
	"net"
	"time"

	"portal/live"
	"portal/store"
)

// Part of the live-update plumbing: live.go says where each piece is.

// liveStream is one open stream: the connection, taken over from the
// server, and what the page it serves has been shown.
type liveStream struct {
	h     *handler
	sub   *live.Stream
	conn  net.Conn
	token string // the session's cookie, kept only in this goroutine
	v     *viewer
	since time.Time // what the page has seen up to: catch up from here
	// synced is when the last refresh began: everything committed before
	// it has been sent, so it is what the browser may resume from.
	synced time.Time
	own    *panel // the stream's own user's sessions
	// watched are the client users whose sessions a partner's page shows
	// (the console's user page), each checked against the partner's scope
	// whenever it is read.
	watched []*panel
	out     []byte
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
	if ok := ls.refresh(nil, true); !ls.flush() || !ok {
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
			ok = ls.refresh(changes, all)
		case <-expiry.C:
			ok = ls.refresh(nil, true)
		case <-heartbeat.C:
			// A comment, and the id: the browser reconnects from here.
			ls.out = append(ls.out, ": \n"...)
			ls.out = appendID(ls.out, ls.synced)
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
	ls.conn.SetWriteDeadline(time.Now().Add(ls.h.writeStall()))
	_, err := ls.conn.Write(ls.out)
	ls.out = ls.out[:0]
	return err == nil
}

// refresh brings the page up to date after changes (or, with none, when a
// session may have expired): it re-checks the stream's own session and
// sends what changed in the sessions the page shows since it last heard.
// all re-reads every panel, not only those of users named in changes. It
// returns false once the stream must end.
func (ls *liveStream) refresh(changes []store.Change, all bool) bool {
	start := ls.h.now()
	sess, _, reason, err := ls.h.peek(ls.token)
	switch {
	case err != nil:
		ls.h.log.Error("live stream: session check failed", "user_id", ls.v.user.ID, "err", err)
		return false
	case sess.ID == "":
		ls.out = append(ls.out, endEvent(reason)...)
		return false
	}
	changed := map[string]bool{}
	for _, ch := range changes {
		if ch.Kind == store.UserChanged && ch.UserID == ls.v.user.ID {
			// What was authorised before a password change or a disable
			// may not be now: the browser reconnects and is checked anew.
			ls.out = append(ls.out, retryField(jittered(retryUserGone))...)
			return false
		}
		changed[ch.UserID] = true
	}
	ls.v.session = sess
	if all || changed[ls.v.user.ID] {
		if err := ls.refreshOwn(); err != nil {
			ls.h.log.Error("live stream: read sessions failed", "user_id", ls.v.user.ID, "err", err)
			return false
		}
	}
	kept := ls.watched[:0]
	for _, p := range ls.watched {
		if all || changed[p.userID] {
			ok, err := ls.refreshWatched(p)
			if err != nil {
				ls.h.log.Error("live stream: read watched sessions failed", "user_id", ls.v.user.ID, "err", err)
				return false
			}
			if !ok {
				continue // no longer the partner's to see
			}
		}
		kept = append(kept, p)
	}
	ls.watched = kept
	// Only a full refresh has sent everything committed before it began.
	if all {
		ls.synced = start
	}
	ls.out = appendID(ls.out, ls.synced)
	return true
}

// untilExpiry is how long until the next shown session (the stream's own
// included) would expire if unused, when the stream looks again.
func (ls *liveStream) untilExpiry() time.Duration {
	next := ls.v.session.ExpiresAt(ls.h.db.Policy())
	for _, p := range append([]*panel{ls.own}, ls.watched...) {
		if p == nil {
			continue
		}
		for _, at := range p.shown {
			if !at.IsZero() && (next.IsZero() || at.Before(next)) {
				next = at
			}
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
