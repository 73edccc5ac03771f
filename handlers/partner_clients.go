package handlers

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"portal/store"
)

// clientsPage is the console's start: a page of the client accounts the
// partner manages (50 a page, by name) and the search box.
type clientsPage struct {
	Table   clientTable
	Query   string
	Summary string
	Empty   string // said instead of the table when the page is empty
	Pager   pager
}

// clientTable is a page's rows as one plain value, rendered once per
// distinct page (see userTable).
type clientTable struct {
	Rows [store.PageSize]clientItem
	N    int // rows in use
}

// clientItem is one client account as the list shows it.
type clientItem struct {
	Name, Href          string
	Users, LiveSessions int
}

// partnerClients serves GET /partner?page=N.
func (h *handler) partnerClients(c *fiber.Ctx) error {
	page, err := pageParam(c)
	if err != nil {
		return err
	}
	list, err := h.partners.PartnerClients(partnerOf(c))
	if err != nil {
		return err
	}
	pages := max((len(list)+store.PageSize-1)/store.PageSize, 1)
	p := &clientsPage{Pager: pager{Page: page, Pages: pages}}
	if start := (page - 1) * store.PageSize; start < len(list) {
		for i, s := range list[start:min(start+store.PageSize, len(list))] {
			p.Table.Rows[i] = clientItem{Name: s.Account.Name, Href: partnerAccountURL(s.Account.ID), Users: s.Users, LiveSessions: s.LiveSessions}
			p.Table.N++
		}
	}
	switch {
	case len(list) == 0:
		p.Empty = "Your partner account manages no client accounts yet."
	case p.Table.N == 0:
		p.Empty = "There is no page " + strconv.Itoa(page) + ". The last page is " + strconv.Itoa(pages) + "."
	case pages > 1:
		p.Summary = plural(len(list), "client account", ", by name.")
	}
	if page > 1 {
		p.Pager.Prev = pageURL(partnerURL, "", min(page-1, pages))
	}
	if page < pages {
		p.Pager.Next = pageURL(partnerURL, "", page+1)
	}
	v := h.newPartnerView(c, "Clients", partnerNav{Current: navClients}, pageClients)
	v.Page = p
	return h.renderPartner(c, v)
}
