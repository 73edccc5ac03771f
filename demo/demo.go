// Package demo seeds a database with a sample client organisation, a
// partner and realistic sessions, so the portal can be tried at once.
package demo

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"

	"portal/geo"
	"portal/password"
	"portal/store"
)

// Password is every demo user's password. It is printed on the demo's
// sign-in page, which is the point of a demo.
const Password = "demo-password-1"

// Login is one demo user.
type Login struct {
	Email string
	Name  string
	Role  store.Role
}

// Logins are the demo users, one per role that matters.
var Logins = []Login{
	{Email: "admin@client.example", Name: "Alex Admin", Role: store.RoleClientAdmin},
	{Email: "manager@client.example", Name: "Morgan Manager", Role: store.RoleClientManager},
	{Email: "staff@client.example", Name: "Sam Staff", Role: store.RoleClientStaff},
	{Email: "partner@partner.example", Name: "Pat Partner", Role: store.RolePartnerAdmin},
}

// userAgents are the devices the seeded sessions appear to come from.
var userAgents = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
	"Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
}

// Locator resolves the demo's sample addresses, as sign-ins do;
// *geo.Resolver is one.
type Locator interface {
	Place(addr netip.Addr) geo.Place
}

// Seed creates whichever demo users are missing, each with its sessions,
// and reports whether it created any. Users that exist are left alone, so
// a seed cut short by a crash is completed on the next start. A database
// with users but no demo user is not a demo and is left untouched.
func Seed(st *store.Store, loc Locator, now time.Time) (bool, error) {
	users, err := st.Users()
	if err != nil {
		return false, err
	}
	if len(users) > 0 && !anyDemoUser(users) {
		return false, nil // someone's real database: never add demo users to it
	}
	hash, err := password.Hash(Password)
	if err != nil {
		return false, err
	}
	client, err := account(st, "Northwind Traders", store.AccountClient)
	if err != nil {
		return false, err
	}
	partner, err := account(st, "Contoso Partners", store.AccountPartner)
	if err != nil {
		return false, err
	}
	addrs := geo.DemoAddrs()
	if len(addrs) == 0 {
		return false, errors.New("demo: no demo addresses")
	}
	// A fixed seed: every demo looks the same, which helps screenshots and
	// support conversations.
	rng := rand.New(rand.NewPCG(1, 2))
	seeded := false
	for i, l := range Logins {
		if _, err := st.UserByEmail(l.Email); err == nil {
			continue
		} else if !errors.Is(err, store.ErrNotFound) {
			return false, err
		}
		seeded = true
		acct := client.ID
		if !l.Role.IsCustomer() {
			acct = partner.ID
		}
		u, err := st.CreateUser(store.NewUser{AccountID: acct, Email: l.Email, Name: l.Name, Role: l.Role, PasswordHash: hash})
		if err != nil {
			return false, err
		}
		if !l.Role.IsCustomer() {
			continue
		}
		var batch []store.SessionFor
		for j := 0; j < 3+(i+1)%3; j++ { // 3 to 5 other sessions each
			ua := userAgents[(i*2+j)%len(userAgents)]
			addr := addrs[(i+j*3)%len(addrs)]
			created := now.Add(-time.Duration(1+rng.IntN(6*24)) * time.Hour)
			active := created.Add(time.Duration(rng.Int64N(int64(now.Sub(created)))))
			if active.Before(now.Add(-11 * time.Hour)) { // keep them inside the idle timeout
				active = now.Add(-time.Duration(5+rng.IntN(600)) * time.Minute)
			}
			in := store.SignIn(ua, loc.Place(addr))
			in.CreatedAt, in.LastActive = created, active
			batch = append(batch, store.SessionFor{UserID: u.ID, NewSession: in})
		}
		if _, _, err := st.CreateSessions(batch); err != nil {
			return false, fmt.Errorf("demo: seed sessions of %s: %w", l.Email, err)
		}
	}
	return seeded, nil
}

func anyDemoUser(users []store.User) bool {
	for _, u := range users {
		for _, l := range Logins {
			if u.Email == l.Email {
				return true
			}
		}
	}
	return false
}

// account finds the demo account by name, or creates it.
func account(st *store.Store, name string, kind store.AccountKind) (store.Account, error) {
	all, err := st.Accounts()
	if err != nil {
		return store.Account{}, err
	}
	for _, a := range all {
		if a.Name == name && a.Kind == kind {
			return a, nil
		}
	}
	return st.CreateAccount(name, kind)
}
