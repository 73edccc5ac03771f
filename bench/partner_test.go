package main

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"portal/handlers"
	"portal/store"
	"portal/store/bolt"
)

// seedPartnerStore seeds the given partners (client counts; users and
// perUser sessions each, logins partner users) into a fresh store and
// returns a snapshot's path, as the benchmark does.
func seedPartnerStore(tb testing.TB, loc handlers.Locator, clients []int, users, perUser, logins int) (string, []partnerFixture) {
	tb.Helper()
	dir := tb.TempDir()
	st, err := bolt.Open(filepath.Join(dir, "seed.db"), storeOptions())
	if err != nil {
		tb.Fatal(err)
	}
	defer st.Close()
	s, err := newSeeder(st, loc, testPasswordHash)
	if err != nil {
		tb.Fatal(err)
	}
	var fs []partnerFixture
	for _, c := range clients {
		f, err := s.partner(c, users, perUser, logins)
		if err != nil {
			tb.Fatal(err)
		}
		fs = append(fs, f)
	}
	path := filepath.Join(dir, "partner.db")
	if err := snapshot(st, path); err != nil {
		tb.Fatal(err)
	}
	return path, fs
}

// TestPartnerScenarios seeds two small partners (the same 120 users over 3
// and over 120 clients) and checks that every page of every console
// scenario answers 200 with the whole page and its rows, and that a short
// load run of each plan gets no error.
func TestPartnerScenarios(t *testing.T) {
	loc := testLocator(t)
	const users, perUser, workers = 120, 3, 8
	path, fs := seedPartnerStore(t, loc, []int{3, users}, users, perUser, 2)
	for _, f := range fs {
		if len(f.UserIDs) != users || len(f.Logins) != 2 || len(f.Terms) == 0 {
			t.Fatalf("partner of %d clients: %d users, %d logins, %d search terms", f.Clients, len(f.UserIDs), len(f.Logins), len(f.Terms))
		}
	}
	p := testPortal(t, path)

	scenarios := partnerScenarios(p, fs, workers, "", "")
	if len(scenarios) != len(partnerKinds)*len(fs) {
		t.Fatalf("%d scenarios", len(scenarios))
	}
	rows := map[string]int{}
	for _, ps := range scenarios {
		if err := ps.check(); err != nil {
			t.Fatal(err)
		}
		for _, pg := range ps.pages {
			rows[ps.kind.name] += pg.Rows
		}
		res, err := generate(ps.plan(0), workers, 100*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		if res.Errors > 0 || res.Requests == 0 {
			t.Fatalf("%s: %d requests, %d errors, first: %s", ps.name, res.Requests, res.Errors, res.FirstErr)
		}
	}
	// For each of the two partners: 8 workers on pages 1, 2, 3, 1… of 50,
	// 50 and 20 rows; searching the surnames of 25, 25, 25, 25 and 20 users
	// (120 users, 25 first names each); 3 sessions each.
	want := map[string]int{
		"partner-users":         2 * (50 + 50 + 20 + 50 + 50 + 20 + 50 + 50),
		"partner-search":        2 * (25 + 25 + 25 + 25 + 20 + 25 + 25 + 25),
		"partner-user-sessions": 2 * workers * perUser,
	}
	for k, n := range want {
		if rows[k] != n {
			t.Errorf("%s: %d rows in all, want %d", k, rows[k], n)
		}
	}
	// A page that does not hold what the plan expects fails the check.
	bad := scenarios[0]
	bad.pages = append(bad.pages[:0:0], bad.pages[0])
	bad.pages[0].Rows++
	if err := bad.check(); err == nil || !strings.Contains(err.Error(), "rows") {
		t.Fatalf("check of a page with a row too few: %v", err)
	}
}

// TestPartnerTargets checks the verdicts on made-up figures.
func TestPartnerTargets(t *testing.T) {
	sums := []summary{
		{Name: "auth-page", RPS: 1000, CPUPerReq: 100},
		{Name: "partner-users-10c", RPS: 600, CPUPerReq: 150, P99: 10},
		{Name: "partner-users-1000c", RPS: 400, CPUPerReq: 250, P99: 20},
		{Name: "partner-search-10c", RPS: 800, CPUPerReq: 120, P99: 10},
		{Name: "partner-search-1000c", RPS: 700, CPUPerReq: 130, P99: 11},
	}
	verdict := func(ok bool) string {
		if ok {
			return "MET    "
		}
		return "NOT MET"
	}
	var b bytes.Buffer
	printPartnerTargets(&b, sums, false, verdict, verdict)
	got := b.String()
	for _, line := range []string{
		"MET     partner-users-10c req/s >= 0.5x auth-page: 0.60x",
		"NOT MET partner-users-1000c req/s >= 0.5x auth-page: 0.40x",
		"NOT MET partner-users-1000c within 1.2x of partner-users-10c: req/s 1.50x slower",
		"MET     partner-search-1000c within 1.2x of partner-search-10c: req/s 1.14x slower",
	} {
		if !strings.Contains(got, line) {
			t.Errorf("no %q in\n%s", line, got)
		}
	}
}

// The partner console's handler benchmarks: the partners (1,000
// users with 10 sessions each, over 10 and 1,000 clients), server CPU per
// request without sockets. AfterWrite commits a write before each request,
// so that the partner's directory (every user and their live session
// count) is rebuilt, as on the first request after any write in the store:
//
//	go test -run '^$' -bench HandlerPartner -benchmem ./bench/
func BenchmarkHandlerPartner(b *testing.B) {
	loc := testLocator(b)
	path, fs := seedPartnerStore(b, loc, partnerClientCounts, partnerUsers, partnerPerUser, 1)
	srv := testServer(b, path, true)
	st, h := srv.Store(), srv.App().Handler()
	other, err := st.CreateAccount("Bench Unmanaged Ltd", store.AccountClient)
	if err != nil {
		b.Fatal(err)
	}
	// write commits a transaction that changes nothing the console shows.
	write := func() {
		if _, err := st.SetAccountPartner(other.ID, ""); err != nil {
			b.Fatal(err)
		}
	}
	for _, f := range fs {
		cookie := sessionCookie + "=" + f.Logins[0].Token
		for _, k := range partnerKinds {
			path := k.pages(f, 1)[0].Path
			b.Run(fmt.Sprintf("%s-%dc", strings.TrimPrefix(k.name, "partner-"), f.Clients), func(b *testing.B) {
				req := getRequest(path, cookie, false)
				var ctx fasthttp.RequestCtx
				ctx.Init(req, nil, nil)
				h(&ctx) // builds the partner's directory: the steady state is what is measured
				benchHandler(b, h, req)
			})
		}
		// The console's start page lists every client, unpaginated.
		b.Run(fmt.Sprintf("clients-%dc", f.Clients), func(b *testing.B) {
			benchHandler(b, h, getRequest("/partner", cookie, false))
		})
		b.Run(fmt.Sprintf("users-%dc-AfterWrite", f.Clients), func(b *testing.B) {
			benchHandler(b, h, getRequest(partnerKinds[0].pages(f, 1)[0].Path, cookie, false), write)
		})
	}
	// The write alone, to subtract from the AfterWrite figures.
	b.Run("Write", func(b *testing.B) {
		for b.Loop() {
			write()
		}
	})
}
