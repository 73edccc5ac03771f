package handlers

import (
	"bytes"
	"errors"
	"math/rand/v2"
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

const eventsURL = "/events"

// Stream timing. The heartbeat keeps proxies from timing an idle stream
// out and finds dead peers: a write that fails or stalls for writeStall
// ends the stream.
const (
	defaultHeartbeat  = 25 * time.Second
	defaultWriteStall = 10 * time.Second
)

// Reconnect delays, in milliseconds, sent as the stream's retry field
// with jitter so that browsers do not all come back at the same instant.
const (
	retryNormal   = 2000 // after a dropped connection or a restart
	retryUserGone = 500  // after a password change: re-authenticate soon
	retryFull     = 30000
)

// jittered is base plus up to base more, in milliseconds.
func jittered(base int) int { return base + rand.IntN(base+1) }

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
		if _, _, err := h.store.PartnerUser(v.user.AccountID, id); err == nil {
			out = append(out, strings.Clone(id))
		}
	}
	return out
}

// viewer is who a stream shows the portal to.
type viewer struct {
	user    store.User
	session store.Session
	csrf    string
	loc     *time.Location
}

// viewer checks token without counting as activity: nil with the reason
// for a session that has ended (or none for no session).
func (h *handler) viewer(token string) (*viewer, store.Reason, error) {
	sess, user, reason, err := h.peek(token)
	if err != nil || reason != "" || sess.ID == "" {
		return nil, reason, err
	}
	return &viewer{user: user, session: sess, csrf: h.csrfToken(csrfSession, sess.ID), loc: zoneNamed(sess.TimeZone)}, "", nil
}

// peek checks token without counting as activity: its live session and
// user, or the reason it ended (none for no session at all: zero values).
func (h *handler) peek(token string) (store.Session, store.User, store.Reason, error) {
	if token == "" {
		return store.Session{}, store.User{}, "", nil
	}
	sess, user, err := h.store.Peek(token)
	var ended *store.EndedError
	switch {
	case errors.As(err, &ended):
		return store.Session{}, store.User{}, ended.Reason, nil
	case errors.Is(err, store.ErrNotFound):
		return store.Session{}, store.User{}, "", nil
	case err != nil:
		return store.Session{}, store.User{}, "", err
	case user.Disabled:
		return store.Session{}, store.User{}, store.ReasonUserDisabled, nil
	}
	return sess, user, "", nil
}

// responseHead is the status line and headers of the stream's response,
// with what the middleware set (security headers, request id). The body
// runs until the connection closes, so it has no length.
func responseHead(c *fiber.Ctx) []byte {
	var b bytes.Buffer
	b.WriteString("HTTP/1.1 200 OK\r\n")
	c.Response().Header.VisitAll(func(k, v []byte) {
		switch string(k) {
		case fiber.HeaderContentLength, fiber.HeaderConnection, fiber.HeaderTransferEncoding:
			return
		}
		b.Write(k)
		b.WriteString(": ")
		b.Write(v)
		b.WriteString("\r\n")
	})
	b.WriteString("Connection: close\r\n\r\n")
	return b.Bytes()
}

// endEvent tells the browser its session has ended: go to sign-in, with
// the reason.
func endEvent(reason store.Reason) []byte {
	var b []byte
	b = append(b, retryField(jittered(retryNormal))...)
	return appendEvent(b, "end", []byte(signInURL(reason)))
}

func retryField(ms int) string { return "retry: " + strconv.Itoa(ms) + "\n\n" }

// appendID appends an id-only block: the browser's Last-Event-ID, what it
// has seen up to, in server milliseconds. It dispatches no event.
func appendID(b []byte, now time.Time) []byte {
	b = append(b, "id: "...)
	b = strconv.AppendInt(b, now.UnixMilli(), 10)
	return append(b, "\n\n"...)
}

// appendEvent appends one server-sent event: each line of data on its own
// data field, so fragments keep their newlines.
func appendEvent(b []byte, name string, data []byte) []byte {
	b = append(b, "event: "...)
	b = append(b, name...)
	b = append(b, '\n')
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		b = append(b, "data: "...)
		b = append(b, bytes.TrimSuffix(line, []byte("\r"))...)
		b = append(b, '\n')
	}
	return append(b, '\n')
}
