package handlers

import (
	"errors"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"portal/live"
	"portal/store"
)

// Live updates: every signed-in page opens one server-sent-events stream
// (tabs of one browser share it, static/app.js), authenticated by the
// session cookie. The stream carries rendered fragments and the address
// to go to when the session ends; never a token or a full address.
//
// The plumbing, one file per job:
//
//   - live.go: opening a stream (GET /events): who may, what it follows,
//     from when it catches up, and its timing;
//   - live_viewer.go: who a stream is for, checked without counting as
//     activity;
//   - live_stream.go: one open stream's loop: waking on changes, expiries
//     and heartbeats, re-checking its session, writing;
//   - live_panels.go: what a stream sends: the sessions a page shows
//     (its own user's, or a partner's client user's), as rows and notices;
//   - live_wire.go: the server-sent-events format, the response head and
//     the reconnect delays;
//   - live_conn_linux.go: the stream's socket: a small send buffer and a
//     bound on unacknowledged bytes, so slow and vanished peers are let go.
//
// The hub that wakes streams is package live; the store publishes to it.

const eventsURL = "/events"

// Stream timing. The heartbeat keeps proxies from timing an idle stream
// out and finds dead peers: a write that fails or stalls for writeStall
// ends the stream, and so does the kernel once a heartbeat's bytes have
// gone unacknowledged for most of another heartbeat (unacked).
const (
	defaultHeartbeat  = 25 * time.Second
	defaultWriteStall = 10 * time.Second
)

// liveSendBuffer is the socket send buffer of a stream's connection: what
// the server holds for a peer that has stopped reading before a write
// stalls (the kernel doubles it, for its bookkeeping). Events are a few
// kilobytes, so a reading browser never waits on it for long.
const liveSendBuffer = 16 << 10

// unacked is how long a stream's bytes may wait unacknowledged (or
// behind a shut window) before the kernel drops the connection. The first
// heartbeat written after a peer vanishes goes unacknowledged; at four
// fifths of a heartbeat the kernel gives up on it before the next
// heartbeat, whose write then fails: the stream ends within two heartbeats
// of the peer going. Never under a second, so short test heartbeats do not
// trip over a busy machine.
func (h *handler) unacked() time.Duration { return max(h.heartbeat()*4/5, time.Second) }

func (h *handler) writeStall() time.Duration {
	if h.cfg.LiveWriteStall > 0 {
		return h.cfg.LiveWriteStall
	}
	return defaultWriteStall
}

func (h *handler) heartbeat() time.Duration {
	if h.cfg.LiveHeartbeat > 0 {
		return h.cfg.LiveHeartbeat
	}
	return defaultHeartbeat
}

// liveEvents opens the caller's stream. It does not count as activity: it
// checks the session with Peek, so a page left open does not keep its
// session alive. A browser whose session has ended gets one "end" event
// naming the sign-in page; a full hub asks it to come back later.
func (h *handler) liveEvents(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set("X-Accel-Buffering", "no")
	c.Set(fiber.HeaderContentType, "text/event-stream; charset=utf-8")
	if site := c.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		return fiber.ErrForbidden
	}
	token := strings.Clone(c.Cookies(h.sessionCookieName(c)))
	v, reason, err := h.viewer(token)
	switch {
	case err != nil:
		return err
	case v == nil:
		if token != "" {
			h.clearSessionCookie(c)
		}
		return c.Send(endEvent(reason))
	}
	watch := h.liveWatch(v, c.Query("watch"))
	sub, err := h.cfg.Live.Open(v.user.ID, v.session.ID, watch)
	if errors.Is(err, live.ErrFull) || errors.Is(err, live.ErrClosed) {
		return c.SendString(retryField(jittered(retryFull)))
	}
	if err != nil {
		return err
	}
	ls := &liveStream{h: h, sub: sub, token: token, v: v, since: h.liveSince(c)}
	for _, id := range watch {
		ls.watched = append(ls.watched, &panel{userID: id})
	}
	head := responseHead(c)
	if err := tuneLiveConn(c.Context().Conn(), h.unacked()); err != nil {
		// The stream still works; only slow and vanished peers are
		// dropped later (by a stalled write, or by TCP itself).
		h.log.Warn("live stream: socket options not set", "err", err)
	}
	c.Context().HijackSetNoResponse(true)
	c.Context().Hijack(func(conn net.Conn) { ls.run(conn, head) })
	return nil
}

// maxCatchUp is how far back a new stream catches up; a page older than
// that has missed too much to patch and shows what it showed.
const maxCatchUp = time.Hour

// liveSince is what the page opening a stream has seen up to: the id of
// the last event its browser got (Last-Event-ID, on a reconnect) or the
// time the page was rendered (since, on the first connect), both in
// milliseconds of the server's clock. Zero for none or nonsense.
func (h *handler) liveSince(c *fiber.Ctx) time.Time {
	raw := c.Get("Last-Event-ID")
	if raw == "" {
		raw = c.Query("since")
	}
	ms, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || ms <= 0 || len(raw) > 16 {
		return time.Time{}
	}
	now := h.now()
	t := time.UnixMilli(ms)
	switch {
	case t.After(now):
		return now
	case now.Sub(t) > maxCatchUp:
		return now.Add(-maxCatchUp)
	}
	return t
}

// maxWatch bounds the client users one partner stream follows: the user
// pages open in one browser's tabs.
const maxWatch = 10

// liveWatch is the client users, of those raw names (comma-separated ids),
// whose sessions a partner's pages show and the stream should follow:
// only partner users follow anyone, and only users their partner manages
// (the store checks; the rest are dropped, as if not asked for).
func (h *handler) liveWatch(v *viewer, raw string) []string {
	if raw == "" || !isPartner(v.user.Role) || len(raw) > maxWatch*33 {
		return nil
	}
	var out []string
	for _, id := range strings.Split(raw, ",") {
		if len(out) == maxWatch || !store.ValidID(id) || slices.Contains(out, id) {
			continue
		}
		if _, _, err := h.partners.PartnerUser(v.user.AccountID, id); err == nil {
			out = append(out, strings.Clone(id))
		}
	}
	return out
}
