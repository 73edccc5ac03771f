package handlers

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"portal/store"
)

// TestPartnerClientsPages: the clients are listed 50 a page, by name,
// with Previous and Next; a page past the last says which is the last.
func TestPartnerClientsPages(t *testing.T) {
	e := newEnv(t)
	partner := e.account("Partner One", store.AccountPartner, "")
	pat := e.member(partner, store.RolePartnerAdmin, "pat@one.example", "Pat One")
	for i := range store.PageSize + 1 {
		e.account(fmt.Sprintf("Client %03d", i), store.AccountClient, partner.ID)
	}
	b := e.browser(uaChrome)
	b.signIn(pat.Email)
	row := regexp.MustCompile(`<tr><td><a href="/partner/accounts/[0-9a-f]{32}">(Client \d{3})</a>`)
	names := func(page string) ([]string, string) {
		r := b.get("/partner" + page)
		if r.StatusCode != http.StatusOK {
			t.Fatalf("/partner%s: %d", page, r.StatusCode)
		}
		var out []string
		for _, m := range row.FindAllStringSubmatch(r.body, -1) {
			out = append(out, m[1])
		}
		return out, r.body
	}
	first, body := names("")
	if len(first) != store.PageSize || first[0] != "Client 000" || first[49] != "Client 049" {
		t.Fatalf("page 1 lists %d clients: %v", len(first), first)
	}
	if !strings.Contains(body, `href="/partner?page=2" rel="next"`) || !strings.Contains(body, "51 client accounts, by name.") {
		t.Error("page 1 has no link to page 2 or no count")
	}
	second, body := names("?page=2")
	if len(second) != 1 || second[0] != "Client 050" || !strings.Contains(body, `href="/partner" rel="prev"`) {
		t.Errorf("page 2 lists %v", second)
	}
	if none, body := names("?page=3"); len(none) != 0 || !strings.Contains(body, "There is no page 3. The last page is 2.") {
		t.Errorf("page 3 lists %v", none)
	}
	if r := b.get("/partner?page=x"); r.StatusCode != http.StatusBadRequest {
		t.Errorf("a page that is not a number: %d", r.StatusCode)
	}
}
