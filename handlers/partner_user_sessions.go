package handlers

import (
	"github.com/gofiber/fiber/v2"
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
	Message                        string
}

// everywhereControl is Sign out everywhere for one user: the button and
// its dialogue, or the sentence that there is nothing to sign out; and,
// without JavaScript, the confirmation page.
type everywhereControl struct {
	Name, Action, Back, Sentence, CSRF string
	Live                               int
}

// partnerUser serves GET /partner/users/:id.
func (h *Handler) partnerUser(c *fiber.Ctx) error {
	p, err := h.userSessionsAt(c)
	if err != nil {
		return err
	}
	v := h.newPartnerView(c, p.Name, partnerNav{Under: navClients}, pageUser)
	v.Page = p
	return h.renderPartner(c, v)
}

// userSessionsAt reads the page of the user the path names.
func (h *Handler) userSessionsAt(c *fiber.Ctx) (*userSessionsPage, error) {
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
func (h *Handler) userSessions(c *fiber.Ctx, id string) (*userSessionsPage, error) {
	a := authOf(c)
	u, acct, list, err := h.store.PartnerUserSessions(partnerOf(c), id)
	if err != nil {
		return nil, err
	}
	p := &userSessionsPage{
		UserID: u.ID, Name: u.Name, Email: u.Email, RoleLabel: u.Role.Label(), Disabled: u.Disabled,
		Crumbs: []crumb{clientsCrumb, {Title: acct.Name, Href: partnerAccountURL(acct.ID)}},
		Rows:   make([]sessionRow, 0, len(list)),
	}
	now, base := h.now(), partnerSessionsBase(u.ID)
	live := 0
	for _, s := range list {
		r := h.row(s, false, a.CSRF, now)
		r.SignOutBase = base
		if !r.Ended {
			live++
		}
		p.Rows = append(p.Rows, r)
	}
	distinguish(p.Rows)
	p.Everywhere = &everywhereControl{
		Name: u.Name, Action: partnerEverywhereURL(u.ID), Back: partnerUserURL(u.ID),
		Sentence: willSignOutEverywhere(live, u.Name), CSRF: a.CSRF, Live: live,
	}
	return p, nil
}
