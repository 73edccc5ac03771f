package cli

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"portal/geo"
	"portal/store"
	"portal/store/bolt"
)

// seedStreamers writes users×perUser live sessions into a new database at
// path and returns their tokens.
func seedStreamers(t *testing.T, path string, users, perUser int) []string {
	t.Helper()
	st, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	acct, err := st.CreateAccount("Streamers", store.AccountClient)
	if err != nil {
		t.Fatal(err)
	}
	in := make([]store.NewUser, users)
	for i := range in {
		in[i] = store.NewUser{AccountID: acct.ID, Email: fmt.Sprintf("s%d@stream.example", i), Name: fmt.Sprint("Streamer ", i),
			Role: store.RoleClientStaff, PasswordHash: "x"}
	}
	us, err := st.CreateUsers(in)
	if err != nil {
		t.Fatal(err)
	}
	var batch []store.SessionFor
	for _, u := range us {
		for range perUser {
			batch = append(batch, store.SessionFor{UserID: u.ID, NewSession: store.SignIn("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", geo.Place{})})
		}
	}
	_, tokens, err := st.CreateSessions(batch)
	if err != nil {
		t.Fatal(err)
	}
	return tokens
}

// streamsToOpen is how many streams the file-descriptor limit allows both
// this process and the portal (one descriptor each per stream), at most
// want.
func streamsToOpen(t *testing.T, want int) int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return want
	}
	if n := int(lim.Cur) - 500; n < want {
		t.Logf("RLIMIT_NOFILE is %d: opening %d streams instead of %d", lim.Cur, n, want)
		return max(n, 100)
	}
	return want
}

// vmRSS is a process's resident memory in KiB.
func vmRSS(pid int) int {
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	return 0
}

// TestShutdownWithTenThousandStreams: SIGTERM with 10,000 live-update
// streams open closes every one at once (each told to reconnect) and the
// portal still exits 0 within its 10 s shutdown budget.
func TestShutdownWithTenThousandStreams(t *testing.T) {
	n := streamsToOpen(t, 10000)
	bin := buildPortal(t)
	path := filepath.Join(t.TempDir(), "portal.db")
	tokens := seedStreamers(t, path, (n+9)/10, 10)[:n]
	p := startBin(t, bin, "-db", path, "-addr", "127.0.0.1:0")
	base := p.waitListening(30 * time.Second)
	host := strings.TrimPrefix(base, "http://")
	rssBefore := vmRSS(p.cmd.Process.Pid)

	// Open every stream, 100 at a time; each reads until the portal
	// closes it and says whether a retry interval came first.
	start := time.Now()
	var opened, closed sync.WaitGroup
	retried := make([]bool, n)
	errs := make(chan error, n)
	sem := make(chan struct{}, 100)
	for i, tok := range tokens {
		opened.Add(1)
		closed.Add(1)
		sem <- struct{}{}
		go func() {
			defer closed.Done()
			conn, err := net.DialTimeout("tcp", host, 10*time.Second)
			if err != nil {
				<-sem
				opened.Done()
				errs <- err
				return
			}
			defer conn.Close()
			fmt.Fprintf(conn, "GET /events HTTP/1.1\r\nHost: %s\r\nCookie: portal_session=%s\r\nSec-Fetch-Site: same-origin\r\n\r\n", host, tok)
			r := bufio.NewReaderSize(conn, 512)
			conn.SetReadDeadline(time.Now().Add(60 * time.Second))
			status, err := r.ReadString('\n')
			<-sem
			opened.Done()
			if err != nil || !strings.Contains(status, " 200 ") {
				errs <- fmt.Errorf("stream %d: %q %v", i, status, err)
				return
			}
			for {
				line, err := r.ReadString('\n')
				if err == io.EOF {
					return
				}
				if err != nil {
					errs <- fmt.Errorf("stream %d: %v", i, err)
					return
				}
				if strings.HasPrefix(line, "event: end") {
					errs <- fmt.Errorf("stream %d was told its session ended", i)
				}
				if strings.HasPrefix(line, "retry: ") {
					retried[i] = true
				}
			}
		}()
	}
	opened.Wait()
	t.Logf("opened %d streams in %s", n, time.Since(start).Round(time.Millisecond))
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	time.Sleep(500 * time.Millisecond) // every stream registered and idle
	if rss := vmRSS(p.cmd.Process.Pid); rss > 0 {
		t.Logf("portal resident memory %d MiB before the streams, %d MiB with them: %.1f KiB a stream",
			rssBefore/1024, rss/1024, float64(rss-rssBefore)/float64(n))
	}

	stop := time.Now()
	p.signal(syscall.SIGTERM)
	code := p.wait(15 * time.Second)
	took := time.Since(stop)
	if code != 0 {
		t.Fatalf("exit code %d after SIGTERM with %d streams open; output:\n%s", code, n, p.out)
	}
	if took > 10*time.Second {
		t.Fatalf("exit took %s with %d streams open, over the 10 s budget", took, n)
	}
	t.Logf("exited 0 %s after SIGTERM with %d streams open", took.Round(time.Millisecond), n)
	done := make(chan struct{})
	go func() { closed.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("streams still open 10 s after the portal exited")
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	missing := 0
	for _, ok := range retried {
		if !ok {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d streams got no retry interval", missing, n)
	}
	out := p.out.String()
	if !strings.Contains(out, `msg="closed live-update streams" streams=`+strconv.Itoa(n)) {
		t.Errorf("the log does not say %d streams were closed:\n%.2000s", n, out)
	}
	assertNoCrash(t, out)
}
