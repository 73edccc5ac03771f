package handlers

import (
	"github.com/gofiber/fiber/v2"
)

// clientsPage is the console's start: the client accounts the partner
// manages and the search box.
type clientsPage struct {
	Clients []clientItem
	Query   string
}

// clientItem is one client account as the list shows it.
type clientItem struct {
	Name, Href          string
	Users, LiveSessions int
}

// partnerClients serves GET /partner.
func (h *handler) partnerClients(c *fiber.Ctx) error {
	list, err := h.store.PartnerClients(partnerOf(c))
	if err != nil {
		return err
	}
	p := &clientsPage{Clients: make([]clientItem, 0, len(list))}
	for _, s := range list {
		p.Clients = append(p.Clients, clientItem{Name: s.Account.Name, Href: partnerAccountURL(s.Account.ID), Users: s.Users, LiveSessions: s.LiveSessions})
	}
	v := h.newPartnerView(c, "Clients", partnerNav{Current: navClients}, pageClients)
	v.Page = p
	return h.renderPartner(c, v)
}
