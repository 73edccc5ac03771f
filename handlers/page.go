package handlers

import (
	"encoding/json"

	"github.com/gofiber/fiber/v2"

	"portal/store"
)

// page is the data every template gets. Everything a template shows is
// computed before rendering, so templates hold no logic and no lookups.
type page struct {
	Title string
	User  *userView
	CSRF  string
	Flash string
	Demo  bool

	// Settings
	Section  string
	Nav      sidebar
	Sessions *sessionsView
	Password passwordView

	// Sign-in
	Email, Error, Reason string
	DemoLogins           []DemoLogin
	DemoPassword         string

	// Error page
	Heading, Message, Back, BackText string
}

type userView struct {
	Name, Email, RoleLabel, AccountName string
}

type passwordView struct {
	Error string
}

// roleLabels are the names people see for each role.
var roleLabels = map[store.Role]string{
	store.RoleClientAdmin:   "Client Admin",
	store.RoleClientManager: "Client Manager",
	store.RoleClientStaff:   "Client Staff",
	store.RolePartnerAdmin:  "Partner Admin",
	store.RolePartnerStaff:  "Partner Staff",
}

// newPage fills what the layout needs for the caller, signed in or not.
func (h *Handler) newPage(c *fiber.Ctx, title string) *page {
	p := &page{Title: title, Demo: h.cfg.Demo}
	if a := authOf(c); a != nil {
		p.User = &userView{Name: a.User.Name, Email: a.User.Email, RoleLabel: roleLabels[a.User.Role]}
		p.CSRF = a.CSRF
	}
	return p
}

// HXHeaders is the hx-headers attribute of a signed-in page, which sends
// the CSRF token with every htmx request. Only full pages print it, so it
// is built when printed, not for every fragment.
func (p *page) HXHeaders() string {
	if p.CSRF == "" || p.User == nil {
		return ""
	}
	hdr, _ := json.Marshal(map[string]string{csrfHeader: p.CSRF})
	return string(hdr)
}

// announce names the result of an htmx action for the page's live region.
func announce(c *fiber.Ctx, msg string) {
	b, _ := json.Marshal(map[string]string{"announce": msg})
	c.Set(hxTrigger, string(b))
}

// RoleLabel is the name people see for a role.
func RoleLabel(r store.Role) string { return roleLabels[r] }
