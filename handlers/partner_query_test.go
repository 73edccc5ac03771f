package handlers

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"portal/store"
)

// TestPartnerQueryLimits: a search term or page number the console cannot
// take is a 400 with a sentence; an id that cannot be one is the unknown
// path's 404.
func TestPartnerQueryLimits(t *testing.T) {
	e := newEnv(t)
	w := newPartnerWorld(e)
	p := w.partnerAs(w.p1Staff)
	tests := []struct {
		name, target string
		status       int
		says         string
	}{
		{"a 100-byte term", "/partner/users?q=" + strings.Repeat("a", 100), http.StatusOK, "No user&#39;s email or name contains"},
		{"a 101-byte term", "/partner/users?q=" + strings.Repeat("a", 101), http.StatusBadRequest, "The search term is too long. Use at most 100 characters"},
		{"a term of 51 two-byte letters", "/partner/users?q=" + strings.Repeat("%C3%A9", 51), http.StatusBadRequest, "The search term is too long."},
		{"a term that is not UTF-8", "/partner/users?q=%FF%FE", http.StatusBadRequest, "The search term is not valid text."},
		{"page 0", "/partner/users?page=0", http.StatusBadRequest, "The page number must be a whole number, 1 or more."},
		{"a negative page", "/partner/users?q=ann&page=-1", http.StatusBadRequest, "The page number must be a whole number, 1 or more."},
		{"a page in words", "/partner/users?page=two", http.StatusBadRequest, "The page number must be a whole number, 1 or more."},
		{"a fractional page", "/partner/users?page=1.5", http.StatusBadRequest, "The page number must be a whole number, 1 or more."},
		{"a signed page", "/partner/users?page=%2B2", http.StatusBadRequest, "The page number must be a whole number, 1 or more."},
		{"a huge page", "/partner/users?page=99999999999999999999", http.StatusBadRequest, "The page number must be a whole number, 1 or more."},
		{"a bad page of a client", partnerAccountURL(w.acme.ID) + "?page=x", http.StatusBadRequest, "The page number must be a whole number, 1 or more."},
		{"a page past the end", "/partner/users?page=7", http.StatusOK, "There is no page 7. The last page is 1."},
		{"an empty page parameter", "/partner/users?page=", http.StatusOK, "2 users across your clients."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := p.get(tt.target)
			if r.StatusCode != tt.status || !strings.Contains(r.body, tt.says) {
				t.Errorf("%d, want %d saying %q:\n%.300s", r.StatusCode, tt.status, tt.says, r.body)
			}
			if tt.status == http.StatusBadRequest {
				if hx := p.do(http.MethodGet, tt.target, nil, map[string]string{"HX-Request": "true"}); hx.StatusCode != tt.status || !strings.Contains(hx.body, tt.says) || hx.header("HX-Retarget") != "#flash" {
					t.Errorf("htmx: %d %q, want %d in the flash region", hx.StatusCode, hx.body, tt.status)
				}
			}
		})
	}
	assertNotFound(t, p, "bad ids", []struct{ method, path string }{
		{http.MethodGet, "/partner/users/xyz"},
		{http.MethodGet, partnerUserURL(strings.ToUpper(w.ann.ID))},
		{http.MethodGet, partnerUserURL(w.ann.ID + "0")},
		{http.MethodGet, partnerAccountURL(w.acme.ID[:31])},
		{http.MethodGet, partnerEverywhereURL("..%2F" + w.ann.ID)},
		{http.MethodPost, partnerSessionsBase(w.ann.ID) + "zz/sign-out"},
		{http.MethodPost, partnerSessionsBase(w.ann.ID) + strings.Repeat("a", 300) + "/sign-out"},
		{http.MethodGet, partnerUserURL(w.ann.ID) + "/sessions"},
	})
}

var (
	nextRe = regexp.MustCompile(`<a class="btn" href="([^"]*)" rel="next">Next</a>`)
	prevRe = regexp.MustCompile(`<a class="btn" href="([^"]*)" rel="prev">Previous</a>`)
	mailRe = regexp.MustCompile(`<td data-label="Email">([^<]*)</td>`)
)

// TestPartnerPagination: 50 users a page, sorted by email, with Previous
// and Next links that keep the search term, for a search and for a
// client's users.
func TestPartnerPagination(t *testing.T) {
	e := newEnv(t)
	w := newPartnerWorld(e)
	for i := range 120 {
		e.member(w.acme, store.RoleClientStaff, fmt.Sprintf("member%03d@acme.example", 119-i), fmt.Sprintf("Member %d", i))
	}
	for i := range 5 {
		e.member(w.bolt, store.RoleClientStaff, fmt.Sprintf("member%d@bolt.example", i), "Bolt member")
		e.member(w.cobalt, store.RoleClientStaff, fmt.Sprintf("member%d@cobalt.example", i), "Cobalt member")
	}
	p := w.partnerAs(w.p1Admin)

	walk := func(first string) (emails, pages []string) {
		t.Helper()
		for target := first; target != ""; {
			pages = append(pages, target)
			r := p.mustGet(t, strings.ReplaceAll(target, "&amp;", "&"))
			got := found(mailRe, r.body)
			if n := len(got); n > store.PageSize || n == 0 {
				t.Fatalf("%s lists %d users", target, n)
			}
			emails = append(emails, got...)
			if len(pages) > 1 {
				if prev := prevRe.FindStringSubmatch(r.body); prev == nil || prev[1] != pages[len(pages)-2] {
					t.Errorf("%s: Previous is %v, want %s", target, prev, pages[len(pages)-2])
				}
			} else if prevRe.MatchString(r.body) {
				t.Errorf("%s: the first page has a Previous link", target)
			}
			target = ""
			if next := nextRe.FindStringSubmatch(r.body); next != nil {
				target = next[1]
			}
		}
		return emails, pages
	}

	emails, pages := walk("/partner/users?q=MEMBER")
	wantPages := []string{"/partner/users?q=MEMBER", "/partner/users?page=2&amp;q=MEMBER", "/partner/users?page=3&amp;q=MEMBER"}
	if !slices.Equal(pages, wantPages) {
		t.Errorf("the search's pages are %v, want %v", pages, wantPages)
	}
	if len(emails) != 125 || !slices.IsSorted(emails) || len(slices.Compact(slices.Clone(emails))) != 125 {
		t.Errorf("the search's pages list %d users (sorted %v), want Acme's 120 and Bolt's 5 once each, by email", len(emails), slices.IsSorted(emails))
	}
	for _, m := range emails {
		if strings.HasSuffix(m, "@cobalt.example") {
			t.Errorf("the search lists %s, of the other partner's client", m)
		}
	}
	if r := p.get("/partner/users?q=member&page=3"); !strings.Contains(r.body, "<span>Page 3 of 3</span>") {
		t.Error("the last page does not say it is page 3 of 3")
	}

	emails, pages = walk(partnerAccountURL(w.acme.ID))
	if len(pages) != 3 || pages[1] != partnerAccountURL(w.acme.ID)+"?page=2" {
		t.Errorf("Acme's pages are %v", pages)
	}
	if len(emails) != 121 || !slices.IsSorted(emails) || emails[0] != "ann@acme.example" {
		t.Errorf("Acme's pages list %d users, want 121 by email starting with Ann's", len(emails))
	}
}

// TestPartnerSearchTermIsEscaped: a search term is shown back escaped,
// in the heading, the box and the page links, and reaches no log.
func TestPartnerSearchTermIsEscaped(t *testing.T) {
	e := newEnv(t)
	w := newPartnerWorld(e)
	for i := range 60 {
		e.member(w.acme, store.RoleClientStaff, fmt.Sprintf("x%02d@acme.example", i), fmt.Sprintf(`Zed <b>"x&y</b> %d`, i))
	}
	p := w.partnerAs(w.p1Admin)
	r := p.mustGet(t, "/partner/users?q=%3Cb%3E%22x%26y")
	if strings.Contains(r.body, `<b>"x&y`) {
		t.Fatal("the search term is shown unescaped")
	}
	for _, want := range []string{
		`Users matching “&lt;b&gt;&#34;x&amp;y”`,
		`value="&lt;b&gt;&#34;x&amp;y"`,
		`href="/partner/users?page=2&amp;q=%3Cb%3E%22x%26y" rel="next"`,
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	if strings.Contains(e.logs.String(), "x&y") || strings.Contains(e.logs.String(), "%3Cb%3E") {
		t.Error("the search term reached the log")
	}
}

// TestPartnerActionsLogged: each partner sign-out is one log line naming
// the partner user, the user and the session by its prefix, or the count;
// never a token or the whole session id.
func TestPartnerActionsLogged(t *testing.T) {
	e := newEnv(t)
	w := newPartnerWorld(e)
	p := w.partnerAs(w.p1Staff)
	p.mustGet(t, partnerUserURL(w.ann.ID))
	dev := w.devices[w.ann.ID][0]
	sid := dev.currentID()
	p.post(partnerSessionsBase(w.ann.ID)+sid+"/sign-out", nil)
	p.mustGet(t, partnerUserURL(w.ann.ID))
	p.post(partnerEverywhereURL(w.ann.ID), nil)
	logs := e.logs.String()
	for _, want := range []string{
		fmt.Sprintf(`msg="partner signed out a session" partner_user_id=%s user_id=%s session=%s`+"\n", w.p1Staff.ID, w.ann.ID, sid[:8]),
		fmt.Sprintf(`msg="partner signed a user out everywhere" partner_user_id=%s user_id=%s count=2`+"\n", w.p1Staff.ID, w.ann.ID),
	} {
		if strings.Count(logs, want) != 1 {
			t.Errorf("the log has %d lines ending %q, want 1", strings.Count(logs, want), want)
		}
	}
	if strings.Contains(logs, sid) || strings.Contains(logs, dev.token()) {
		t.Error("the log holds a whole session id or a token")
	}
}
