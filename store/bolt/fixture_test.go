package bolt

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"portal/device"
	"portal/geo"
	"portal/store"
)

var update = flag.Bool("update", false, "rewrite testdata/v1.db and testdata/v1.json (TestWriteV1Fixture)")

// v1Fixture is what testdata/v1.json says about testdata/v1.db: every record
// as the schema-1 code that wrote the file read it back, each session's
// token, and whether it was live at Now under Policy.
type v1Fixture struct {
	Now      time.Time        `json:"now"`
	Policy   store.Policy     `json:"policy"`
	CSRFKey  []byte           `json:"csrf_key"`
	Accounts []store.Account  `json:"accounts"`
	Users    []store.User     `json:"users"`
	Sessions []fixtureSession `json:"sessions"`
}

type fixtureSession struct {
	Token   string        `json:"token"`
	Ended   store.Reason  `json:"ended,omitempty"` // why it had ended at Now; "" if live
	Session store.Session `json:"session"`
}

const (
	v1DB   = "testdata/v1.db"
	v1JSON = "testdata/v1.json"
)

func readV1Fixture(t *testing.T) v1Fixture {
	t.Helper()
	data, err := os.ReadFile(v1JSON)
	if err != nil {
		t.Fatal(err)
	}
	var f v1Fixture
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestWriteV1Fixture writes testdata/v1.db, a small schema-1 database with
// something of every kind in it, and testdata/v1.json, what it holds. It
// runs only with -update, and only in a binary whose SchemaVersion is 1:
// the file stands for the databases already out there, so it must never be
// rewritten by code that writes a newer layout.
//
//	go test ./store -run TestWriteV1Fixture -update
func TestWriteV1Fixture(t *testing.T) {
	if !*update {
		t.Skip("rewrites testdata/v1.db only with -update")
	}
	if SchemaVersion != 1 {
		t.Fatalf("this binary writes schema %d; write the version-1 fixture from a version-1 checkout", SchemaVersion)
	}
	c := newClock()
	path := filepath.Join(t.TempDir(), "v1.db")
	s := mustOpenPath(t, path, Options{Now: c.Now, Policy: testPolicy, MaxSessionsPerUser: 4})

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	acme, err := s.CreateAccount("Acme Ltd", store.AccountClient)
	must(err)
	globex, err := s.CreateAccount("Globex", store.AccountClient)
	must(err)
	northwind, err := s.CreateAccount("Northwind Partners", store.AccountPartner)
	must(err)
	users, err := s.CreateUsers([]store.NewUser{
		{AccountID: acme.ID, Email: "Alice@Acme.example", Name: "Alice Admin", Role: store.RoleClientAdmin, PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$YWxpY2U$aGFzaC1hbGljZQ"},
		{AccountID: acme.ID, Email: "bob@acme.example", Name: "Bob Manager", Role: store.RoleClientManager, PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$Ym9i$aGFzaC1ib2I"},
		{AccountID: acme.ID, Email: "carol@acme.example", Name: "Carol Staff", Role: store.RoleClientStaff, PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$Y2Fyb2w$aGFzaC1jYXJvbA"},
		{AccountID: globex.ID, Email: "dave@globex.example", Name: "Dave Staff", Role: store.RoleClientStaff, PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$ZGF2ZQ$aGFzaC1kYXZl"},
		{AccountID: northwind.ID, Email: "erin@northwind.example", Name: "Erin Partner", Role: store.RolePartnerAdmin, PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$ZXJpbg$aGFzaC1lcmlu"},
		{AccountID: northwind.ID, Email: "frank@northwind.example", Name: "Frank Partner", Role: store.RolePartnerStaff, PasswordHash: "$argon2id$v=19$m=19456,t=2,p=1$ZnJhbms$aGFzaC1mcmFuaw"},
	})
	must(err)
	alice, bob, carol, dave, erin, frank := users[0], users[1], users[2], users[3], users[4], users[5]

	mac := device.Info{Browser: "Chrome", BrowserVersion: "124.0", OS: "macOS", OSVersion: "14.4", Device: "Mac", Type: "desktop"}
	win := device.Info{Browser: "Firefox", BrowserVersion: "125.0", OS: "Windows", OSVersion: "11", Type: "desktop"}
	iphone := device.Info{Browser: "Safari", BrowserVersion: "17.4", OS: "iOS", OSVersion: "17.4", Device: "iPhone", Type: "mobile"}
	pixel := device.Info{Browser: "Chrome", BrowserVersion: "123.0", OS: "Android", OSVersion: "14", Device: "Pixel 8", Type: "mobile"}
	berlin := geo.Place{Network: "203.0.113.0/24", Masked: "203.0.113.x", Location: geo.Location{City: "Berlin", Region: "Berlin", Country: "Germany", CountryCode: "DE"}}
	paris := geo.Place{Network: "198.51.100.0/24", Masked: "198.51.100.x", Location: geo.Location{City: "Paris", Region: "Île-de-France", Country: "France", CountryCode: "FR"}}
	lyon := geo.Place{Network: "2001:db8:42::/48", Masked: "2001:db8:42::x", Location: geo.Location{City: "Lyon", Region: "Auvergne-Rhône-Alpes", Country: "France", CountryCode: "FR"}}
	office := geo.Place{Network: "10.1.2.0/24", Masked: "10.1.2.x", Location: geo.Location{Private: true}}
	const (
		uaMac    = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
		uaMacNew = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36"
		uaWin    = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0"
		uaPhone  = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
		uaPixel  = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Mobile Safari/537.36"
	)

	type made struct {
		user  store.User
		sess  store.Session
		token string
	}
	var all []made
	signIn := func(u store.User, in store.NewSession) made {
		t.Helper()
		sess, tok := mustSession(t, s, u.ID, in)
		m := made{u, sess, tok}
		all = append(all, m)
		return m
	}
	use := func(m made) {
		t.Helper()
		if _, _, err := s.Authenticate(m.token); err != nil {
			t.Fatalf("Authenticate %s: %v", m.sess.ID, err)
		}
	}

	// t0: sign-ins, some with times in the past.
	a1 := signIn(alice, store.NewSession{UserAgent: uaMac, Device: mac, Place: berlin})
	a2 := signIn(alice, store.NewSession{UserAgent: uaWin, Device: win, Place: paris})
	signIn(alice, store.NewSession{UserAgent: uaPhone, Device: iphone, Place: lyon})
	b1 := signIn(bob, store.NewSession{UserAgent: uaPixel, Device: pixel, Place: paris})
	b2 := signIn(bob, store.NewSession{UserAgent: uaWin, Device: win, Place: berlin, CreatedAt: t0.Add(-11*time.Hour - 45*time.Minute), LastActive: t0})
	signIn(bob, store.NewSession{UserAgent: uaMac, Device: mac, Place: office, CreatedAt: t0.Add(-2 * time.Hour), LastActive: t0.Add(-time.Hour)})
	b4 := signIn(bob, store.NewSession{UserAgent: uaPhone, Device: iphone, Place: lyon})
	signIn(erin, store.NewSession{UserAgent: uaMac, Device: mac, Place: lyon})
	e2 := signIn(erin, store.NewSession{UserAgent: uaWin, Device: win, Place: office})
	signIn(erin, store.NewSession{UserAgent: uaPixel, Device: pixel, Place: berlin, CreatedAt: t0.Add(-3 * time.Hour), LastActive: t0.Add(-2 * time.Hour)})
	e4 := signIn(erin, store.NewSession{UserAgent: uaPhone, Device: iphone, Place: paris, CreatedAt: t0.Add(-11*time.Hour - 40*time.Minute), LastActive: t0})
	f1 := signIn(frank, store.NewSession{UserAgent: uaMac, Device: mac, Place: berlin})
	signIn(frank, store.NewSession{UserAgent: uaWin, Device: win, Place: paris})
	signIn(frank, store.NewSession{UserAgent: uaPixel, Device: pixel, Place: lyon})
	signIn(dave, store.NewSession{UserAgent: uaWin, Device: win, Place: office})
	signIn(dave, store.NewSession{UserAgent: uaPhone, Device: iphone})

	// t0+1m..5m: carol signs in five times; the cap of four ends her first.
	var carols []made
	for i, d := range []device.Info{mac, win, iphone, pixel, mac} {
		c.Advance(time.Minute)
		carols = append(carols, signIn(carol, store.NewSession{UserAgent: "carol " + string(rune('A'+i)), Device: d, Place: []geo.Place{berlin, paris, lyon, office, berlin}[i]}))
	}

	// t0+10m: requests; alice's Mac moves to the office network and its
	// browser updates.
	c.Set(t0.Add(10 * time.Minute))
	for _, m := range []made{a1, b1, b2, b4, e4, f1} {
		use(m)
	}
	s.SeenFrom(a1.token, office)
	s.SeenWith(a1.token, store.Agent{UserAgent: uaMacNew, Device: device.Info{Browser: "Chrome", BrowserVersion: "125.0", OS: "macOS", OSVersion: "14.4", Device: "Mac", Type: "desktop"}})
	_, err = s.FlushLastActive()
	must(err)

	// t0+12m: revokes of every kind.
	c.Set(t0.Add(12 * time.Minute))
	_, err = s.RevokeUserSession(alice.ID, a2.sess.ID, store.ReasonRevoked)
	must(err)
	_, err = s.RevokeOtherSessions(alice.ID, a1.sess.ID, store.ReasonRevokedAll)
	must(err)
	_, err = s.RevokeUserSession(erin.ID, e2.sess.ID, store.ReasonSignedOut)
	must(err)
	_, err = s.SetPasswordHash(frank.ID, "$argon2id$v=19$m=19456,t=2,p=1$ZnJhbmsy$bmV3LWhhc2g", true, f1.sess.ID)
	must(err)
	_, err = s.SetUserDisabled(dave.ID, true)
	must(err)

	// t0+15m: alice signs in again on her phone.
	c.Set(t0.Add(15 * time.Minute))
	signIn(alice, store.NewSession{UserAgent: uaPixel, Device: pixel, Place: lyon})

	// t0+20m: carol's live sessions are used.
	c.Set(t0.Add(20 * time.Minute))
	for _, m := range carols[1:] {
		use(m)
	}
	_, err = s.FlushLastActive()
	must(err)

	// t0+25m: bob signs out everywhere but his phone. His lifetime-expired
	// and idle sessions are closed with their own reasons.
	c.Set(t0.Add(25 * time.Minute))
	_, err = s.RevokeOtherSessions(bob.ID, b1.sess.ID, store.ReasonRevokedAll)
	must(err)

	c.Set(t0.Add(30 * time.Minute))
	now := c.Now()
	f := v1Fixture{Now: now, Policy: testPolicy, CSRFKey: s.CSRFKey()}
	f.Accounts, err = s.Accounts()
	must(err)
	f.Users, err = s.Users()
	must(err)
	for _, m := range all {
		got, err := s.UserSession(m.user.ID, m.sess.ID)
		must(err)
		_, reason := got.Ended(now, testPolicy)
		f.Sessions = append(f.Sessions, fixtureSession{Token: m.token, Ended: reason, Session: got})
	}
	must(s.Close())

	data, err := os.ReadFile(path)
	must(err)
	must(os.MkdirAll(filepath.Dir(v1DB), 0o755))
	must(os.WriteFile(v1DB, data, 0o644))
	j, err := json.MarshalIndent(f, "", "\t")
	must(err)
	must(os.WriteFile(v1JSON, append(j, '\n'), 0o644))
}
