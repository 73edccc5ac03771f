package handlers

import (
	"errors"
	"time"

	"portal/store"
)

// Part of the live-update plumbing: live.go says where each piece is.

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
	sess, user, err := h.sessions.Peek(token)
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
