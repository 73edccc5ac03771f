package handlers

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"portal/store"
)

// userSessionsPage is a client user's live sessions as their partner sees
// them: the rows customers see, none of them current, each with Sign out,
// and Sign out everywhere.
type userSessionsPage struct {
	UserID, Name, Email, RoleLabel string
	Disabled                       bool
	Crumbs                         []crumb
	Rows                           []sessionRow
	Everywhere                     *everywhereControl
	TwoStep                        *userTwoStep // nil in fragments that do not show it
	Message                        string
	// Recent and Activity are the user's Recently signed out and security
	// activity, on the page itself; nil in fragments that do not show them.
	Recent   *recentList
	Activity *activityList
}

// userHead is the top of a user's page: the way back, who the user is
// and Sign out everywhere, as one plain value, rendered once per distinct
// value (see partialCache).
type userHead struct {
	Crumbs                 [2]crumb
	Name, Email, RoleLabel string
	Disabled               bool
	Everywhere             everywhereControl
}

// Head is the top of the page.
func (p *userSessionsPage) Head() userHead {
	h := userHead{Name: p.Name, Email: p.Email, RoleLabel: p.RoleLabel, Disabled: p.Disabled}
	copy(h.Crumbs[:], p.Crumbs)
	if p.Everywhere != nil {
		h.Everywhere = *p.Everywhere
	}
	return h
}

// everywhereControl is Sign out everywhere for one user: the button and
// its dialogue, or the sentence that there is nothing to sign out; and,
// without JavaScript, the confirmation page.
type everywhereControl struct {
	Name, Action, Back, Sentence, CSRF string
	Live                               int
}

// partnerUser serves GET /partner/users/:id?kind=…&page=N: the user's
// sessions, those recently signed out, and a page of their activity.
func (h *handler) partnerUser(c *fiber.Ctx) error {
	q, err := activityParams(c)
	if err != nil {
		return err
	}
	p, err := h.userSessionsAt(c)
	if err != nil {
		return err
	}
	if err := h.addUserActivity(c, p, q); err != nil {
		return err
	}
	v := h.newPartnerView(c, p.Name, partnerNav{Under: navClients}, pageUser)
	v.Page = p
	return h.renderPartner(c, v)
}

// userSessionsAt reads the page of the user the path names.
func (h *handler) userSessionsAt(c *fiber.Ctx) (*userSessionsPage, error) {
	id, err := pathID(c, "id")
	if err != nil {
		return nil, err
	}
	return h.userSessions(c, id)
}

// Caption describes the sessions table to screen readers.
func (p *userSessionsPage) Caption() string {
	return "Sessions signed in to this user's account, most recently active first"
}

// userSessions reads the page of the user id, if the caller's partner
// manages the user's account; store.ErrNotFound otherwise.
func (h *handler) userSessions(c *fiber.Ctx, id string) (*userSessionsPage, error) {
	a := authOf(c)
	u, acct, list, err := h.partners.PartnerUserSessions(partnerOf(c), id)
	if err != nil {
		return nil, err
	}
	p := &userSessionsPage{
		UserID: u.ID, Name: u.Name, Email: u.Email, RoleLabel: u.Role.Label(), Disabled: u.Disabled,
		Crumbs: []crumb{clientsCrumb, {Title: acct.Name, Href: partnerAccountURL(acct.ID)}},
	}
	var live int
	p.Rows, live = h.partnerRows(u.ID, list, a.CSRF, zoneOf(c))
	everywhere := newEverywhereControl(u, live, a.CSRF)
	p.Everywhere = &everywhere
	on, err := h.twoStepOn(u.ID)
	if err != nil {
		return nil, err
	}
	pks, err := h.passkeys.Passkeys(u.ID)
	if err != nil {
		return nil, err
	}
	p.TwoStep = &userTwoStep{On: on, Passkeys: len(pks), TurnOff: partnerTwoStepOffURL(u.ID)}
	return p, nil
}

// partnerRows are a client user's sessions as the console shows them,
// with how many are live: the page's, and live updates'.
func (h *handler) partnerRows(userID string, list []store.Session, csrf string, loc *time.Location) (rows []sessionRow, live int) {
	now, base := h.now(), partnerSessionsBase(userID)
	rows = make([]sessionRow, 0, len(list))
	for _, s := range list {
		r := h.row(s, false, csrf, now, loc)
		r.SignOutBase = base
		if !r.Ended {
			live++
		}
		rows = append(rows, r)
	}
	distinguish(rows)
	return rows, live
}

// newEverywhereControl is Sign out everywhere for u, who has live
// sessions: the page's, and live updates'.
func newEverywhereControl(u store.User, live int, csrf string) everywhereControl {
	return everywhereControl{
		Name: u.Name, Action: partnerEverywhereURL(u.ID), Back: partnerUserURL(u.ID),
		Sentence: willSignOutEverywhere(live, u.Name), CSRF: csrf, Live: live,
	}
}

// partnerNames is how the console names a client user's partner in the
// user's activity.
const partnerNames = "the AiDial partner"

// addUserActivity adds the user's Recently signed out and a page of their
// activity to p, which the caller's partner has been checked to manage:
// so the caller's partner is the user's, and its people the ones named.
// Entries link to the sessions on the page itself.
func (h *handler) addUserActivity(c *fiber.Ctx, p *userSessionsPage, q activityQuery) error {
	d := h.describer(c, p.UserID, partnerNames, partnerOf(c))
	base := partnerUserURL(p.UserID)
	var err error
	if p.Recent, err = h.recentlyEnded(c, p.UserID, d, activityURL(base, nil, []store.EventKind{store.EventEnded}, 1, activityAnchor)); err != nil {
		return err
	}
	p.Activity, err = h.activityPage(c, p.UserID, q, d, activityPlace{
		Action: base + activityAnchor, Links: &sessionLinks{},
		Link: func(kinds []store.EventKind, page int) string {
			return activityURL(base, nil, kinds, page, activityAnchor)
		},
	})
	return err
}

// activityAnchor is where the activity starts on the user's page.
const activityAnchor = "#security-activity"

// partnerRecentlyEnded is the user's Recently signed out alone.
func (h *handler) partnerRecentlyEnded(c *fiber.Ctx, userID string) (*recentList, error) {
	return h.recentlyEnded(c, userID, h.describer(c, userID, partnerNames, partnerOf(c)),
		activityURL(partnerUserURL(userID), nil, []store.EventKind{store.EventEnded}, 1, activityAnchor))
}
