package cli

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

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
	immediate := 0
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
		// The very next request through A.
		r, err := x.do("GET", "/settings", nil)
		if err != nil {
			t.Fatal(err)
		}
		if r.status == http.StatusSeeOther && r.location == "/login?reason=revoked" {
			immediate++
		} else {
			// Not yet heard: it must be within moments.
			time.Sleep(200 * time.Millisecond)
			r, err = x.do("GET", "/settings", nil)
			if err != nil || r.status != http.StatusSeeOther || r.location != "/login?reason=revoked" {
				t.Fatalf("round %d: A still admits the session B revoked 200 ms later: %v %d %q", round, err, r.status, r.location)
			}
		}
		if stream != nil {
			deadline := time.Now().Add(2 * time.Second)
			for {
				line, err := stream.ReadString('\n')
				if err != nil || time.Now().After(deadline) {
					t.Fatalf("A's stream for the revoked session got no end event (%v)", err)
				}
				if strings.HasPrefix(line, "data: /login?reason=revoked") {
					break
				}
			}
		}
	}
	t.Logf("A refused the session B revoked on the very next request in %d of %d rounds", immediate, rounds)
	if immediate < rounds*3/4 {
		t.Errorf("A refused on the very next request in only %d of %d rounds", immediate, rounds)
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
