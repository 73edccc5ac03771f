package demo

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"portal/geo"
	"portal/store"
	"portal/store/bolt"
)

func open(t *testing.T) (*bolt.Store, *geo.Resolver) {
	t.Helper()
	dir := t.TempDir()
	st, err := bolt.Open(filepath.Join(dir, "portal.db"), bolt.Options{Policy: store.Policy{IdleTimeout: 12 * time.Hour, MaxLifetime: 14 * 24 * time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	path := filepath.Join(dir, "geo.mmdb")
	if err := geo.WriteDemoDB(path); err != nil {
		t.Fatal(err)
	}
	res, err := geo.Open(path, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Close() })
	return st, res
}

func TestSeed(t *testing.T) {
	st, res := open(t)
	seeded, err := Seed(st, res, time.Now())
	if err != nil || !seeded {
		t.Fatalf("Seed = %v, %v", seeded, err)
	}
	cities := map[string]bool{}
	for _, l := range Logins {
		u, err := st.UserByEmail(l.Email)
		if err != nil {
			t.Fatalf("%s: %v", l.Email, err)
		}
		list, err := st.ListUserSessions(u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !l.Role.IsCustomer() {
			if len(list) != 0 {
				t.Errorf("partner has %d sessions", len(list))
			}
			continue
		}
		if len(list) < 3 || len(list) > 5 {
			t.Errorf("%s has %d live sessions, want 3 to 5", l.Email, len(list))
		}
		for _, s := range list {
			if s.Device.Browser == "" || s.LastPlace.Masked == "" {
				t.Errorf("%s: session without device or network: %+v", l.Email, s)
			}
			if s.LastActive.Before(s.CreatedAt) || s.LastActive.After(time.Now()) {
				t.Errorf("%s: last active %v outside [%v, now]", l.Email, s.LastActive, s.CreatedAt)
			}
			cities[s.LastPlace.City+s.LastPlace.Country] = true
		}
	}
	if len(cities) < 4 {
		t.Errorf("only %d distinct places across the demo sessions: locations are not resolved", len(cities))
	}
	if err := st.Check(); err != nil {
		t.Fatal(err)
	}

	// Seeding again adds nothing.
	before := st.WriteTxCount()
	if seeded, err := Seed(st, res, time.Now()); err != nil || seeded || st.WriteTxCount() != before {
		t.Fatalf("second Seed = %v, %v, %d writes", seeded, err, st.WriteTxCount()-before)
	}
}

func TestSeedLeavesRealDatabasesAlone(t *testing.T) {
	st, res := open(t)
	acct, err := st.CreateAccount("Real customer", store.AccountClient)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateUser(store.NewUser{AccountID: acct.ID, Email: "real@customer.example", Name: "R", Role: store.RoleClientAdmin, PasswordHash: "x"}); err != nil {
		t.Fatal(err)
	}
	if seeded, err := Seed(st, res, time.Now()); err != nil || seeded {
		t.Fatalf("Seed on a real database = %v, %v", seeded, err)
	}
	if users, _ := st.Users(); len(users) != 1 {
		t.Fatalf("demo users added to a real database: %d users", len(users))
	}
}

func TestSeedCompletesAPartialSeed(t *testing.T) {
	st, res := open(t)
	acct, err := st.CreateAccount("Northwind Traders", store.AccountClient)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateUser(store.NewUser{AccountID: acct.ID, Email: Logins[0].Email, Name: "A", Role: Logins[0].Role, PasswordHash: "x"}); err != nil {
		t.Fatal(err)
	}
	if seeded, err := Seed(st, res, time.Now()); err != nil || !seeded {
		t.Fatalf("Seed after a crash = %v, %v", seeded, err)
	}
	users, _ := st.Users()
	if len(users) != len(Logins)+len(clientUsers) {
		t.Fatalf("%d users, want %d", len(users), len(Logins)+len(clientUsers))
	}
	accounts, _ := st.Accounts()
	if len(accounts) != 5 {
		t.Fatalf("%d accounts, want the 5 demo accounts, Northwind reused", len(accounts))
	}
	// The Northwind of a demo seeded before partners managed clients is
	// now Contoso's.
	if a, _ := st.AccountByID(acct.ID); a.Partner == "" {
		t.Fatal("the existing Northwind is not managed by a partner")
	}
}

// TestSeedPartners: each partner sees exactly its own clients, with users
// and live sessions to act on.
func TestSeedPartners(t *testing.T) {
	st, res := open(t)
	if _, err := Seed(st, res, time.Now()); err != nil {
		t.Fatal(err)
	}
	for email, want := range map[string][]string{
		"partner@partner.example":       {fabrikam, northwind},
		"partner-staff@partner.example": {fabrikam, northwind},
		"admin@litware.example":         {tailspin},
		"staff@litware.example":         {tailspin},
	} {
		u, err := st.UserByEmail(email)
		if err != nil {
			t.Fatalf("%s: %v", email, err)
		}
		clients, err := st.PartnerClients(u.AccountID)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, c := range clients {
			names = append(names, c.Account.Name)
			if c.Users < 2 || c.LiveSessions < 6 {
				t.Errorf("%s: %s has %d users and %d live sessions, want a few of each", email, c.Account.Name, c.Users, c.LiveSessions)
			}
		}
		if fmt.Sprint(names) != fmt.Sprint(want) {
			t.Errorf("%s manages %v, want %v", email, names, want)
		}
	}
}

// TestSeedTwoStep: one demo customer and one demo partner user have
// two-step sign-in on, each with a full set of recovery codes; nobody
// else has it.
func TestSeedTwoStep(t *testing.T) {
	st, res := open(t)
	if _, err := Seed(st, res, time.Now()); err != nil {
		t.Fatal(err)
	}
	kinds := map[bool]int{} // customer or not
	for _, l := range append(Logins[:len(Logins):len(Logins)], clientUsers...) {
		u, err := st.UserByEmail(l.Email)
		if err != nil {
			t.Fatal(err)
		}
		ts, err := st.TwoStep(u.ID)
		switch {
		case !l.TwoStep && !errors.Is(err, store.ErrTwoStepOff):
			t.Errorf("%s: two-step sign-in %v, want off", l.Email, err)
		case l.TwoStep && (err != nil || len(ts.Secret) < 16 || ts.CodesLeft != store.RecoveryCodes):
			t.Errorf("%s: two-step sign-in %+v, %v; want on with %d recovery codes", l.Email, ts.CodesLeft, err, store.RecoveryCodes)
		case l.TwoStep:
			kinds[l.Role.IsCustomer()]++
		}
	}
	if kinds[true] != 1 || kinds[false] != 1 {
		t.Errorf("two-step users: %d customers and %d partner users, want one of each", kinds[true], kinds[false])
	}
}
