package handlers

// The partner console, under /partner: a partner user's view of the client
// accounts its partner account manages, of their users, and of those
// users' sessions, which it may sign out. Every read and write goes
// through the store's partner calls, which check the target against the
// caller's partner account in the same transaction. Whatever is out of
// reach answers fiber.ErrNotFound, the same signed-in page as a path that
// does not exist, so a partner cannot tell another partner's ids from
// made-up ones.

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"portal/store"
)

const partnerURL = "/partner"

// Areas of the portal, for the header's navigation.
const (
	areaPartner  = "partner"
	areaSettings = "settings"
)

// isPartner reports whether r is one of the partner roles.
func isPartner(r store.Role) bool {
	return r == store.RolePartnerAdmin || r == store.RolePartnerStaff
}

// landing is where a signed-in user starts: partners in the console,
// customers in Settings.
func landing(r store.Role) string {
	if isPartner(r) {
		return partnerURL
	}
	return "/settings"
}

// partnerOnly hides the console from customer roles: they get the same
// 404 as for a page that does not exist, whatever the method.
func (h *handler) partnerOnly(c *fiber.Ctx) error {
	if a := authOf(c); a == nil || !isPartner(a.User.Role) {
		return fiber.ErrNotFound
	}
	return c.Next()
}

// partnerOf is the caller's partner account, the scope of every store call.
func partnerOf(c *fiber.Ctx) string { return authOf(c).User.AccountID }

// Where the console's pages are.
func partnerAccountURL(id string) string { return partnerURL + "/accounts/" + id }
func partnerUserURL(id string) string    { return partnerURL + "/users/" + id }
func partnerSessionsBase(userID string) string {
	return partnerUserURL(userID) + "/sessions/"
}
func partnerEverywhereURL(userID string) string {
	return partnerUserURL(userID) + "/sign-out-everywhere"
}

// The console's sidebar entries.
const (
	navClients = "clients"
	navUsers   = "users"
)

// partnerNav is the console's sidebar: which entry the page is (Current),
// or is under (Under, a client's or a user's page).
type partnerNav struct {
	Current, Under string
}

// partnerNavItem is a sidebar link; Current is its aria-current, if any.
type partnerNavItem struct {
	Title, Href, Current string
}

// Items lists the sidebar's links.
func (n partnerNav) Items() []partnerNavItem {
	items := []partnerNavItem{{Title: "Clients", Href: partnerURL}, {Title: "All users", Href: partnerURL + "/users"}}
	for i, slug := range []string{navClients, navUsers} {
		switch slug {
		case n.Current:
			items[i].Current = "page"
		case n.Under:
			items[i].Current = "true"
		}
	}
	return items
}

// partnerView is a page of the console: the sidebar and one page, whose
// template (views/partner/) shows Page.
type partnerView struct {
	Layout layoutView
	Nav    partnerNav
	Page   any
	page   string
}

// newPartnerView starts a console page; the caller fills Page.
func (h *handler) newPartnerView(c *fiber.Ctx, title string, nav partnerNav, page string) *partnerView {
	v := &partnerView{Layout: h.newLayout(c, title), Nav: nav, page: page}
	v.Layout.Area = areaPartner
	if !isHTMX(c) {
		v.Layout.Flash = h.takeFlash(c)
	}
	return v
}

// renderPartner sends the page alone to htmx, the whole page otherwise.
func (h *handler) renderPartner(c *fiber.Ctx, v *partnerView) error {
	if isHTMX(c) {
		return c.Render(v.page, v.Page, "")
	}
	return c.Render(v.page, v, "partner", defaultLayout)
}

// partnerPages are the templates rendered inside the console's sidebar.
var partnerPages = []string{pageClients, pageUsers, pageUser, pageConfirmEverywhere, pageConfirmTwoStepOff}

const (
	pageClients           = "partner/clients"
	pageUsers             = "partner/users"
	pageUser              = "partner/user"
	pageConfirmEverywhere = "partner/confirm_sign_out_everywhere"
	pageConfirmTwoStepOff = "partner/confirm_two_step_off"
)

// pathID is the id named name in the path, or a 404 when it cannot be one.
// The result is a copy, safe to keep.
func pathID(c *fiber.Ctx, name string) (string, error) {
	id := c.Params(name)
	if !store.ValidID(id) {
		return "", fiber.ErrNotFound
	}
	return strings.Clone(id), nil
}

// Limits on the list pages' query.
const (
	maxSearchLen  = 100
	maxPageDigits = 6
)

var (
	errSearchTooLong = &userError{status: fiber.StatusBadRequest,
		message: "The search term is too long. Use at most " + strconv.Itoa(maxSearchLen) + " characters of the email or name."}
	errSearchNotText = &userError{status: fiber.StatusBadRequest, message: "The search term is not valid text. Type part of an email or name."}
	errBadPage       = &userError{status: fiber.StatusBadRequest, message: "The page number must be a whole number, 1 or more."}
)

// searchParam is the q of the query, trimmed, or a 400 with a sentence.
// It is shown back escaped and never logged.
func searchParam(c *fiber.Ctx) (string, error) {
	q := c.Query("q")
	switch {
	case len(q) > maxSearchLen:
		return "", errSearchTooLong
	case !utf8.ValidString(q):
		return "", errSearchNotText
	}
	return strings.TrimSpace(strings.Clone(q)), nil
}

// pageParam is the page of the query, 1 when absent, or a 400.
func pageParam(c *fiber.Ctx) (int, error) {
	raw := c.Query("page")
	if raw == "" {
		return 1, nil
	}
	if len(raw) > maxPageDigits || strings.Trim(raw, "0123456789") != "" {
		return 0, errBadPage
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 {
		return 0, errBadPage
	}
	return n, nil
}
