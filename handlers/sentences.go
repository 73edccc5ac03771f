package handlers

import "strconv"

// plural is n and unit, with an s on the unit unless n is 1, then rest:
// plural(3, "minute", " ago") is "3 minutes ago", built as one string.
func plural(n int, unit, rest string) string {
	if n == 1 {
		return "1 " + unit + rest
	}
	return strconv.Itoa(n) + " " + unit + "s" + rest
}

// What the pages say about signing sessions out, each sentence once.

// signedOutOne is the flash after a session was signed out without htmx.
const signedOutOne = "The session was signed out."

// signedOutSession announces that one session, described as its row
// reads, was signed out.
func signedOutSession(device, where string) string {
	return "Signed out " + device + ", " + where + "."
}

// willSignOutOthers is what signing out every other session will do.
func willSignOutOthers(n int) string {
	return "This signs out " + plural(n, "other session", ".")
}

// signedOutOthers is what signing out every other session did.
func signedOutOthers(n int) string {
	if n == 0 {
		return "There were no other sessions to sign out."
	}
	return "Signed out " + plural(n, "other session", ".")
}

// willSignOutEverywhere is what a partner's Sign out everywhere will do
// to the n live sessions of the user name.
func willSignOutEverywhere(n int, name string) string {
	return "This signs " + name + " out of " + plural(n, "session", "") + ". They will need to sign in again on every device."
}

// signedOutEverywhere is what a partner's Sign out everywhere did.
func signedOutEverywhere(n int) string {
	if n == 0 {
		return "There were no sessions to sign out."
	}
	return "Signed out " + plural(n, "session", ".")
}

// passwordChanged is the flash after a password change that signed out n
// other sessions.
func passwordChanged(n int) string {
	if n == 0 {
		return "Your password was changed."
	}
	return "Your password was changed. " + signedOutOthers(n)
}

// endedAnnouncement tells a screen reader that a live update marked a
// session's row signed out or expired.
func endedAnnouncement(r sessionRow) string {
	if r.EndedText == "Expired" {
		return "Session expired: " + r.Device + ", " + r.where() + "."
	}
	return signedOutSession(r.Device, r.where())
}

// newSignInAnnouncement tells a screen reader that a live update added a
// session's row.
func newSignInAnnouncement(r sessionRow) string {
	return "New sign-in: " + r.Device + ", " + r.where() + "."
}

// sessionsChanged sums up a live update that changed several rows.
func sessionsChanged(ended, added int) string {
	switch {
	case added == 0:
		return plural(ended, "session", " ended.")
	case ended == 0:
		return plural(added, "new sign-in", ".")
	}
	return plural(ended, "session", " ended") + " and " + plural(added, "new sign-in", ".")
}
