package cli

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"portal/geo"
	"portal/internal/pgtest"
	"portal/store"
	"portal/store/postgres"
)

// What a person is told while PostgreSQL is out of reach
// (handlers/errors.go), as the pages show them.
const (
	pgUnavailableText = "The portal cannot reach its database right now. Nothing was changed; try again in a moment."
	pgUnknownText     = "The portal lost its database while saving that change, so it may or may not have been made."
)

// TestPostgresUnreachableAtStart: with no server behind the URL, the
// binary waits -db-connect-timeout, says so in a sentence that does not
// show the password, and exits 1.
func TestPostgresUnreachableAtStart(t *testing.T) {
	bin := buildPortal(t)
	empty := t.TempDir() // a socket directory with no server in it
	for _, dbURL := range []string{
		"postgres://portal:s3cr3t-pw@/portal?host=" + empty + "&port=5432",
		"postgresql:///portal?host=" + empty + "&user=portal&password=s3cr3t-pw",
	} {
		start := time.Now()
		p := startBin(t, bin, "-db", dbURL, "-db-connect-timeout", "2s", "-addr", "127.0.0.1:0")
		code := p.wait(60 * time.Second)
		took := time.Since(start)
		out := p.out.String()
		if code != 1 {
			t.Errorf("exit code %d, want 1; output:\n%s", code, out)
		}
		if took < 2*time.Second {
			t.Errorf("gave up after %s, before -db-connect-timeout 2s", took)
		}
		if !strings.Contains(out, "did not answer in time") || !strings.Contains(out, "check that it is running") {
			t.Errorf("no sentence saying the database did not answer:\n%s", out)
		}
		if strings.Contains(out, "s3cr3t-pw") {
			t.Errorf("the output shows the password:\n%s", out)
		}
		assertNoCrash(t, out)
		t.Logf("exited %d after %s", code, took.Round(10*time.Millisecond))
	}
}

// outcome is what one revoke's response claimed.
type outcome int

const (
	claimedDone  outcome = iota // the page said it was signed out
	claimedNone                 // 503: nothing was changed
	claimedMaybe                // 503: the commit went unanswered
)

// TestPostgresGoesAwayUnderLoad stops the cluster while browsers read
// Active Sessions and sign sessions out, then starts it again. Every
// response is a success or the 503 sentence, never a 500; a sign-out is
// reported only once committed, and a 503 that says nothing changed
// changed nothing; /readyz says unavailable meanwhile; a page behind
// sign-in is a 503 page, not a sign-in redirect; and the same process
// works again once PostgreSQL is back.
func TestPostgresGoesAwayUnderLoad(t *testing.T) {
	cluster := pgtest.Start(t)
	dbURL := pgtest.NewDB(t)
	bin := buildPortal(t)
	p := startBin(t, bin, "-demo", "-db", dbURL, "-addr", "127.0.0.1:0", "-max-sessions", "0")
	base := p.waitListening(60 * time.Second)
	const email = "admin@client.example"
	victims := seedSessions(t, dbURL, email, 400)

	tr := binTransport()
	defer tr.CloseIdleConnections()
	const actors = 4
	var browsers []*binBrowser
	for range actors {
		b := &binBrowser{base: base, hc: binHTTPClient(tr)}
		if r, ok, err := b.signIn(email); err != nil || !ok {
			t.Fatalf("sign in: %v %+v", err, r)
		}
		if _, r, err := b.loadSessions(); err != nil {
			t.Fatalf("Active Sessions: %v %d", err, r.status)
		}
		browsers = append(browsers, b)
	}
	hx := &http.Client{Transport: htmxTransport{tr}, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	var (
		mu       sync.Mutex
		outcomes = map[string]outcome{}
		bad      []string
		done     int // sign-outs reported done
		failed   int // 503s
	)
	note := func(format string, r binResponse) {
		mu.Lock()
		defer mu.Unlock()
		bad = append(bad, format+": "+http.StatusText(r.status)+" "+r.location+" "+firstLine(r.body))
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i, b := range browsers {
		share := victims[i*len(victims)/actors : (i+1)*len(victims)/actors]
		wg.Go(func() {
			for n, id := range share {
				select {
				case <-stop:
					return
				default:
				}
				// Half the sign-outs as a plain form, half as htmx.
				asHTMX := n%2 == 1
				r, err := revokeAs(b, hx, id, asHTMX)
				if err != nil {
					note("revoke: "+err.Error(), r)
					continue
				}
				var o outcome
				switch {
				case !asHTMX && r.status == http.StatusSeeOther && r.location == "/settings?section=active-sessions",
					asHTMX && r.status == http.StatusOK && strings.Contains(r.body, `id="session-`+id+`"`):
					o = claimedDone
				case r.status == http.StatusServiceUnavailable && strings.Contains(r.body, pgUnavailableText):
					o = claimedNone
				case r.status == http.StatusServiceUnavailable && strings.Contains(r.body, pgUnknownText):
					o = claimedMaybe
				default:
					note("revoke", r)
					continue
				}
				mu.Lock()
				outcomes[id] = o
				if o == claimedDone {
					done++
				} else {
					failed++
				}
				mu.Unlock()
				if o != claimedDone {
					// As a person would, wait before trying the next.
					time.Sleep(300 * time.Millisecond)
				}
				if r, err := b.do("GET", "/settings?section=active-sessions", nil); err != nil {
					note("list: "+err.Error(), r)
				} else if r.status != http.StatusOK && !(r.status == http.StatusServiceUnavailable && strings.Contains(r.body, pgUnavailableText)) {
					note("list", r)
				}
				time.Sleep(30 * time.Millisecond)
			}
		})
	}
	counts := func() (int, int) { mu.Lock(); defer mu.Unlock(); return done, failed }
	waitFor := func(what string, within time.Duration, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(within)
		for !cond() {
			if time.Now().After(deadline) {
				close(stop)
				wg.Wait()
				t.Fatalf("%s: not within %s; output:\n%s", what, within, p.out)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor("sign-outs before the outage", 30*time.Second, func() bool { d, _ := counts(); return d >= 10 })

	if _, f := counts(); f != 0 {
		t.Errorf("%d sign-outs refused before PostgreSQL was stopped", f)
	}
	cluster.Stop(t)
	stoppedAt := time.Now()
	probe := browsers[0]
	r, err := (&binBrowser{base: base, hc: binHTTPClient(tr)}).do("GET", "/readyz", nil)
	if err != nil || r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, "db: unavailable (postgres)") {
		t.Errorf("/readyz with PostgreSQL stopped: %v %d %q", err, r.status, r.body)
	}
	// Let the sign-outs run into the outage for a while.
	waitFor("503s during the outage", 30*time.Second, func() bool { _, f := counts(); return f >= 8 })
	r, err = probe.do("GET", "/settings?section=active-sessions", nil)
	switch {
	case err != nil:
		t.Errorf("a page with PostgreSQL stopped: %v", err)
	case r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, pgUnavailableText) || !strings.Contains(r.body, "Try again"):
		t.Errorf("a page with PostgreSQL stopped: %d %q, want the 503 page with the sentence", r.status, r.location)
	case probe.ended:
		t.Error("the outage cleared the session cookie: the user would be signed out for nothing")
	}
	if r.location != "" {
		t.Errorf("a page with PostgreSQL stopped redirected to %q", r.location)
	}
	time.Sleep(time.Until(stoppedAt.Add(2 * time.Second))) // down for 2 s at least
	downFor := time.Since(stoppedAt)
	doneDown, _ := counts()

	cluster.Start(t)
	restartedAt := time.Now()
	waitFor("/readyz ok after the restart", 30*time.Second, func() bool {
		r, err := (&binBrowser{base: base, hc: binHTTPClient(tr)}).do("GET", "/readyz", nil)
		return err == nil && r.status == http.StatusOK
	})
	waitFor("sign-outs after the restart", 30*time.Second, func() bool { d, _ := counts(); return d >= doneDown+10 })
	recovered := time.Since(restartedAt)
	close(stop)
	wg.Wait()

	for _, b := range browsers {
		if r, err := b.do("GET", "/settings?section=active-sessions", nil); err != nil || r.status != http.StatusOK || b.ended {
			t.Errorf("a signed-in browser after the restart: %v %d %q (cookie cleared: %v)", err, r.status, r.location, b.ended)
		}
	}
	for _, s := range bad {
		t.Error(s)
	}

	// What the responses claimed, against what PostgreSQL holds.
	revoked := revokedIDs(t, dbURL, victims)
	var n [3]int
	for id, o := range outcomes {
		n[o]++
		switch {
		case o == claimedDone && !revoked[id]:
			t.Errorf("session %s was reported signed out but is not revoked", id[:8])
		case o == claimedNone && revoked[id]:
			t.Errorf("session %s was revoked though the 503 said nothing was changed", id[:8])
		}
	}
	for _, id := range victims {
		if _, tried := outcomes[id]; !tried && revoked[id] {
			t.Errorf("session %s was revoked though nobody asked", id[:8])
		}
	}
	if strings.Contains(p.out.String(), "status=500") {
		t.Errorf("a request got a 500:\n%s", p.out)
	}
	assertNoCrash(t, p.out.String())
	t.Logf("sign-outs: %d reported done and committed, %d refused with nothing changed, %d outcome unknown; down %s, working again %s after the restart",
		n[claimedDone], n[claimedNone], n[claimedMaybe], downFor.Round(time.Millisecond), recovered.Round(time.Millisecond))
}

// TestSignOutAllKilledMidway: an instance killed with SIGKILL while it
// signs out a user's 2,000 other sessions leaves all of them or none
// revoked, never some. The test holds the user's event_versions row,
// which the transaction updates after it has closed the sessions, so the
// kill lands while the transaction is open with its work done.
func TestSignOutAllKilledMidway(t *testing.T) {
	dbURL := pgtest.NewDB(t)
	bin := buildPortal(t)
	// No flush of last-active times while the test holds the row: only
	// the sign-out-all may be waiting for it.
	a := startBin(t, bin, "-demo", "-db", dbURL, "-addr", "127.0.0.1:0", "-max-sessions", "0", "-flush-interval", "1m")
	baseA := a.waitListening(60 * time.Second)
	const email = "staff@client.example"
	victims := seedSessions(t, dbURL, email, 2000)

	tr := binTransport()
	defer tr.CloseIdleConnections()
	x := &binBrowser{base: baseA, hc: binHTTPClient(tr)}
	if r, ok, err := x.signIn(email); err != nil || !ok {
		t.Fatalf("sign in: %v %+v", err, r)
	}
	if _, r, err := x.loadSessions(); err != nil {
		t.Fatalf("Active Sessions: %v %d", err, r.status)
	}

	ctx := context.Background()
	conn := pgConnect(t, dbURL)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var held int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM event_versions v JOIN users u ON u.id = v.user_id
		WHERE u.email = $1 FOR UPDATE OF v) l`, email).Scan(&held); err != nil || held != 1 {
		t.Fatalf("hold the user's event_versions row: %v (%d rows)", err, held)
	}
	killed := *x // the request dies with the process; x stays the test's
	go killed.do("POST", "/settings/active-sessions/sign-out-others", url.Values{"_csrf": {x.csrf}})
	// Wait until the sign-out-all waits for the row, its sessions closed.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var waiting int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sign-out-all never reached the held row; output:\n%s", a.out)
		}
		time.Sleep(10 * time.Millisecond)
	}
	a.kill()
	// Let the transaction go on: it finds its client gone and rolls back.
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}

	waitNoTransaction(t, conn)
	revoked := revokedIDs(t, dbURL, victims)
	if len(revoked) != 0 && len(revoked) != len(victims) {
		t.Fatalf("after the kill, %d of %d sessions are revoked: the sign-out-all was neither all nor nothing", len(revoked), len(victims))
	}
	t.Logf("killed in the middle of signing out %d sessions: %d revoked after the restart", len(victims), len(revoked))

	// A fresh instance on the same database.
	b := startBin(t, bin, "-db", dbURL, "-addr", "127.0.0.1:0", "-max-sessions", "0")
	baseB := b.waitListening(60 * time.Second)

	// The browser's own session survived (it was never to be revoked),
	// and the sign-out-all done again through B ends every one.
	y := &binBrowser{base: baseB, hc: binHTTPClient(tr), token: x.token, csrf: x.csrf, pre: x.pre}
	if _, r, err := y.loadSessions(); err != nil || r.status != http.StatusOK {
		t.Fatalf("Active Sessions through B with A's browser: %v %d %q", err, r.status, r.location)
	}
	if r, err := y.do("POST", "/settings/active-sessions/sign-out-others", url.Values{"_csrf": {y.csrf}}); err != nil || r.status != http.StatusSeeOther {
		t.Fatalf("sign out all other devices through B: %v %d", err, r.status)
	}
	if revoked := revokedIDs(t, dbURL, victims); len(revoked) != len(victims) {
		t.Fatalf("after sign-out-all through B, %d of %d sessions are revoked", len(revoked), len(victims))
	}
	assertNoCrash(t, b.out.String())
}

// seedSessions starts n sessions of the user with email through the
// store, in one transaction, and returns their ids.
func seedSessions(t *testing.T, dbURL, email string, n int) []string {
	t.Helper()
	st, err := postgres.Open(context.Background(), dbURL, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u, err := st.UserByEmail(email)
	if err != nil {
		t.Fatal(err)
	}
	batch := make([]store.SessionFor, n)
	for i := range batch {
		batch[i] = store.SessionFor{UserID: u.ID, NewSession: store.SignIn("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", geo.Place{})}
	}
	sessions, _, err := st.CreateSessions(batch)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(sessions))
	for i, s := range sessions {
		ids[i] = s.ID
	}
	return ids
}

// revokedIDs reads which of ids are revoked, straight from the database.
func revokedIDs(t *testing.T, dbURL string, ids []string) map[string]bool {
	t.Helper()
	conn := pgConnect(t, dbURL)
	rows, err := conn.Query(context.Background(), "SELECT id FROM sessions WHERE id = ANY($1) AND revoked_at IS NOT NULL", ids)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		out[id] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// waitNoTransaction waits until no other connection to the database has
// a transaction open: a killed client's has then ended one way or the
// other.
func waitNoTransaction(t *testing.T, conn *pgx.Conn) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var open int
		if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND xact_start IS NOT NULL AND pid <> pg_backend_pid()`).Scan(&open); err != nil {
			t.Fatal(err)
		}
		if open == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d transactions still open 30 s after the kill", open)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// pgConnect opens a connection of the test's own, closed when it ends.
func pgConnect(t *testing.T, dbURL string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// revokeAs signs session id out through b, as a plain form or as htmx
// (through hx, which marks every request as htmx's).
func revokeAs(b *binBrowser, hx *http.Client, id string, asHTMX bool) (binResponse, error) {
	if !asHTMX {
		return b.revoke(id)
	}
	plain := b.hc
	b.hc = hx
	defer func() { b.hc = plain }()
	return b.revoke(id)
}

// htmxTransport sends every request as htmx does.
type htmxTransport struct{ base http.RoundTripper }

func (x htmxTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("HX-Request", "true")
	return x.base.RoundTrip(r)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
