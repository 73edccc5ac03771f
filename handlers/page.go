package handlers

import (
	"encoding/json"

	"github.com/gofiber/fiber/v2"
)

// Every page has a view: a small struct holding everything its template
// shows, computed before rendering, so templates hold no logic and no
// lookups. Each has a Layout field, what the layout shows around the page.
// (A named field, not an embedded one: html/template finds a promoted
// field by a slow search that allocates, on every use.)

// layoutView is what views/layout.html shows around every page.
type layoutView struct {
	Title string
	Demo  bool
	User  *signedIn // nil when nobody is signed in
	Flash string
	Area  string // areaPartner or areaSettings: the header link marked current
	// Passkeys loads static/passkeys.js: passkeys are on.
	Passkeys bool
}

// signedIn is who the top bar says is signed in, with the session's CSRF
// token for its Sign out form and for htmx requests.
type signedIn struct {
	Name, RoleLabel, CSRF string
	Partner               bool  // the header links to the partner console
	Live                  bool  // the page opens the live-updates stream
	Since                 int64 // when the page was rendered (ms): its stream catches up from here
}

// newLayout fills the layout for the caller, signed in or not.
func (h *handler) newLayout(c *fiber.Ctx, title string) layoutView {
	l := layoutView{Title: title, Demo: h.cfg.Demo, Passkeys: h.rp != nil}
	if a := authOf(c); a != nil {
		l.User = &signedIn{Name: a.User.Name, RoleLabel: a.User.Role.Label(), CSRF: a.CSRF, Partner: isPartner(a.User.Role),
			Live: h.cfg.Live != nil, Since: h.now().UnixMilli()}
	}
	return l
}

// HXHeaders is the hx-headers attribute of a signed-in page, which sends
// the CSRF token with every htmx request. Only full pages print it, so it
// is built when printed, not for every fragment.
func (u *signedIn) HXHeaders() string {
	hdr, _ := json.Marshal(map[string]string{csrfHeader: u.CSRF})
	return string(hdr)
}

// announce names the result of an htmx action for the page's live region.
func announce(c *fiber.Ctx, msg string) {
	b, _ := json.Marshal(map[string]string{"announce": msg})
	c.Set(hxTrigger, string(b))
}
