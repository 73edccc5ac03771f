package cli

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"portal/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// TestTwoInstancesOnePostgres: two portal processes on one PostgreSQL
// database share sessions. A browser signs in through A; the same user,
// through B, signs it out; A refuses it on its next request, and A's open
// live-update stream for it is told to leave.
func TestTwoInstancesOnePostgres(t *testing.T) {
	// A password in the URL (the throwaway cluster trusts its socket and
	// ignores it) must never reach a log.
	dbURL := strings.Replace(pgtest.NewDB(t), "postgres://postgres@", "postgres://postgres:s3cr3t-pw@", 1)
	if !strings.Contains(dbURL, "s3cr3t-pw") {
		t.Fatalf("test URL %q has no password", dbURL)
	}
	bin := buildPortal(t)
	a := startBin(t, bin, "-demo", "-db", dbURL, "-addr", "127.0.0.1:0")
	baseA := a.waitListening(60 * time.Second)
	b := startBin(t, bin, "-db", dbURL, "-addr", "127.0.0.1:0")
	baseB := b.waitListening(60 * time.Second)
	for _, p := range []*binProc{a, b} {
		if strings.Contains(p.out.String(), "s3cr3t-pw") {
			t.Fatalf("the log shows the database password:\n%s", p.out)
		}
	}
	tr := binTransport()
	defer tr.CloseIdleConnections()

	for _, base := range []string{baseA, baseB} {
		r, err := (&binBrowser{base: base, hc: binHTTPClient(tr)}).do("GET", "/readyz", nil)
		if err != nil || r.status != http.StatusOK || !strings.Contains(r.body, "db: ok (postgres)") {
			t.Fatalf("readyz on %s: %v %d %q", base, err, r.status, r.body)
		}
	}

	const rounds = 20
	for round := range rounds {
		x := &binBrowser{base: baseA, hc: binHTTPClient(tr)}
		if r, ok, err := x.signIn(binCustomers[round%3]); err != nil || !ok {
			t.Fatalf("sign in through A: %v %+v", err, r)
		}
		if _, r, err := x.loadSessions(); err != nil || r.status != http.StatusOK {
			t.Fatalf("Active Sessions through A: %v %d", err, r.status)
		}
		var stream *bufio.Reader
		if round == 0 {
			stream = openBinStream(t, baseA, x.token)
		}
		y := &binBrowser{base: baseB, hc: binHTTPClient(tr)}
		if r, ok, err := y.signIn(x.email); err != nil || !ok {
			t.Fatalf("sign in through B: %v %+v", err, r)
		}
		if _, r, err := y.loadSessions(); err != nil || r.status != http.StatusOK {
			t.Fatalf("Active Sessions through B: %v %d", err, r.status)
		}
		if r, err := y.revoke(x.id); err != nil || r.status != http.StatusSeeOther {
			t.Fatalf("sign out A's browser through B: %v %d", err, r.status)
		}
		// The very next request through A: B answered the revoke only
		// once A had confirmed it dropped the session.
		r, err := x.do("GET", "/settings", nil)
		if err != nil {
			t.Fatal(err)
		}
		if r.status != http.StatusSeeOther || r.location != "/login?reason=revoked" {
			t.Fatalf("round %d: A's next request after B's revoke answered %d %q, want the sign-in page", round, r.status, r.location)
		}
		if stream != nil {
			waitEnd(t, stream, "/login?reason=revoked")
		}
	}
}

// waitEnd reads stream until it sends the browser to to, failing after
// 15 seconds or if the stream ends first.
func waitEnd(t *testing.T, stream *bufio.Reader, to string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		line, err := stream.ReadString('\n')
		if err != nil || time.Now().After(deadline) {
			t.Fatalf("the stream of the revoked session got no end event to %s (%v)", to, err)
		}
		if strings.HasPrefix(line, "data: "+to) {
			return
		}
	}
}

// openBinStream opens a live-update stream with the session token and
// returns it to read.
func openBinStream(t *testing.T, base, token string) *bufio.Reader {
	t.Helper()
	host := strings.TrimPrefix(base, "http://")
	conn, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "GET /events HTTP/1.1\r\nHost: %s\r\nCookie: portal_session=%s\r\nSec-Fetch-Site: same-origin\r\n\r\n", host, token)
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(conn)
	if status, err := r.ReadString('\n'); err != nil || !strings.Contains(status, " 200 ") {
		t.Fatalf("open a stream on %s: %q %v", base, status, err)
	}
	time.Sleep(200 * time.Millisecond) // registered in the hub
	return r
}

// TestListenerTerminated: instance B's listening connection is ended by
// PostgreSQL (pg_terminate_backend), round after round. Right after each
// cut, a session B signs out is refused on A's next request (A still
// listens), and a session B had cached that A signs out is refused on B's
// next request (B no longer trusts its cache); once B listens again, a
// session it had cached again and that A signs out is refused on B's next
// request too.
func TestListenerTerminated(t *testing.T) {
	cluster := pgtest.Start(t)
	dbURL := pgtest.NewDB(t)
	bin := buildPortal(t)
	conn := pgConnect(t, dbURL)
	a := startBin(t, bin, "-demo", "-db", dbURL, "-addr", "127.0.0.1:0")
	baseA := a.waitListening(60 * time.Second)
	ofA := listeners(t, conn, nil)
	if len(ofA) != 1 {
		t.Fatalf("%d listening connections with only A running, want 1", len(ofA))
	}
	b := startBin(t, bin, "-db", dbURL, "-addr", "127.0.0.1:0")
	baseB := b.waitListening(60 * time.Second)
	tr := binTransport()
	defer tr.CloseIdleConnections()

	// signedIn is a browser of email signed in through base, its session
	// validated there twice (so that instance has it cached).
	signedIn := func(base, email string) *binBrowser {
		t.Helper()
		x := &binBrowser{base: base, hc: binHTTPClient(tr)}
		if r, ok, err := x.signIn(email); err != nil || !ok {
			t.Fatalf("sign in through %s: %v %+v", base, err, r)
		}
		for range 2 {
			if _, r, err := x.loadSessions(); err != nil || r.status != http.StatusOK {
				t.Fatalf("Active Sessions through %s: %v %d", base, err, r.status)
			}
		}
		return x
	}
	// signOut signs victim's session out through base, as another browser
	// of the same user, and checks that victim's next request through
	// victim.base is refused: the very next one, or, with grace, one
	// moments later, for a revoke made by an instance that is not
	// listening: it cannot hear the other's confirmation, so it does not
	// wait for it. It reports whether the very next one was.
	signOut := func(round int, base string, victim *binBrowser, grace bool) bool {
		t.Helper()
		actor := signedIn(base, victim.email)
		if r, err := actor.revoke(victim.id); err != nil || r.status != http.StatusSeeOther {
			t.Fatalf("round %d: sign out through %s: %v %d", round, base, err, r.status)
		}
		refused := func() bool {
			r, err := victim.do("GET", "/settings", nil)
			if err != nil {
				t.Fatal(err)
			}
			return r.status == http.StatusSeeOther && r.location == "/login?reason=revoked"
		}
		if refused() {
			return true
		}
		if grace {
			// Within moments: a second, on a machine busy with other suites.
			for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); {
				time.Sleep(50 * time.Millisecond)
				if refused() {
					return false
				}
			}
		}
		t.Fatalf("round %d: %s admits a session signed out through %s (grace %v)", round, victim.base, base, grace)
		return false
	}

	const rounds = 10
	stillDown, aImmediate := 0, 0
	for round := range rounds {
		email := binCustomers[round%len(binCustomers)]
		onA := signedIn(baseA, email)
		onB := signedIn(baseB, email)
		ofB := waitListener(t, conn, ofA)
		cuts := strings.Count(b.out.String(), "not listening for revocations")
		cluster.Terminate(t, ofB)
		// B has dropped its cache once it says it is not listening.
		b.waitLog(regexp.MustCompile(fmt.Sprintf(`(?s)(not listening for revocations.*){%d}`, cuts+1)), 10*time.Second)
		down := len(listeners(t, conn, ofA)) == 0
		// A listens: it hears of B's sign-out, which B, not listening,
		// answered without waiting for A's confirmation.
		if signOut(round, baseB, onA, true) {
			aImmediate++
		}
		// B, listening or not, has dropped what it had cached: no grace.
		signOut(round, baseA, onB, false)
		if down {
			stillDown++
		}

		// B listens again (a new connection), and a session it has
		// cached since is refused once A signs it out.
		waitListener(t, conn, ofA)
		signOut(round, baseA, signedIn(baseB, email), false)
	}
	t.Logf("%d rounds: B not yet listening again when the checks began in %d; A's very next request refused a session B signed out while cut in %d; every other very next request refused",
		rounds, stillDown, aImmediate)

	for _, p := range []*binProc{a, b} {
		assertNoCrash(t, p.out.String())
	}
}

// listeners returns the backends of the database's connections that
// listen for revocations, except those in not: a listener names itself
// "portal-listener ID" once it listens.
func listeners(t *testing.T, conn *pgx.Conn, not []uint32) []uint32 {
	t.Helper()
	rows, err := conn.Query(context.Background(), `SELECT pid FROM pg_stat_activity
		WHERE datname = current_database() AND application_name LIKE 'portal-listener %'
		AND pid <> ALL(coalesce($1::int[], '{}'))`, not)
	if err != nil {
		t.Fatal(err)
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[uint32])
	if err != nil {
		t.Fatal(err)
	}
	return pids
}

// waitListener waits until one connection other than those in not
// listens, and returns its backend.
func waitListener(t *testing.T, conn *pgx.Conn, not []uint32) uint32 {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		switch pids := listeners(t, conn, not); {
		case len(pids) == 1:
			return pids[0]
		case len(pids) > 1:
			t.Fatalf("%d listening connections besides A's, want B's one", len(pids))
		case time.Now().After(deadline):
			t.Fatal("B did not listen again within 30 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestThrottleIsPerInstance checks the bound the README states: each
// instance counts failed sign-ins on its own, so behind a load balancer
// that spreads a guesser's attempts two instances allow twice an
// account's free failures before either makes it wait; none more.
func TestThrottleIsPerInstance(t *testing.T) {
	dbURL := pgtest.NewDB(t)
	bin := buildPortal(t)
	a := startBin(t, bin, "-demo", "-db", dbURL, "-addr", "127.0.0.1:0")
	baseA := a.waitListening(60 * time.Second)
	b := startBin(t, bin, "-db", dbURL, "-addr", "127.0.0.1:0")
	baseB := b.waitListening(60 * time.Second)
	tr := binTransport()
	defer tr.CloseIdleConnections()

	guess := func(base string) int {
		g := &binBrowser{base: base, hc: binHTTPClient(tr)}
		if r, err := g.do("GET", "/login", nil); err != nil || r.status != http.StatusOK {
			t.Fatalf("GET /login on %s: %v %d", base, err, r.status)
		}
		r, err := g.do("POST", "/login", url.Values{"email": {binCustomers[0]}, "password": {"not the password"}, "_csrf": {g.csrf}})
		if err != nil {
			t.Fatal(err)
		}
		return r.status
	}
	for i, base := range []string{baseA, baseB} {
		for n := range 5 {
			if got := guess(base); got != http.StatusUnauthorized {
				t.Fatalf("instance %d, wrong password %d: %d, want 401 (the account's 5 free failures on this instance)", i+1, n+1, got)
			}
		}
		if got := guess(base); got != http.StatusTooManyRequests {
			t.Fatalf("instance %d, 6th wrong password: %d, want 429", i+1, got)
		}
	}
}

// TestLiveAcrossListenerOutage: a browser streams live updates from
// instance B; B's listening connection is cut and cannot come back for a
// while (its database role may not log in), and meanwhile the session is
// signed out through A. B heard nothing, but once it listens again its
// live pages read everything again, and the browser is sent to sign-in.
func TestLiveAcrossListenerOutage(t *testing.T) {
	dbURL := pgtest.NewDB(t)
	conn := pgConnect(t, dbURL)
	role := fmt.Sprintf("portal_b_%d", time.Now().UnixNano())
	exec := func(sql string) {
		t.Helper()
		if _, err := conn.Exec(context.Background(), sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec("CREATE ROLE " + role + " LOGIN SUPERUSER")
	t.Cleanup(func() { conn.Exec(context.Background(), "DROP ROLE IF EXISTS "+role) })
	bin := buildPortal(t)
	a := startBin(t, bin, "-demo", "-db", dbURL, "-addr", "127.0.0.1:0")
	baseA := a.waitListening(60 * time.Second)
	b := startBin(t, bin, "-db", strings.Replace(dbURL, "postgres://postgres@", "postgres://"+role+"@", 1), "-addr", "127.0.0.1:0")
	baseB := b.waitListening(60 * time.Second)
	tr := binTransport()
	defer tr.CloseIdleConnections()

	victim := &binBrowser{base: baseB, hc: binHTTPClient(tr)}
	if r, ok, err := victim.signIn(binCustomers[0]); err != nil || !ok {
		t.Fatalf("sign in through B: %v %+v", err, r)
	}
	if _, r, err := victim.loadSessions(); err != nil || r.status != http.StatusOK {
		t.Fatalf("Active Sessions through B: %v %d", err, r.status)
	}
	stream := openBinStream(t, baseB, victim.token)

	exec("ALTER ROLE " + role + " NOLOGIN")
	var pid uint32
	if err := conn.QueryRow(context.Background(), `SELECT pid FROM pg_stat_activity
		WHERE usename = $1 AND application_name LIKE 'portal-listener %'`, role).Scan(&pid); err != nil {
		t.Fatalf("find B's listener: %v", err)
	}
	pgtest.Start(t).Terminate(t, pid)
	b.waitLog(regexp.MustCompile("not listening for revocations"), 10*time.Second)

	actor := &binBrowser{base: baseA, hc: binHTTPClient(tr)}
	if r, ok, err := actor.signIn(victim.email); err != nil || !ok {
		t.Fatalf("sign in through A: %v %+v", err, r)
	}
	if _, r, err := actor.loadSessions(); err != nil || r.status != http.StatusOK {
		t.Fatalf("Active Sessions through A: %v %d", err, r.status)
	}
	if r, err := actor.revoke(victim.id); err != nil || r.status != http.StatusSeeOther {
		t.Fatalf("sign out B's browser through A: %v %d", err, r.status)
	}
	exec("ALTER ROLE " + role + " LOGIN")
	waitEnd(t, stream, "/login?reason=revoked")
	assertNoCrash(t, b.out.String())
}
