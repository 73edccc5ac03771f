package store

import (
	"errors"
	"fmt"
	"sync"
	"testing"
)

// partnerWorld is two partners, the clients they manage, an unmanaged
// client and a session for every user.
type partnerWorld struct {
	s                        *Store
	clk                      *clock
	p1, p2, c1, c2, c3, free Account
	// users by what they are to partner 1
	mine, mine2, theirs, unmanaged, colleague, other User
	tokens                                           map[string]string // user id -> token of one live session
}

func newPartnerWorld(t *testing.T) *partnerWorld {
	t.Helper()
	clk := newClock()
	s := MustOpen(t, Options{Now: clk.Now, Policy: testPolicy})
	w := &partnerWorld{s: s, clk: clk, tokens: map[string]string{}}
	acct := func(name string, kind AccountKind, partner string) Account {
		var a Account
		var err error
		if kind == AccountClient {
			a, err = s.CreateClientAccount(name, partner)
		} else {
			a, err = s.CreateAccount(name, kind)
		}
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	user := func(a Account, email string, role Role) User {
		u, err := s.CreateUser(NewUser{AccountID: a.ID, Email: email, Name: "Name of " + email, Role: role, PasswordHash: "h"})
		if err != nil {
			t.Fatal(err)
		}
		_, tok := mustSession(t, s, u.ID, NewSession{})
		w.tokens[u.ID] = tok
		return u
	}
	w.p1, w.p2 = acct("Partner One", AccountPartner, ""), acct("Partner Two", AccountPartner, "")
	w.c1, w.c2 = acct("Acme", AccountClient, w.p1.ID), acct("Bolt Dental", AccountClient, w.p1.ID)
	w.c3, w.free = acct("Cobalt", AccountClient, w.p2.ID), acct("Free Co", AccountClient, "")
	w.mine, w.mine2 = user(w.c1, "ann@acme.example", RoleClientAdmin), user(w.c2, "bob@bolt.example", RoleClientStaff)
	w.theirs, w.unmanaged = user(w.c3, "cat@cobalt.example", RoleClientStaff), user(w.free, "dan@free.example", RoleClientStaff)
	w.colleague, w.other = user(w.p1, "pat@p1.example", RolePartnerStaff), user(w.p2, "quinn@p2.example", RolePartnerAdmin)
	return w
}

func TestPartnerScope(t *testing.T) {
	w := newPartnerWorld(t)
	in := []User{w.mine, w.mine2}
	out := map[string]string{
		"a client of the other partner": w.theirs.ID,
		"an unmanaged client":           w.unmanaged.ID,
		"a colleague":                   w.colleague.ID,
		"the other partner's user":      w.other.ID,
		"no such user":                  "0123456789abcdef0123456789abcdef",
		"not an id":                     "../" + w.mine.ID,
	}
	for _, u := range in {
		if got, a, err := w.s.PartnerUser(w.p1.ID, u.ID); err != nil || got.ID != u.ID || a.Partner != w.p1.ID {
			t.Errorf("in scope %s: %v %v", u.Email, got.Email, err)
		}
	}
	for name, id := range out {
		t.Run(name, func(t *testing.T) {
			if _, _, err := w.s.PartnerUser(w.p1.ID, id); !errors.Is(err, ErrNotFound) {
				t.Errorf("PartnerUser: %v, want ErrNotFound", err)
			}
			if _, _, _, err := w.s.PartnerUserSessions(w.p1.ID, id); !errors.Is(err, ErrNotFound) {
				t.Errorf("PartnerUserSessions: %v, want ErrNotFound", err)
			}
			if n, err := w.s.PartnerRevokeAll(w.p1.ID, w.colleague.ID, id); !errors.Is(err, ErrNotFound) || n != 0 {
				t.Errorf("PartnerRevokeAll: %d %v, want ErrNotFound", n, err)
			}
			if tok, ok := w.tokens[id]; ok {
				sess := wantLive(t, w.s, tok)
				if _, err := w.s.PartnerRevokeSession(w.p1.ID, w.colleague.ID, id, sess.ID); !errors.Is(err, ErrNotFound) {
					t.Errorf("PartnerRevokeSession: %v, want ErrNotFound", err)
				}
				wantLive(t, w.s, tok)
			}
		})
	}
	// A session of one managed user named under another managed user.
	other := wantLive(t, w.s, w.tokens[w.mine2.ID])
	if _, err := w.s.PartnerRevokeSession(w.p1.ID, w.colleague.ID, w.mine.ID, other.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("another user's session under a managed user: %v, want ErrNotFound", err)
	}
	// No partner at all reaches nothing.
	if _, _, err := w.s.PartnerUser("", w.mine.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("empty partner id: %v", err)
	}
	mustCheck(t, w.s)
}

func TestPartnerRevoke(t *testing.T) {
	w := newPartnerWorld(t)
	sess := wantLive(t, w.s, w.tokens[w.mine.ID])
	_, second := mustSession(t, w.s, w.mine.ID, NewSession{})
	got, err := w.s.PartnerRevokeSession(w.p1.ID, w.colleague.ID, w.mine.ID, sess.ID)
	if err != nil || got.RevokeReason != ReasonPartner || got.RevokedBy != w.colleague.ID {
		t.Fatalf("PartnerRevokeSession: %+v %v", got, err)
	}
	wantEnded(t, w.s, w.tokens[w.mine.ID], ReasonPartner)
	wantLive(t, w.s, second)
	// Everywhere: the rest of the user's live sessions, counted.
	_, third := mustSession(t, w.s, w.mine.ID, NewSession{})
	n, err := w.s.PartnerRevokeAll(w.p1.ID, w.colleague.ID, w.mine.ID)
	if err != nil || n != 2 {
		t.Fatalf("PartnerRevokeAll: %d %v, want 2", n, err)
	}
	wantEnded(t, w.s, second, ReasonPartnerAll)
	wantEnded(t, w.s, third, ReasonPartnerAll)
	// The record says who did it, after a reopen too.
	w.s = reopen(t, w.s, Options{Now: w.clk.Now, Policy: testPolicy})
	if x, err := w.s.UserSession(w.mine.ID, sess.ID); err != nil || x.RevokedBy != w.colleague.ID {
		t.Fatalf("after reopening: %+v %v", x, err)
	}
	if n, err := w.s.PartnerRevokeAll(w.p1.ID, w.colleague.ID, w.mine.ID); err != nil || n != 0 {
		t.Fatalf("again: %d %v, want 0", n, err)
	}
	mustCheck(t, w.s)
}

// TestPartnerMovedClient: moving a client to another partner takes effect
// on the very next call of both.
func TestPartnerMovedClient(t *testing.T) {
	w := newPartnerWorld(t)
	if _, err := w.s.PartnerClients(w.p1.ID); err != nil { // fill the cache
		t.Fatal(err)
	}
	if _, err := w.s.SetAccountPartner(w.c1.ID, w.p2.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.s.PartnerUser(w.p1.ID, w.mine.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("the old partner after the move: %v", err)
	}
	if _, _, err := w.s.PartnerUser(w.p2.ID, w.mine.ID); err != nil {
		t.Errorf("the new partner after the move: %v", err)
	}
	for partner, want := range map[string][]string{w.p1.ID: {"Bolt Dental"}, w.p2.ID: {"Acme", "Cobalt"}} {
		list, err := w.s.PartnerClients(partner)
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
	if _, err := w.s.PartnerUsers(w.p1.ID, UserQuery{AccountID: w.c1.ID}); !errors.Is(err, ErrNotFound) {
		t.Errorf("the moved account's users for the old partner: %v", err)
	}
	if _, err := w.s.SetAccountPartner(w.c1.ID, ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.s.PartnerUser(w.p2.ID, w.mine.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("after unmanaging: %v", err)
	}
	mustCheck(t, w.s)
}

func TestSetAccountPartnerRefusesWrongKinds(t *testing.T) {
	w := newPartnerWorld(t)
	tests := []struct {
		name, account, partner string
		want                   error
	}{
		{"a partner managing a partner", w.p2.ID, w.p1.ID, ErrNotClient},
		{"a client as the manager", w.c1.ID, w.c3.ID, ErrNotPartner},
		{"no such partner", w.c1.ID, "0123456789abcdef0123456789abcdef", ErrNotFound},
		{"no such account", "0123456789abcdef0123456789abcdef", w.p1.ID, ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := w.s.SetAccountPartner(tt.account, tt.partner); !errors.Is(err, tt.want) {
				t.Fatalf("%v, want %v", err, tt.want)
			}
		})
	}
	if a, _ := w.s.AccountByID(w.c1.ID); a.Partner != w.p1.ID {
		t.Fatalf("a refused change changed the account: %+v", a)
	}
}

// TestPartnerCounts: the clients page counts users and live sessions, and
// follows revokes, disables and expiry without a stale answer.
func TestPartnerCounts(t *testing.T) {
	w := newPartnerWorld(t)
	count := func() map[string][2]int {
		list, err := w.s.PartnerClients(w.p1.ID)
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
		if got := count(); got["Acme"] != acme || got["Bolt Dental"] != bolt {
			t.Errorf("%s: %v, want Acme %v Bolt %v", step, got, acme, bolt)
		}
	}
	want("start", [2]int{1, 1}, [2]int{1, 1})
	mustSession(t, w.s, w.mine.ID, NewSession{})
	want("a second sign-in", [2]int{1, 2}, [2]int{1, 1})
	if _, err := w.s.SetUserDisabled(w.mine2.ID, true); err != nil {
		t.Fatal(err)
	}
	want("a disabled user", [2]int{1, 2}, [2]int{1, 0})
	// Expiry is not a write: the count must still drop when it happens.
	w.clk.Advance(testPolicy.IdleTimeout)
	want("after the idle timeout", [2]int{1, 0}, [2]int{1, 0})
	page, err := w.s.PartnerUsers(w.p1.ID, UserQuery{})
	if err != nil || page.Total != 2 || !page.Users[1].Disabled {
		t.Fatalf("users: %+v %v, want both, the disabled one marked", page, err)
	}
}

func TestPartnerUsersSearchAndPages(t *testing.T) {
	w := newPartnerWorld(t)
	var batch []NewUser
	for i := range 2*PageSize + 7 {
		batch = append(batch, NewUser{AccountID: w.c2.ID, Email: fmt.Sprintf("staff%03d@bolt.example", i), Name: fmt.Sprintf("Staff Member %d", i), Role: RoleClientStaff, PasswordHash: "h"})
	}
	if _, err := w.s.CreateUsers(batch); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		q         UserQuery
		total     int
		pages     int
		first     string // email of the first user on the page; "" for none
		pageCount int
	}{
		{"everyone, page 1", UserQuery{}, 2*PageSize + 9, 3, "ann@acme.example", PageSize},
		{"everyone, page 3", UserQuery{Page: 3}, 2*PageSize + 9, 3, "staff098@bolt.example", 9},
		{"past the end", UserQuery{Page: 4}, 2*PageSize + 9, 3, "", 0},
		{"by email, any case", UserQuery{Search: "ANN@"}, 1, 1, "ann@acme.example", 1},
		{"by name", UserQuery{Search: "member 10"}, 8, 1, "staff010@bolt.example", 8}, // 10 and 100 to 106
		{"one account", UserQuery{AccountID: w.c1.ID}, 1, 1, "ann@acme.example", 1},
		{"one account and a search", UserQuery{AccountID: w.c2.ID, Search: "staff00"}, 10, 1, "staff000@bolt.example", 10},
		{"another partner's users are never found", UserQuery{Search: "cobalt"}, 0, 1, "", 0},
		{"nor colleagues", UserQuery{Search: "pat@"}, 0, 1, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := w.s.PartnerUsers(w.p1.ID, tt.q)
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
		})
	}
	if _, err := w.s.PartnerUsers(w.p1.ID, UserQuery{AccountID: w.c3.ID}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another partner's account: %v, want ErrNotFound", err)
	}
}

// TestPartnerRevokeRacesMove releases a partner's revoke and the client's
// move to another partner together: the revoke either happened while the
// partner managed the client, or changed nothing.
func TestPartnerRevokeRacesMove(t *testing.T) {
	for round := range 20 {
		w := newPartnerWorld(t)
		sess := wantLive(t, w.s, w.tokens[w.mine.ID])
		start := make(chan struct{})
		var wg sync.WaitGroup
		var revokeErr, moveErr error
		wg.Add(2)
		go func() {
			defer wg.Done()
			<-start
			_, revokeErr = w.s.PartnerRevokeSession(w.p1.ID, w.colleague.ID, w.mine.ID, sess.ID)
		}()
		go func() { defer wg.Done(); <-start; _, moveErr = w.s.SetAccountPartner(w.c1.ID, w.p2.ID) }()
		close(start)
		wg.Wait()
		if moveErr != nil {
			t.Fatal(moveErr)
		}
		x, _ := w.s.UserSession(w.mine.ID, sess.ID)
		switch {
		case revokeErr == nil && x.RevokeReason != ReasonPartner:
			t.Fatalf("round %d: the revoke succeeded but the session is %+v", round, x)
		case errors.Is(revokeErr, ErrNotFound) && !x.RevokedAt.IsZero():
			t.Fatalf("round %d: the revoke was refused but the session ended", round)
		case revokeErr != nil && !errors.Is(revokeErr, ErrNotFound):
			t.Fatal(revokeErr)
		}
	}
}
