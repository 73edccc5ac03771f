package handlers

import (
	"github.com/gofiber/fiber/v2"

	"portal/store"
)

// section is one page of Settings.
type section struct {
	Slug, Title, Group string
	CustomerOnly       bool
}

// sections in sidebar order. The first one a role may see is the default.
var sections = []section{
	{Slug: "profile", Title: "Profile", Group: "Account and security"},
	{Slug: "password", Title: "Password", Group: "Account and security"},
	{Slug: "active-sessions", Title: "Active Sessions", Group: "Account and security", CustomerOnly: true},
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

// settingsPage serves /settings?section=…; an htmx request gets the settings
// body alone, a full request the whole page.
func (h *Handler) settingsPage(c *fiber.Ctx) error {
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
	p, err := h.settingsData(c, sec.Slug)
	if err != nil {
		return err
	}
	return h.renderSettings(c, p)
}

// settingsData builds the page for one section.
func (h *Handler) settingsData(c *fiber.Ctx, slug string) (*page, error) {
	a := authOf(c)
	title := slug
	for _, sec := range sections {
		if sec.Slug == slug {
			title = sec.Title
		}
	}
	p := h.newPage(c, title)
	p.Section = slug
	navSlug := slug
	if slug == "confirm-sign-out-others" {
		navSlug = "active-sessions"
		p.Title = "Sign out all other devices"
	}
	p.Nav = sidebar{Customer: a.User.Role.IsCustomer(), Current: navSlug}
	if !isHTMX(c) {
		p.Flash = h.takeFlash(c)
	}
	switch slug {
	case "profile":
		acct, err := h.store.AccountByID(a.User.AccountID)
		if err != nil {
			return nil, err
		}
		p.User.AccountName = acct.Name
	case "active-sessions", "confirm-sign-out-others":
		v, err := h.sessionsView(c)
		if err != nil {
			return nil, err
		}
		p.Sessions = v
	}
	return p, nil
}

func (h *Handler) renderSettings(c *fiber.Ctx, p *page) error {
	if isHTMX(c) {
		return c.Render("partials/settings_body", p)
	}
	return c.Render("settings", p)
}
