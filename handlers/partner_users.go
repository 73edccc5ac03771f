package handlers

import (
	"net/url"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"portal/store"
)

// usersPage is a page of users: a search's results, every user of the
// partner's clients, or one client's users.
type usersPage struct {
	Heading     string
	Query       string // the search box's value; "" on a client's page
	Search      bool   // the page has the search box
	Summary     string
	Empty       string // said instead of the table when the page is empty
	Table       userTable
	ShowAccount bool // the table names each user's client
	Crumbs      []crumb
	Pager       pager
	// RequireTwoStep is the switch on a client's page; nil elsewhere.
	RequireTwoStep *requireTwoStepControl
}

// userItem is one user as a list shows them. It is a plain value, so the
// row's HTML is rendered once per distinct value and shared by every
// partner user who sees it (see partialCache).
type userItem struct {
	Name, Email, Href, RoleLabel string
	AccountName, AccountHref     string
	Disabled, ShowAccount        bool
	LiveSessions                 int
}

// userTable is a page's rows as one plain value (an array, not a slice),
// so the whole table body is rendered once per distinct page and shared
// by every partner user who sees it (see partialCache): one cache lookup
// instead of 50, each a reflective call from the template.
type userTable struct {
	Rows [store.PageSize]userItem
	N    int // rows in use
}

// crumb is a link on the way back up the console.
type crumb struct {
	Title, Href string
}

var clientsCrumb = crumb{Title: "Clients", Href: partnerURL}

// pager is a list's Previous and Next links, which keep the query.
type pager struct {
	Page, Pages int
	Prev, Next  string
}

// partnerUsers serves GET /partner/users?q=…&page=N: the users of every
// client whose email or name contains q (all of them without q).
func (h *handler) partnerUsers(c *fiber.Ctx) error {
	q, err := searchParam(c)
	if err != nil {
		return err
	}
	page, err := pageParam(c)
	if err != nil {
		return err
	}
	res, err := h.partners.PartnerUsers(partnerOf(c), store.UserQuery{Search: q, Page: page})
	if err != nil {
		return err
	}
	p := &usersPage{Heading: "All users", Query: q, Search: true, ShowAccount: true}
	switch {
	case q != "":
		p.Heading = "Users matching “" + q + "”"
		p.Summary = usersMatching(res.Total, q)
		if res.Total == 0 {
			p.Summary, p.Empty = "", "No user's email or name contains “"+q+"”. Try a shorter part of it."
		}
	case res.Total == 0:
		p.Empty = "Your clients have no users yet."
	default:
		p.Summary = plural(res.Total, "user", " across your clients.")
	}
	fillUsers(p, res, func(n int) string { return pageURL(partnerURL+"/users", q, n) })
	title := "All users"
	if q != "" {
		title = "Find a user"
	}
	v := h.newPartnerView(c, title, partnerNav{Current: navUsers}, pageUsers)
	v.Page = p
	return h.renderPartner(c, v)
}

// partnerAccount serves GET /partner/accounts/:id?page=N: one client's
// users.
func (h *handler) partnerAccount(c *fiber.Ctx) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	page, err := pageParam(c)
	if err != nil {
		return err
	}
	res, err := h.partners.PartnerUsers(partnerOf(c), store.UserQuery{AccountID: id, Page: page})
	if err != nil {
		return err // ErrNotFound for an account that is not the partner's
	}
	acct, err := h.clientAccount(c, id)
	if err != nil {
		return err
	}
	name := acct.Name
	p := &usersPage{Heading: name, Summary: plural(res.Total, "user", "."), Crumbs: []crumb{clientsCrumb},
		RequireTwoStep: &requireTwoStepControl{On: acct.RequireTwoStep, Action: partnerRequireTwoStepURL(id), CSRF: authOf(c).CSRF}}
	if res.Total == 0 {
		p.Summary, p.Empty = "", "This client has no users yet."
	}
	base := partnerAccountURL(id)
	fillUsers(p, res, func(n int) string { return pageURL(base, "", n) })
	v := h.newPartnerView(c, name, partnerNav{Under: navClients}, pageUsers)
	v.Page = p
	return h.renderPartner(c, v)
}

// fillUsers puts a page of users and its pager on p; link is the address
// of page n with the same query.
func fillUsers(p *usersPage, res store.UserPage, link func(n int) string) {
	p.Table.N = min(len(res.Users), len(p.Table.Rows))
	for i, u := range res.Users[:p.Table.N] {
		p.Table.Rows[i] = userItem{
			Name: u.Name, Email: u.Email, Href: partnerUserURL(u.ID), RoleLabel: u.Role.Label(),
			AccountName: u.AccountName, AccountHref: partnerAccountURL(u.AccountID),
			Disabled: u.Disabled, ShowAccount: p.ShowAccount, LiveSessions: u.LiveSessions,
		}
	}
	p.Pager = pager{Page: res.Page, Pages: res.Pages}
	if res.Page > 1 {
		p.Pager.Prev = link(min(res.Page-1, res.Pages))
	}
	if res.Page < res.Pages {
		p.Pager.Next = link(res.Page + 1)
	}
	if p.Table.N == 0 && p.Empty == "" {
		p.Empty = "There is no page " + strconv.Itoa(res.Page) + ". The last page is " + strconv.Itoa(res.Pages) + "."
	}
}

// pageURL is the address of page n of a list, with the search term.
func pageURL(base, q string, n int) string {
	v := url.Values{}
	if q != "" {
		v.Set("q", q)
	}
	if n > 1 {
		v.Set("page", strconv.Itoa(n))
	}
	if len(v) == 0 {
		return base
	}
	return base + "?" + v.Encode()
}

// usersMatching says how many users a search found.
func usersMatching(n int, q string) string {
	if n == 1 {
		return "1 user matches “" + q + "”."
	}
	return strconv.Itoa(n) + " users match “" + q + "”."
}
