package handlers

import (
	"net/url"

	"portal/store"
)

// signInURL is the sign-in page, telling why the browser's session ended
// when there is a reason. Every redirect and live "end" event to sign-in
// is built here, so the reason is always escaped: it comes from the
// database, whose values this process does not control.
func signInURL(reason store.Reason) string {
	if reason == "" {
		return "/login"
	}
	return "/login?reason=" + url.QueryEscape(string(reason))
}
