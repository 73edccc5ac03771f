// Package demo seeds a database with sample client organisations, the
// partners that manage them and realistic sessions, so the portal can be
// tried at once.
package demo

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"time"

	"portal/geo"
	"portal/password"
	"portal/store"
	"portal/twostep"
)

// Password is every demo user's password. It is printed on the demo's
// sign-in page, which is the point of a demo.
const Password = "demo-password-1"

// Login is one demo user.
type Login struct {
	Email   string
	Name    string
	Role    store.Role
	Account string // the name of its demo account
	// TwoStep: the user has two-step sign-in on, with a random secret and
	// recovery codes nobody is shown; in -demo mode the second-step page
	// shows the current code.
	TwoStep bool
}

// The demo accounts. Contoso manages Northwind and Fabrikam; Litware
// manages Tailspin.
const (
	northwind = "Northwind Traders"
	fabrikam  = "Fabrikam Dental"
	tailspin  = "Tailspin Clinics"
	contoso   = "Contoso Partners"
	litware   = "Litware Partners"
)

// managedBy is each demo client's partner.
var managedBy = map[string]string{northwind: contoso, fabrikam: contoso, tailspin: litware}

// Logins are the demo users the sign-in page lists: one per customer role
// in Northwind and one with two-step sign-in, and an admin and a staff
// user of each partner (Contoso's staff user with two-step sign-in).
var Logins = []Login{
	{Email: "admin@client.example", Name: "Alex Admin", Role: store.RoleClientAdmin, Account: northwind},
	{Email: "manager@client.example", Name: "Morgan Manager", Role: store.RoleClientManager, Account: northwind},
	{Email: "staff@client.example", Name: "Sam Staff", Role: store.RoleClientStaff, Account: northwind},
	{Email: "twostep@client.example", Name: "Taylor Twostep", Role: store.RoleClientStaff, Account: northwind, TwoStep: true},
	{Email: "partner@partner.example", Name: "Pat Partner", Role: store.RolePartnerAdmin, Account: contoso},
	{Email: "partner-staff@partner.example", Name: "Parker Staff", Role: store.RolePartnerStaff, Account: contoso, TwoStep: true},
	{Email: "admin@litware.example", Name: "Lee Litware", Role: store.RolePartnerAdmin, Account: litware},
	{Email: "staff@litware.example", Name: "Lou Litware", Role: store.RolePartnerStaff, Account: litware},
}

// clientUsers are the other clients' users, for the partners to find.
var clientUsers = []Login{
	{Email: "dana@fabrikam.example", Name: "Dana Dentist", Role: store.RoleClientAdmin, Account: fabrikam},
	{Email: "eli@fabrikam.example", Name: "Eli Hygienist", Role: store.RoleClientStaff, Account: fabrikam},
	{Email: "fay@fabrikam.example", Name: "Fay Front Desk", Role: store.RoleClientManager, Account: fabrikam},
	{Email: "gus@tailspin.example", Name: "Gus Clinician", Role: store.RoleClientAdmin, Account: tailspin},
	{Email: "hana@tailspin.example", Name: "Hana Nurse", Role: store.RoleClientStaff, Account: tailspin},
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
func Seed(st store.Backend, loc Locator, now time.Time) (bool, error) {
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
	accounts, err := demoAccounts(st)
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
	for i, l := range append(slices.Clone(Logins), clientUsers...) {
		if _, err := st.UserByEmail(l.Email); err == nil {
			continue
		} else if !errors.Is(err, store.ErrNotFound) {
			return false, err
		}
		seeded = true
		u, err := st.CreateUser(store.NewUser{AccountID: accounts[l.Account].ID, Email: l.Email, Name: l.Name, Role: l.Role, PasswordHash: hash})
		if err != nil {
			return false, err
		}
		if l.TwoStep {
			if err := turnOnTwoStep(st, u); err != nil {
				return false, err
			}
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

// turnOnTwoStep gives u two-step sign-in with a random secret and random
// recovery codes, as if they had set it up themselves (the second-step
// page shows the demo's users their current code).
func turnOnTwoStep(st store.Backend, u store.User) error {
	k, err := twostep.NewKey(u.Email)
	if err != nil {
		return err
	}
	if err := st.EnableTwoStep(u.ID, store.Actor{}, k.Secret, twostep.RecoveryCodes(store.RecoveryCodes)); err != nil {
		return fmt.Errorf("demo: two-step sign-in for %s: %w", u.Email, err)
	}
	return nil
}

func anyDemoUser(users []store.User) bool {
	for _, u := range users {
		for _, l := range append(slices.Clone(Logins), clientUsers...) {
			if u.Email == l.Email {
				return true
			}
		}
	}
	return false
}

// demoAccounts finds or creates each demo account by name, and has each
// client managed by its partner (a demo seeded before partners managed
// clients gets its link on the next start).
func demoAccounts(st store.Backend) (map[string]store.Account, error) {
	all, err := st.Accounts()
	if err != nil {
		return nil, err
	}
	out := map[string]store.Account{}
	for _, a := range all {
		out[a.Name] = a
	}
	for _, name := range []string{contoso, litware} {
		if _, ok := out[name]; !ok {
			if out[name], err = st.CreateAccount(name, store.AccountPartner); err != nil {
				return nil, err
			}
		}
	}
	for _, name := range []string{northwind, fabrikam, tailspin} {
		partner := out[managedBy[name]].ID
		a, ok := out[name]
		switch {
		case !ok:
			a, err = st.CreateClientAccount(name, partner)
		case a.Partner == "":
			a, err = st.SetAccountPartner(a.ID, partner)
		}
		if err != nil {
			return nil, err
		}
		out[name] = a
	}
	return out, nil
}
