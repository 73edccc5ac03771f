package handlers

import (
	"github.com/gofiber/fiber/v2"

	"portal/store"
)

// section is one page of Settings: its sidebar entry, the partial that
// shows it inside views/settings.html, and what that partial shows. Adding
// a section is one entry in sections and one partial.
type section struct {
	Slug, Title, Group string
	CustomerOnly       bool
	partial            string
	data               func(h *handler, c *fiber.Ctx) (any, error)
}

const accountAndSecurity = "Account and security"

// sections in sidebar order. The first one a role may see is the default.
var sections = []section{
	{Slug: "profile", Title: "Profile", Group: accountAndSecurity,
		partial: "partials/profile", data: (*handler).profile},
	{Slug: "password", Title: "Password", Group: accountAndSecurity,
		partial: "partials/password", data: (*handler).passwordForm},
	{Slug: twoStepSlug, Title: "Two-step sign-in", Group: accountAndSecurity,
		partial: "partials/two_step", data: (*handler).twoStepSection},
	{Slug: "active-sessions", Title: "Active Sessions", Group: accountAndSecurity, CustomerOnly: true,
		partial: "partials/active_sessions", data: (*handler).activeSessions},
	{Slug: securityActivitySlug, Title: "Security activity", Group: accountAndSecurity,
		partial: "partials/security_activity", data: (*handler).securityActivity},
}

// confirmSignOutOthers is the Active Sessions page that asks before
// signing out every other session, for browsers without JavaScript.
const confirmSignOutOthers = "partials/confirm_sign_out_others"

// settingsPartials are the partials a Settings page may show.
func settingsPartials() []string {
	ps := append([]string{confirmSignOutOthers}, twoStepPartials...)
	for _, s := range sections {
		ps = append(ps, s.partial)
	}
	return ps
}

// legacySections are old slugs that still resolve, mapped to the canonical
// ones.
var legacySections = map[string]string{
	"session-management": "active-sessions",
}

const activeSessionsURL = "/settings?section=active-sessions"

// maxSectionLen bounds the section parameter; real slugs are far shorter.
const maxSectionLen = 64

// resolveSection finds the section a role asked for. raw "" means the
// default. canonical is set when raw was a legacy alias. ok is false for
// unknown slugs and for sections the role may not see, which look the same
// to the caller.
func resolveSection(raw string, role store.Role) (s section, canonical bool, ok bool) {
	if len(raw) > maxSectionLen {
		return section{}, false, false
	}
	slug, legacy := legacySections[raw]
	if !legacy {
		slug = raw
	}
	for _, sec := range sections {
		if sec.CustomerOnly && !role.IsCustomer() {
			continue
		}
		if slug == "" || sec.Slug == slug {
			return sec, !legacy, true
		}
	}
	return section{}, false, false
}

// sectionNamed is the section with this slug, which must exist.
func sectionNamed(slug string) section {
	for _, s := range sections {
		if s.Slug == slug {
			return s
		}
	}
	panic("handlers: no settings section " + slug)
}

// sidebar is what the settings sidebar shows. It is a plain value, so the
// rendered sidebar is cached by it (see partialCache).
type sidebar struct {
	Customer bool
	Current  string
}

type navGroup struct {
	Title string
	Items []navItem
}

type navItem struct {
	Title, Href string
	Current     bool
}

// Groups lists the sections the sidebar links to, under their headings.
func (s sidebar) Groups() []navGroup {
	var groups []navGroup
	for _, sec := range sections {
		if sec.CustomerOnly && !s.Customer {
			continue
		}
		if len(groups) == 0 || groups[len(groups)-1].Title != sec.Group {
			groups = append(groups, navGroup{Title: sec.Group})
		}
		g := &groups[len(groups)-1]
		g.Items = append(g.Items, navItem{Title: sec.Title, Href: "/settings?section=" + sec.Slug, Current: sec.Slug == s.Current})
	}
	return groups
}

// settingsView is a Settings page: the sidebar and one section, whose
// partial shows Section.
type settingsView struct {
	Layout  layoutView
	Nav     sidebar
	Section any
	partial string
}

// newSettingsView starts the page of section s; the caller fills Section.
func (h *handler) newSettingsView(c *fiber.Ctx, s section) *settingsView {
	v := &settingsView{
		Layout:  h.newLayout(c, s.Title),
		Nav:     sidebar{Customer: authOf(c).User.Role.IsCustomer(), Current: s.Slug},
		partial: s.partial,
	}
	v.Layout.Area = areaSettings
	if !isHTMX(c) {
		v.Layout.Flash = h.takeFlash(c)
	}
	return v
}

// settingsPage serves /settings?section=…; an htmx request gets the settings
// body alone, a full request the whole page.
func (h *handler) settingsPage(c *fiber.Ctx) error {
	a := authOf(c)
	sec, canonical, ok := resolveSection(c.Query("section"), a.User.Role)
	if !ok {
		return fiber.ErrNotFound
	}
	url := "/settings?section=" + sec.Slug
	if !canonical {
		if !isHTMX(c) {
			return c.Redirect(url, fiber.StatusMovedPermanently)
		}
		// htmx: answer with the canonical content and put the canonical
		// URL in the address bar, in one round trip.
		c.Set(hxPushURL, url)
	}
	v := h.newSettingsView(c, sec)
	var err error
	if v.Section, err = sec.data(h, c); err != nil {
		return err
	}
	return h.renderSettings(c, v)
}

// renderSettings sends the settings body to htmx, the whole page otherwise.
func (h *handler) renderSettings(c *fiber.Ctx, v *settingsView) error {
	if isHTMX(c) {
		return c.Render(v.partial, v, "settings")
	}
	return c.Render(v.partial, v, "settings", defaultLayout)
}

// profileView is the Profile section.
type profileView struct {
	Name, Email, RoleLabel, AccountName string
}

func (h *handler) profile(c *fiber.Ctx) (any, error) {
	u := authOf(c).User
	acct, err := h.accounts.AccountOf(u)
	if err != nil {
		return nil, err
	}
	return &profileView{Name: u.Name, Email: u.Email, RoleLabel: u.Role.Label(), AccountName: acct.Name}, nil
}

// passwordView is the Password section's form.
type passwordView struct {
	CSRF, Error string
	NeedCode    bool // asks for a code from the app too
}

func (h *handler) passwordForm(c *fiber.Ctx) (any, error) {
	a := authOf(c)
	_, need, err := h.passwordNeedsCode(a)
	return &passwordView{CSRF: a.CSRF, NeedCode: need}, err
}

// activeSessions is the caller's live sessions and, under them, those
// recently signed out.
func (h *handler) activeSessions(c *fiber.Ctx) (any, error) {
	v, err := h.listSessions(c)
	if err != nil {
		return nil, err
	}
	v.Recent, err = h.ownRecentlyEnded(c)
	return v, err
}
