package handlers

import (
	"net/url"

	"portal/store"
)

// Changes to two-step sign-in (turning it off, new recovery codes, and
// later factors) need the user to have signed in, or confirmed it was them
// ("Confirm it's you": the password, and a code for a two-step user),
// within Config.ReauthWindow. A sign-in with a recovery code does not
// count: it is the factor a thief of the phone would not have, not proof
// of the phone.

// confirmedRecently reports whether sess is within the window.
func (h *handler) confirmedRecently(sess store.Session) bool {
	at := sess.ConfirmedAt
	if sess.Auth != store.AuthPasswordRecovery && sess.CreatedAt.After(at) {
		at = sess.CreatedAt
	}
	return !at.IsZero() && h.now().Sub(at) < h.cfg.ReauthWindow
}

// confirmPath is the "Confirm it's you" page, sending the user on to next
// (a path of the portal's own) once they have.
const confirmPath = "/confirm"

// confirmURL is confirmPath with next.
func confirmURL(next string) string { return confirmPath + "?next=" + url.QueryEscape(next) }
