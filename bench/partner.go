package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"portal/store"
)

// The partner console's scenarios (issue 15): a partner whose clients hold
// partnerUsers users with partnerPerUser live sessions each, spread over
// 10 and over 1,000 client accounts, so that "flat from 10 to 1,000
// clients" is a ratio within one run.
const (
	partnerUsers   = 1000
	partnerPerUser = 10
)

// partnerClientCounts are the benchmark partners, by how many client
// accounts hold the same users and sessions. The first and the last are
// compared.
var partnerClientCounts = []int{10, 1000}

// Seeded client users' names: every first name with every surname, so a
// surname finds partnerUsers/len(surnames) users (25 of 1,000).
var (
	firstNames = []string{"Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kira",
		"Liam", "Maya", "Nils", "Olga", "Priya", "Quinn", "Rosa", "Sami", "Tomas", "Una", "Viktor", "Wen", "Yara", "Zoe"}
	surnames = []string{"Abbott", "Baker", "Carver", "Dalton", "Ellison", "Fletcher", "Garcia", "Hughes", "Ingram",
		"Jensen", "Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Petrov", "Quintero", "Rossi", "Sandoval",
		"Tanaka", "Umeh", "Varga", "Whitfield", "Xu", "Yilmaz", "Zhang", "Alvarez", "Bergstrom", "Castillo", "Dubois",
		"Eriksen", "Fontaine", "Gallagher", "Haddad", "Iwasaki", "Jovanovic", "Keller", "Laurent", "Mendez", "Novak"}
)

// partnerFixture is one seeded partner account: its signed-in partner
// users and what their console shows.
type partnerFixture struct {
	Clients, Users, PerUser int
	Logins                  []login  // partner users (admin and staff in turn), one session each
	UserIDs                 []string // the client users, in creation order
	Terms                   []searchTerm
}

// searchTerm is a search box's text and how many users it finds.
type searchTerm struct {
	Q       string
	Matches int
}

// partner seeds a partner account managing clients client accounts that
// hold users users with perUser live sessions each (user i in client
// i%clients), and logins partner users each signed in once. Users and
// sessions go in batched write transactions; each client account is one.
func (s *seeder) partner(clients, users, perUser, logins int) (partnerFixture, error) {
	f := partnerFixture{Clients: clients, Users: users, PerUser: perUser}
	pa, err := s.st.CreateAccount(fmt.Sprintf("Bench Partner of %d clients", clients), store.AccountPartner)
	if err != nil {
		return f, err
	}
	accts := make([]string, clients)
	for c := range accts {
		a, err := s.st.CreateClientAccount(fmt.Sprintf("Client %04d of %d Ltd", c, clients), pa.ID)
		if err != nil {
			return f, err
		}
		accts[c] = a.ID
	}
	text := make([]string, 0, users) // what a search looks in, as the store does
	const batch = 10_000             // sessions per write transaction
	for first := 0; first < users; first += max(1, batch/perUser) {
		n := min(max(1, batch/perUser), users-first)
		in := make([]store.NewUser, n)
		for j := range in {
			i := first + j
			name := firstNames[i%len(firstNames)] + " " + surnames[i/len(firstNames)%len(surnames)]
			email := fmt.Sprintf("%s.%04d@c%04d.p%d.example", strings.ReplaceAll(strings.ToLower(name), " ", "."), i, i%clients, clients)
			in[j] = store.NewUser{AccountID: accts[i%clients], Email: email, Name: name, Role: clientRoles[i%len(clientRoles)], PasswordHash: s.pwHash}
			text = append(text, strings.ToLower(store.NormalizeEmail(email)+"\x00"+name))
		}
		created, err := s.st.CreateUsers(in)
		if err != nil {
			return f, fmt.Errorf("partner of %d clients: users %d-%d: %w", clients, first, first+n, err)
		}
		sessions := make([]store.SessionFor, 0, n*perUser)
		for j, u := range created {
			f.UserIDs = append(f.UserIDs, u.ID)
			for k := range perUser {
				sessions = append(sessions, store.SessionFor{UserID: u.ID, NewSession: s.sample(first + j + k)})
			}
		}
		if _, _, err := s.st.CreateSessions(sessions); err != nil {
			return f, fmt.Errorf("partner of %d clients: sessions of users %d-%d: %w", clients, first, first+n, err)
		}
	}
	for i := range logins {
		s.n++
		u, err := s.st.CreateUser(store.NewUser{
			AccountID: pa.ID, Email: fmt.Sprintf("bench.partner.%06d@partner.example", s.n),
			Name: fmt.Sprintf("Bench Partner %06d", s.n), Role: partnerRoles[i%len(partnerRoles)], PasswordHash: s.pwHash,
		})
		if err != nil {
			return f, err
		}
		l, err := s.current(u)
		if err != nil {
			return f, err
		}
		f.Logins = append(f.Logins, l)
	}
	for _, last := range surnames {
		t := searchTerm{Q: strings.ToLower(last)}
		for _, x := range text {
			if strings.Contains(x, t.Q) {
				t.Matches++
			}
		}
		if t.Matches > 0 {
			f.Terms = append(f.Terms, t)
		}
	}
	return f, nil
}

var (
	clientRoles  = []store.Role{store.RoleClientStaff, store.RoleClientManager, store.RoleClientStaff, store.RoleClientAdmin}
	partnerRoles = []store.Role{store.RolePartnerAdmin, store.RolePartnerStaff}
)

// seedPartners seeds one partner per partnerClientCounts into s's store.
func seedPartners(s *seeder, workers int, out io.Writer) ([]partnerFixture, error) {
	t0, w0 := time.Now(), s.st.WriteTxCount()
	var fs []partnerFixture
	for _, clients := range partnerClientCounts {
		f, err := s.partner(clients, partnerUsers, partnerPerUser, workers)
		if err != nil {
			return nil, err
		}
		fs = append(fs, f)
	}
	txs := s.st.WriteTxCount() - w0
	fmt.Fprintf(out, "seeded %d partners (%v client accounts) of %d users with %d live sessions each, %d partner users each: %d write txs in %s (%s per tx)\n",
		len(fs), partnerClientCounts, partnerUsers, partnerPerUser, workers, txs, since(t0), perTx(t0, txs))
	return fs, nil
}

// Rows of the console's pages.
var (
	partnerUserRowRe = regexp.MustCompile(`<td><a href="/partner/users/[0-9a-f]{32}">`)
	fullPageRe       = regexp.MustCompile(`(?i)^<!doctype html>`)
)

// partnerPage is one request of a partner scenario and what its answer
// must hold.
type partnerPage struct {
	Login login
	Path  string
	Rows  int // matches of the kind's row pattern
}

// partnerKind is one page of the console, measured for each partner.
type partnerKind struct {
	name  string
	rowRe *regexp.Regexp
	about func(f partnerFixture) string
	pages func(f partnerFixture, workers int) []partnerPage // one per worker
}

var partnerKinds = []partnerKind{
	{name: "partner-users", rowRe: partnerUserRowRe,
		about: func(f partnerFixture) string {
			return fmt.Sprintf("GET /partner/users?page=N (All users, %d a page), full page; worker w on page w mod %d+1", store.PageSize, pages(f.Users))
		},
		pages: func(f partnerFixture, workers int) []partnerPage {
			var out []partnerPage
			for w := range workers {
				p := w%pages(f.Users) + 1
				out = append(out, partnerPage{Login: f.Logins[w%len(f.Logins)], Path: fmt.Sprintf("/partner/users?page=%d", p),
					Rows: min(store.PageSize, f.Users-(p-1)*store.PageSize)})
			}
			return out
		}},
	{name: "partner-search", rowRe: partnerUserRowRe,
		about: func(f partnerFixture) string {
			return fmt.Sprintf("GET /partner/users?q=SURNAME, full page: each worker its own surname, %d to %d users found", minMatches(f), maxMatches(f))
		},
		pages: func(f partnerFixture, workers int) []partnerPage {
			var out []partnerPage
			for w := range workers {
				t := f.Terms[w%len(f.Terms)]
				out = append(out, partnerPage{Login: f.Logins[w%len(f.Logins)], Path: "/partner/users?q=" + url.QueryEscape(t.Q),
					Rows: min(store.PageSize, t.Matches)})
			}
			return out
		}},
	{name: "partner-user-sessions", rowRe: sessionRowRe,
		about: func(f partnerFixture) string {
			return fmt.Sprintf("GET /partner/users/:id, full page: a client user's %d sessions, each worker its own user", f.PerUser)
		},
		pages: func(f partnerFixture, workers int) []partnerPage {
			var out []partnerPage
			for w := range workers {
				out = append(out, partnerPage{Login: f.Logins[w%len(f.Logins)], Path: "/partner/users/" + f.UserIDs[w*37%len(f.UserIDs)],
					Rows: f.PerUser})
			}
			return out
		}},
}

func pages(users int) int { return max(1, (users+store.PageSize-1)/store.PageSize) }

func minMatches(f partnerFixture) int {
	n := f.Users
	for _, t := range f.Terms {
		n = min(n, t.Matches)
	}
	return n
}

func maxMatches(f partnerFixture) int {
	n := 0
	for _, t := range f.Terms {
		n = max(n, t.Matches)
	}
	return n
}

// partnerScenarioName is kind's scenario for the partner of clients
// clients; suffix names the store ("" or "-1M").
func partnerScenarioName(kind string, clients int, suffix string) string {
	return fmt.Sprintf("%s-%dc%s", kind, clients, suffix)
}

// partnerScenario is one kind of page for one partner, served by p.
type partnerScenario struct {
	scenario
	kind  partnerKind
	pages []partnerPage
}

// partnerScenarios lists the console's scenarios on p: each kind for each
// partner, the partners of one kind next to each other so that drift hits
// both alike.
func partnerScenarios(p *portal, fs []partnerFixture, workers int, suffix, about string) []partnerScenario {
	var out []partnerScenario
	for _, k := range partnerKinds {
		for _, f := range fs {
			pp := k.pages(f, workers)
			pl := plan{Method: http.MethodGet, Base: p.base}
			for _, pg := range pp {
				pl.Jobs = append(pl.Jobs, job{Path: pg.Path, Cookie: sessionCookie + "=" + pg.Login.Token})
			}
			out = append(out, partnerScenario{
				scenario: scenario{name: partnerScenarioName(k.name, f.Clients, suffix), warm: true, owner: p,
					plan: func(int) plan { return pl },
					about: fmt.Sprintf("%s; partner of %d clients, %d users, %d sessions%s", k.about(f), f.Clients, f.Users,
						f.Users*f.PerUser, about)},
				kind: k, pages: pp,
			})
		}
	}
	return out
}

// check makes sure the scenario measures what it claims: every page of
// its plan answers 200 with the whole page and the expected rows.
func (ps partnerScenario) check() error {
	for _, pg := range ps.pages {
		body, _, err := get(ps.owner.base, pg.Path, sessionCookie+"="+pg.Login.Token, nil)
		if err != nil {
			return fmt.Errorf("%s: %w", ps.name, err)
		}
		if !fullPageRe.MatchString(body) {
			return fmt.Errorf("%s: GET %s is not a whole page", ps.name, pg.Path)
		}
		if got := len(ps.kind.rowRe.FindAllString(body, -1)); got != pg.Rows || got == 0 {
			return fmt.Errorf("%s: GET %s: %d rows, want %d", ps.name, pg.Path, got, pg.Rows)
		}
	}
	return nil
}

// printPartnerTargets judges issue 15's targets: each console page at
// least 0.5x the customer's Active Sessions page (auth-page, the full page
// like the console's), and 1,000 clients within 1.2x of 10.
func printPartnerTargets(out io.Writer, sums []summary, open bool, verdict, throughput func(bool) string) {
	page, ok := find(sums, "auth-page")
	for _, s := range sums {
		if !ok || !strings.HasPrefix(s.Name, "partner-") || s.RPS == 0 {
			continue
		}
		r := s.RPS / page.RPS
		fmt.Fprintf(out, "  %s %s req/s >= 0.5x auth-page: %.2fx (%.0f vs %.0f req/s; by CPU per request: %.2fx)\n",
			throughput(r >= 0.5), s.Name, r, s.RPS, page.RPS, page.CPUPerReq/s.CPUPerReq)
	}
	few, many := partnerClientCounts[0], partnerClientCounts[len(partnerClientCounts)-1]
	for _, suffix := range []string{"", "-1M"} {
		for _, k := range partnerKinds {
			small, ok1 := find(sums, partnerScenarioName(k.name, few, suffix))
			big, ok2 := find(sums, partnerScenarioName(k.name, many, suffix))
			if !ok1 || !ok2 || small.RPS == 0 || big.RPS == 0 {
				continue
			}
			slow, cpu := small.RPS/big.RPS, big.CPUPerReq/small.CPUPerReq
			judged := slow
			if open {
				judged = cpu
			}
			fmt.Fprintf(out, "  %s %s within 1.2x of %s: req/s %.2fx slower (CPU per request %.2fx, p99 %.2fx)\n",
				verdict(judged <= 1.2), big.Name, small.Name, slow, cpu, big.P99/small.P99)
		}
	}
}
