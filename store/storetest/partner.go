package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"portal/store"
)

var partnerTests = []test{
	{"PartnerScope", testPartnerScope},
	{"PartnerRevoke", testPartnerRevoke},
	{"PartnerMovedClient", testPartnerMovedClient},
	{"AccountOfFollowsChanges", testAccountOfFollowsChanges},
	{"SetAccountPartnerRefusesWrongKinds", testSetAccountPartnerRefusesWrongKinds},
	{"PartnerCounts", testPartnerCounts},
	{"PartnerUsersSearchAndPages", testPartnerUsersSearchAndPages},
}

// PartnerWorld is two partners, the clients they manage, an unmanaged
// client and a session for every user: the partner scope tests' world,
// for either store's own tests too.
type PartnerWorld struct {
	Store                    store.Backend
	Clock                    *Clock
	Rec                      *Recorder // the store's Notifier
	P1, P2, C1, C2, C3, Free store.Account
	// users by what they are to partner 1
	Mine, Mine2, Theirs, Unmanaged, Colleague, Other store.User
	Tokens                                           map[string]string // user id -> token of one live session
}

func newPartnerWorld(t *testing.T, open Opener) *PartnerWorld {
	t.Helper()
	rec := &Recorder{}
	s, clk := openAt(t, open, Options{Notifier: rec})
	return NewPartnerWorld(t, s, clk, rec)
}

// NewPartnerWorld fills s, whose clock is clk and whose Notifier is rec,
// with the world, and takes what rec heard of it.
func NewPartnerWorld(t *testing.T, s store.Backend, clk *Clock, rec *Recorder) *PartnerWorld {
	t.Helper()
	w := &PartnerWorld{Store: s, Clock: clk, Rec: rec, Tokens: map[string]string{}}
	acct := func(name string, kind store.AccountKind, partner string) store.Account {
		var a store.Account
		var err error
		if kind == store.AccountClient {
			a, err = s.CreateClientAccount(name, partner)
		} else {
			a, err = s.CreateAccount(name, kind)
		}
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	user := func(a store.Account, email string, role store.Role) store.User {
		u, err := s.CreateUser(store.NewUser{AccountID: a.ID, Email: email, Name: "Name of " + email, Role: role, PasswordHash: "h"})
		if err != nil {
			t.Fatal(err)
		}
		_, tok := mustSession(t, s, u.ID, store.NewSession{})
		w.Tokens[u.ID] = tok
		return u
	}
	w.P1, w.P2 = acct("Partner One", store.AccountPartner, ""), acct("Partner Two", store.AccountPartner, "")
	w.C1, w.C2 = acct("Acme", store.AccountClient, w.P1.ID), acct("Bolt Dental", store.AccountClient, w.P1.ID)
	w.C3, w.Free = acct("Cobalt", store.AccountClient, w.P2.ID), acct("Free Co", store.AccountClient, "")
	w.Mine, w.Mine2 = user(w.C1, "ann@acme.example", store.RoleClientAdmin), user(w.C2, "bob@bolt.example", store.RoleClientStaff)
	w.Theirs, w.Unmanaged = user(w.C3, "cat@cobalt.example", store.RoleClientStaff), user(w.Free, "dan@free.example", store.RoleClientStaff)
	w.Colleague, w.Other = user(w.P1, "pat@p1.example", store.RolePartnerStaff), user(w.P2, "quinn@p2.example", store.RolePartnerAdmin)
	rec.Take()
	return w
}

func testPartnerScope(t *testing.T, open Opener) {
	w := newPartnerWorld(t, open)
	for _, u := range []store.User{w.Mine, w.Mine2} {
		if got, a, err := w.Store.PartnerUser(w.P1.ID, u.ID); err != nil || got.ID != u.ID || a.Partner != w.P1.ID {
			t.Errorf("in scope %s: %v %v", u.Email, got.Email, err)
		}
		if got, _, list, err := w.Store.PartnerUserSessions(w.P1.ID, u.ID); err != nil || got.ID != u.ID || len(list) != 1 {
			t.Errorf("sessions in scope %s: %d, %v", u.Email, len(list), err)
		}
	}
	out := []struct{ name, id string }{
		{"a client of the other partner", w.Theirs.ID},
		{"an unmanaged client", w.Unmanaged.ID},
		{"a colleague", w.Colleague.ID},
		{"the other partner's user", w.Other.ID},
		{"no such user", noSuchID},
		{"not an id", "../" + w.Mine.ID},
	}
	for _, tt := range out {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := w.Store.PartnerUser(w.P1.ID, tt.id); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("PartnerUser: %v, want ErrNotFound", err)
			}
			if _, _, _, err := w.Store.PartnerUserSessions(w.P1.ID, tt.id); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("PartnerUserSessions: %v, want ErrNotFound", err)
			}
			if n, err := w.Store.PartnerRevokeAll(w.P1.ID, w.Colleague.ID, tt.id); !errors.Is(err, store.ErrNotFound) || n != 0 {
				t.Errorf("PartnerRevokeAll: %d %v, want ErrNotFound", n, err)
			}
			if tok, ok := w.Tokens[tt.id]; ok {
				sess := wantLive(t, w.Store, tok)
				if _, err := w.Store.PartnerRevokeSession(w.P1.ID, w.Colleague.ID, tt.id, sess.ID); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("PartnerRevokeSession: %v, want ErrNotFound", err)
				}
				wantLive(t, w.Store, tok)
			}
		})
	}
	// A session of one managed user named under another managed user.
	other := wantLive(t, w.Store, w.Tokens[w.Mine2.ID])
	if _, err := w.Store.PartnerRevokeSession(w.P1.ID, w.Colleague.ID, w.Mine.ID, other.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another user's session under a managed user: %v, want ErrNotFound", err)
	}
	wantLive(t, w.Store, w.Tokens[w.Mine2.ID])
	if _, _, err := w.Store.PartnerUser("", w.Mine.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("empty partner id: %v", err)
	}
	if got := w.Rec.Take(); len(got) != 0 {
		t.Errorf("refused revokes published %v", got)
	}
	mustCheck(t, w.Store)
}

func testPartnerRevoke(t *testing.T, open Opener) {
	w := newPartnerWorld(t, open)
	sess := wantLive(t, w.Store, w.Tokens[w.Mine.ID])
	second, secondTok := mustSession(t, w.Store, w.Mine.ID, store.NewSession{})
	got, err := w.Store.PartnerRevokeSession(w.P1.ID, w.Colleague.ID, w.Mine.ID, sess.ID)
	if err != nil || got.EndReason != store.ReasonPartner || got.RevokedBy != w.Colleague.ID {
		t.Fatalf("PartnerRevokeSession: %+v %v", got, err)
	}
	wantEnded(t, w.Store, w.Tokens[w.Mine.ID], store.ReasonPartner)
	wantLive(t, w.Store, secondTok)
	third, thirdTok := mustSession(t, w.Store, w.Mine.ID, store.NewSession{})
	n, err := w.Store.PartnerRevokeAll(w.P1.ID, w.Colleague.ID, w.Mine.ID)
	if err != nil || n != 2 {
		t.Fatalf("PartnerRevokeAll: %d %v, want 2", n, err)
	}
	wantEnded(t, w.Store, secondTok, store.ReasonPartnerAll)
	wantEnded(t, w.Store, thirdTok, store.ReasonPartnerAll)
	ended := func(id string, r store.Reason) store.Change {
		return store.Change{Kind: store.SessionEnded, UserID: w.Mine.ID, SessionID: id, Reason: r}
	}
	published := w.Rec.Take()
	for _, want := range []store.Change{ended(sess.ID, store.ReasonPartner), ended(second.ID, store.ReasonPartnerAll), ended(third.ID, store.ReasonPartnerAll)} {
		if !slices.Contains(published, want) {
			t.Errorf("published %v, want %v among them", published, want)
		}
	}
	for _, e := range eventsOf(t, w.Store, w.Mine.ID) {
		if e.Kind == store.EventEnded && e.By.User != w.Colleague.ID {
			t.Errorf("event %+v does not name the partner user", e)
		}
	}
	if x, err := w.Store.UserSession(w.Mine.ID, sess.ID); err != nil || x.RevokedBy != w.Colleague.ID {
		t.Fatalf("the record: %+v %v", x, err)
	}
	if n, err := w.Store.PartnerRevokeAll(w.P1.ID, w.Colleague.ID, w.Mine.ID); err != nil || n != 0 {
		t.Fatalf("again: %d %v, want 0", n, err)
	}
	mustCheck(t, w.Store)
}

// Moving a client to another partner takes effect on the very next call
// of both.
func testPartnerMovedClient(t *testing.T, open Opener) {
	w := newPartnerWorld(t, open)
	if _, err := w.Store.PartnerClients(w.P1.ID); err != nil { // cached, where a store caches
		t.Fatal(err)
	}
	if _, err := w.Store.PartnerUsers(w.P1.ID, store.UserQuery{}); err != nil {
		t.Fatal(err)
	}
	if a, err := w.Store.SetAccountPartner(w.C1.ID, w.P2.ID); err != nil || a.Partner != w.P2.ID {
		t.Fatalf("SetAccountPartner = %+v, %v", a, err)
	}
	if _, _, err := w.Store.PartnerUser(w.P1.ID, w.Mine.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the old partner after the move: %v", err)
	}
	sess := wantLive(t, w.Store, w.Tokens[w.Mine.ID])
	if _, err := w.Store.PartnerRevokeSession(w.P1.ID, w.Colleague.ID, w.Mine.ID, sess.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the old partner's revoke after the move: %v", err)
	}
	wantLive(t, w.Store, w.Tokens[w.Mine.ID])
	if _, _, err := w.Store.PartnerUser(w.P2.ID, w.Mine.ID); err != nil {
		t.Errorf("the new partner after the move: %v", err)
	}
	for partner, want := range map[string][]string{w.P1.ID: {"Bolt Dental"}, w.P2.ID: {"Acme", "Cobalt"}} {
		list, err := w.Store.PartnerClients(partner)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, c := range list {
			names = append(names, c.Account.Name)
		}
		if fmt.Sprint(names) != fmt.Sprint(want) {
			t.Errorf("clients of %s: %v, want %v", partner, names, want)
		}
	}
	if p, err := w.Store.PartnerUsers(w.P1.ID, store.UserQuery{}); err != nil || p.Total != 1 {
		t.Errorf("the old partner's users after the move: %d, %v; want 1", p.Total, err)
	}
	if _, err := w.Store.PartnerUsers(w.P1.ID, store.UserQuery{AccountID: w.C1.ID}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the moved account's users for the old partner: %v", err)
	}
	if _, err := w.Store.SetAccountPartner(w.C1.ID, ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.Store.PartnerUser(w.P2.ID, w.Mine.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after unmanaging: %v", err)
	}
	if a, err := w.Store.AccountByID(w.C1.ID); err != nil || a.Partner != "" {
		t.Errorf("after unmanaging: %+v, %v", a, err)
	}
	mustCheck(t, w.Store)
}

func testSetAccountPartnerRefusesWrongKinds(t *testing.T, open Opener) {
	w := newPartnerWorld(t, open)
	tests := []struct {
		name, account, partner string
		want                   error
	}{
		{"a partner managing a partner", w.P2.ID, w.P1.ID, store.ErrNotClient},
		{"a client as the manager", w.C1.ID, w.C3.ID, store.ErrNotPartner},
		{"no such partner", w.C1.ID, noSuchID, store.ErrNotFound},
		{"no such account", noSuchID, w.P1.ID, store.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := w.Store.SetAccountPartner(tt.account, tt.partner); !errors.Is(err, tt.want) {
				t.Fatalf("%v, want %v", err, tt.want)
			}
		})
	}
	before, _ := w.Store.Accounts()
	if _, err := w.Store.CreateClientAccount("Orphan", w.C1.ID); !errors.Is(err, store.ErrNotPartner) {
		t.Errorf("CreateClientAccount under a client: %v, want ErrNotPartner", err)
	}
	if a, _ := w.Store.AccountByID(w.C1.ID); a.Partner != w.P1.ID {
		t.Fatalf("a refused change changed the account: %+v", a)
	}
	if after, _ := w.Store.Accounts(); len(after) != len(before) {
		t.Fatalf("a refused CreateClientAccount left an account: %d, want %d", len(after), len(before))
	}
}

// The clients page counts users and live sessions, and follows revokes,
// disables and expiry without a stale answer.
func testPartnerCounts(t *testing.T, open Opener) {
	w := newPartnerWorld(t, open)
	count := func() map[string][2]int {
		list, err := w.Store.PartnerClients(w.P1.ID)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][2]int{}
		for _, c := range list {
			out[c.Account.Name] = [2]int{c.Users, c.LiveSessions}
		}
		return out
	}
	want := func(step string, acme, bolt [2]int) {
		t.Helper()
		if got := count(); got["Acme"] != acme || got["Bolt Dental"] != bolt || len(got) != 2 {
			t.Errorf("%s: %v, want Acme %v Bolt %v", step, got, acme, bolt)
		}
	}
	want("start", [2]int{1, 1}, [2]int{1, 1})
	_, tok := mustSession(t, w.Store, w.Mine.ID, store.NewSession{})
	want("a second sign-in", [2]int{1, 2}, [2]int{1, 1})
	if _, err := w.Store.SetUserDisabled(w.Mine2.ID, true); err != nil {
		t.Fatal(err)
	}
	want("a disabled user", [2]int{1, 2}, [2]int{1, 0})
	// Activity not yet flushed keeps a session live.
	w.Clock.Advance(testPolicy.IdleTimeout / 2)
	wantLive(t, w.Store, tok)
	w.Clock.Advance(testPolicy.IdleTimeout / 2)
	want("the idle timeout, one used since", [2]int{1, 1}, [2]int{1, 0})
	// Expiry is not a write: the count must still drop when it happens.
	w.Clock.Advance(testPolicy.IdleTimeout)
	want("after the idle timeout", [2]int{1, 0}, [2]int{1, 0})
	page, err := w.Store.PartnerUsers(w.P1.ID, store.UserQuery{})
	if err != nil || page.Total != 2 || !page.Users[1].Disabled || page.Users[0].AccountName != "Acme" {
		t.Fatalf("users: %+v %v, want both, the disabled one marked", page, err)
	}
	if list, err := w.Store.PartnerClients(""); err != nil || len(list) != 0 {
		t.Fatalf("no partner: %v, %v", list, err)
	}
}

func testPartnerUsersSearchAndPages(t *testing.T, open Opener) {
	w := newPartnerWorld(t, open)
	var batch []store.NewUser
	for i := range 2*store.PageSize + 7 {
		batch = append(batch, store.NewUser{AccountID: w.C2.ID, Email: fmt.Sprintf("staff%03d@bolt.example", i), Name: fmt.Sprintf("Staff Member %d", i), Role: store.RoleClientStaff, PasswordHash: "h"})
	}
	if _, err := w.Store.CreateUsers(batch); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		q         store.UserQuery
		total     int
		pages     int
		first     string // email of the first user on the page; "" for none
		pageCount int
	}{
		{"everyone, page 1", store.UserQuery{}, 2*store.PageSize + 9, 3, "ann@acme.example", store.PageSize},
		{"everyone, page 2", store.UserQuery{Page: 2}, 2*store.PageSize + 9, 3, "staff048@bolt.example", store.PageSize},
		{"everyone, page 3", store.UserQuery{Page: 3}, 2*store.PageSize + 9, 3, "staff098@bolt.example", 9},
		{"past the end", store.UserQuery{Page: 4}, 2*store.PageSize + 9, 3, "", 0},
		{"by email, any case", store.UserQuery{Search: "ANN@"}, 1, 1, "ann@acme.example", 1},
		{"by name", store.UserQuery{Search: "member 10"}, 8, 1, "staff010@bolt.example", 8}, // 10 and 100 to 106
		{"one account", store.UserQuery{AccountID: w.C1.ID}, 1, 1, "ann@acme.example", 1},
		{"one account and a search", store.UserQuery{AccountID: w.C2.ID, Search: "staff00"}, 10, 1, "staff000@bolt.example", 10},
		{"another partner's users are never found", store.UserQuery{Search: "cobalt"}, 0, 1, "", 0},
		{"nor colleagues", store.UserQuery{Search: "pat@"}, 0, 1, "", 0},
		{"nor unmanaged clients' users", store.UserQuery{Search: "dan@"}, 0, 1, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := w.Store.PartnerUsers(w.P1.ID, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			first := ""
			if len(p.Users) > 0 {
				first = p.Users[0].Email
			}
			if p.Total != tt.total || p.Pages != tt.pages || first != tt.first || len(p.Users) != tt.pageCount {
				t.Fatalf("total %d pages %d first %q on page %d; want %d %d %q %d", p.Total, p.Pages, first, len(p.Users), tt.total, tt.pages, tt.first, tt.pageCount)
			}
			for i := 1; i < len(p.Users); i++ {
				if p.Users[i-1].Email > p.Users[i].Email && p.Users[i-1].AccountName == p.Users[i].AccountName {
					t.Errorf("not sorted: %s before %s", p.Users[i-1].Email, p.Users[i].Email)
				}
			}
		})
	}
	if _, err := w.Store.PartnerUsers(w.P1.ID, store.UserQuery{AccountID: w.C3.ID}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another partner's account: %v, want ErrNotFound", err)
	}
}

// AccountOf (kept with the user's other state) follows a move of the
// client to another partner and a change of what it requires.
func testAccountOfFollowsChanges(t *testing.T, open Opener) {
	w := newPartnerWorld(t, open)
	s := w.Store
	if a, err := s.AccountOf(w.Mine); err != nil || a.ID != w.C1.ID || a.Partner != w.P1.ID {
		t.Fatalf("AccountOf = %+v, %v; want %s under %s", a, err, w.C1.ID, w.P1.ID)
	}
	if _, err := s.SetAccountPartner(w.C1.ID, w.P2.ID); err != nil {
		t.Fatal(err)
	}
	if a, err := s.AccountOf(w.Mine); err != nil || a.Partner != w.P2.ID {
		t.Errorf("AccountOf after the move = %+v, %v; want under %s", a, err, w.P2.ID)
	}
	if err := s.SetRequireTwoStep("", w.C1.ID, store.Actor{}, true); err != nil {
		t.Fatal(err)
	}
	if a, err := s.AccountOf(w.Mine); err != nil || !a.RequireTwoStep {
		t.Errorf("AccountOf after requiring two-step sign-in = %+v, %v", a, err)
	}
}
