package cli

// The memory test: the real binary under a flood of simultaneous sign-ins.
// Every password check costs argon2id's 19 MiB, so without a bound on how
// many run at once a few hundred connections exhaust the server's memory.
// The test reads the process's peak RSS (VmHWM) before and after floods of
// 100 and 500 sign-ins released together, and holds its growth near the
// hashing gate's limit times argon2's memory.

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"portal/demo"
	"portal/internal/testbin"
)

const (
	// floodProcs is GOMAXPROCS in the child, so its hashing gate admits
	// max(2, GOMAXPROCS) = 2 hashes at once on any machine.
	floodProcs = 2
	floodGate  = 2
	// floodArgon2MiB is what one argon2id hash allocates (m=19456 KiB).
	floodArgon2MiB = 19
	// floodTimeout bounds every request; a queued one waits 2 s at most.
	floodTimeout = 30 * time.Second
)

// floodBoundMiB is how far the child's peak RSS may rise above its warmed-up
// baseline during a flood of n simultaneous sign-ins:
//
//   - hashing: floodGate × 19 MiB = 38 MiB of live argon2 memory at most.
//     Each hash allocates a fresh 19 MiB that is garbage once it returns,
//     and with GOGC=100 the heap grows to about twice the live heap before
//     a collection reclaims it: 2 × 38 = 76 MiB.
//   - connections: per connection fasthttp keeps a 16 KiB read buffer and a
//     4 KiB write buffer, a goroutine whose stack grows to 32 KiB while a
//     page is rendered, the request's context and the rendered page
//     (~10 KiB); 128 KiB each is generous, 62.5 MiB for 500.
//   - slack: 48 MiB for the runtime's metadata, fragmentation, and freed
//     pages the scavenger has not returned yet.
//
// That is about 137 MiB for 100 and 187 MiB for 500. Without the gate, 100
// simultaneous sign-ins hash at once and the peak grows by 100 × 19 MiB ≈
// 1.9 GiB, fourteen times the bound; a gate of 8 would already exceed it.
// Measured on a 2-core machine: without the gate +1820 MiB at 100 (100 ×
// 401, 17 s); with it +45–53 MiB at 100 and +62–98 MiB at 500 (10–12 ×
// 401, the rest 503, under 3 s each).
func floodBoundMiB(n int) float64 {
	hashing := 2.0 * floodGate * floodArgon2MiB
	conns := float64(n) * 128 / 1024
	const slack = 48.0
	return hashing + conns + slack
}

func TestSignInFloodPeakMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the binary and floods it with sign-ins; skipped with -short")
	}
	if _, err := os.ReadFile("/proc/self/status"); err != nil {
		t.Skipf("peak RSS is read from /proc/PID/status, unreadable here: %v", err)
	}
	if testbin.Race() {
		t.Skip("the race detector's shadow memory makes the binary's RSS incomparable with the bound")
	}
	bin := buildPortal(t)
	// The child's environment is this process's (binEnv); pin what the
	// bound's arithmetic assumes: the gate's limit and the GC's pacing.
	t.Setenv("GOMAXPROCS", strconv.Itoa(floodProcs))
	t.Setenv("GOGC", "100")
	t.Setenv("GOMEMLIMIT", "off")
	p := startBin(t, bin, "-demo", "-db", filepath.Join(t.TempDir(), "portal.db"),
		"-addr", "127.0.0.1:0", "-trusted-proxies", "127.0.0.1")
	base := p.waitListening(15 * time.Second)
	pid := p.cmd.Process.Pid

	// Warm up: one good sign-in and one bad one, so templates, pools and
	// the first hashes are part of the baseline, not of the flood.
	warm := newFloodClient(base, "192.0.2.10")
	defer warm.close()
	if _, err := warm.get(); err != nil {
		t.Fatalf("warm-up GET /login: %v", err)
	}
	if r, err := warm.post(demo.Logins[0].Email, demo.Password); err != nil || r.status != http.StatusSeeOther {
		t.Fatalf("warm-up sign-in as %s: status %d, err %v\n%.500s", demo.Logins[0].Email, r.status, err, r.body)
	}
	bad := newFloodClient(base, "192.0.2.11")
	defer bad.close()
	form, err := bad.get()
	if err != nil {
		t.Fatalf("warm-up GET /login: %v", err)
	}
	if r, err := bad.post("warm-up@nobody.example", "not the password"); err != nil || r.status != http.StatusUnauthorized {
		t.Fatalf("warm-up wrong password: status %d, err %v\n%.500s", r.status, err, r.body)
	}
	baseline := procMemMiB(t, pid)
	t.Logf("baseline after warm-up: peak RSS %.1f MiB, RSS %.1f MiB", baseline.hwm, baseline.rss)
	formText := pageSentences(form)

	next := 0 // index of the next client: a unique email and /24 across floods
	for _, n := range []int{100, 500} {
		first := next
		next += n
		ok := t.Run(fmt.Sprintf("N=%d", n), func(t *testing.T) {
			res := signInFlood(base, n, first)
			after := procMemMiB(t, pid)
			t.Logf("%d simultaneous sign-ins in %s: %d × 401, %d × 429, %d × 503, %d other, %d errors",
				n, res.elapsed.Round(time.Millisecond), res.counts[http.StatusUnauthorized],
				res.counts[http.StatusTooManyRequests], res.counts[http.StatusServiceUnavailable],
				res.other, len(res.errs))
			t.Logf("peak RSS %.1f MiB before, %.1f MiB after (+%.1f MiB, bound +%.1f MiB); RSS now %.1f MiB",
				baseline.hwm, after.hwm, after.hwm-baseline.hwm, floodBoundMiB(n), after.rss)
			for i, e := range res.errs {
				if i == 5 {
					t.Errorf("... and %d more", len(res.errs)-5)
					break
				}
				t.Error(e)
			}
			for _, r := range res.refused {
				if msg := checkRefusal(r, formText); msg != "" {
					t.Errorf("503 for a refused sign-in %s; body:\n%.2000s", msg, r.body)
					break
				}
			}
			// Unknown emails take no hashing slot (they wait as long as a
			// check takes, without hashing), so none is refused and the
			// flood costs connections, not argon2's memory.
			if res.counts[http.StatusUnauthorized] != n {
				t.Errorf("%d of %d sign-ins for unknown emails answered 401: they take no hashing slot, so none should be refused", res.counts[http.StatusUnauthorized], n)
			}
			if grow := after.hwm - baseline.hwm; grow > floodBoundMiB(n) {
				t.Errorf("peak RSS grew by %.1f MiB under %d simultaneous sign-ins, more than %.1f MiB (%d hashes × %d MiB, doubled by the GC, plus connections and slack)",
					grow, n, floodBoundMiB(n), floodGate, floodArgon2MiB)
			}
		})
		if !ok {
			// Unbounded hashing would need about n × 19 MiB next time.
			t.Fatalf("stopping after the flood of %d failed", n)
		}
	}
	assertNoCrash(t, p.out.String())
}

// floodClient is one browser: its own cookie jar and its own connection.
type floodClient struct {
	base, xff string
	tr        *http.Transport
	hc        *http.Client
	csrf      string
}

func newFloodClient(base, xff string) *floodClient {
	jar, _ := cookiejar.New(nil)
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 1,
		DisableCompression:  true,
	}
	return &floodClient{base: base, xff: xff, tr: tr, hc: &http.Client{
		Transport:     tr,
		Jar:           jar,
		Timeout:       floodTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (c *floodClient) close() { c.tr.CloseIdleConnections() }

type floodResponse struct {
	status     int
	retryAfter string
	body       string
}

func (c *floodClient) do(req *http.Request) (floodResponse, error) {
	req.Header.Set("X-Forwarded-For", c.xff)
	resp, err := c.hc.Do(req)
	if err != nil {
		return floodResponse{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return floodResponse{}, err
	}
	return floodResponse{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), body: string(data)}, nil
}

// get loads the sign-in form: the pre-session cookie and the form's token.
func (c *floodClient) get() (string, error) {
	req, err := http.NewRequest("GET", c.base+"/login", nil)
	if err != nil {
		return "", err
	}
	r, err := c.do(req)
	if err != nil {
		return "", err
	}
	m := binCSRFRe.FindStringSubmatch(r.body)
	if r.status != http.StatusOK || m == nil {
		return "", fmt.Errorf("GET /login: status %d, no _csrf field: %.300s", r.status, r.body)
	}
	c.csrf = m[1]
	return r.body, nil
}

func (c *floodClient) post(email, pw string) (floodResponse, error) {
	form := url.Values{"email": {email}, "password": {pw}, "_csrf": {c.csrf}}
	req, err := http.NewRequest("POST", c.base+"/login", strings.NewReader(form.Encode()))
	if err != nil {
		return floodResponse{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return c.do(req)
}

type floodResult struct {
	counts  map[int]int
	other   int
	errs    []string
	refused []floodResponse // the 503s
	elapsed time.Duration
}

// signInFlood prepares n browsers, each with the form loaded on its own
// open connection, then releases them together: each posts a wrong password
// for its own unknown email (so no account is throttled and each costs the
// dummy hash) from its own /24 (so no network is throttled either).
func signInFlood(base string, n, first int) floodResult {
	res := floodResult{counts: map[int]int{}}
	var mu sync.Mutex
	fail := func(format string, args ...any) {
		mu.Lock()
		res.errs = append(res.errs, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	clients := make([]*floodClient, n)
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	prep := make(chan struct{}, 32) // load forms 32 at a time
	for i := range n {
		idx := first + i
		// 11.0.0.0/8 is public; 11.x.y.0/24 is distinct for every index.
		clients[i] = newFloodClient(base, fmt.Sprintf("11.%d.%d.7", idx>>8&255, idx&255))
		ready.Add(1)
		done.Add(1)
		go func(c *floodClient) {
			defer done.Done()
			prep <- struct{}{}
			_, err := c.get()
			<-prep
			ready.Done()
			if err != nil {
				fail("client %d: %v", idx, err)
				return
			}
			<-start
			r, err := c.post(fmt.Sprintf("flood-%d@nobody.example", idx), fmt.Sprintf("wrong password %d", idx))
			if err != nil {
				fail("client %d: POST /login: %v", idx, err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			switch r.status {
			case http.StatusUnauthorized, http.StatusTooManyRequests:
				res.counts[r.status]++
			case http.StatusServiceUnavailable:
				res.counts[r.status]++
				res.refused = append(res.refused, r)
			default:
				res.other++
				res.errs = append(res.errs, fmt.Sprintf("client %d: POST /login: status %d, want 401, 429 or 503: %.300s", idx, r.status, r.body))
			}
			if r.status == http.StatusTooManyRequests && !validRetryAfter(r.retryAfter) {
				res.errs = append(res.errs, fmt.Sprintf("client %d: 429 with Retry-After %q", idx, r.retryAfter))
			}
		}(clients[i])
	}
	ready.Wait()
	t0 := time.Now()
	close(start)
	done.Wait()
	res.elapsed = time.Since(t0)
	for _, c := range clients {
		c.close()
	}
	return res
}

// checkRefusal says what is wrong with a 503, or "" if it tells the user
// when to come back in a sentence the plain form does not carry, and does
// not claim a password was checked.
func checkRefusal(r floodResponse, formText map[string]bool) string {
	if !validRetryAfter(r.retryAfter) {
		return fmt.Sprintf("has Retry-After %q, want seconds or a date", r.retryAfter)
	}
	if strings.Contains(r.body, "The email or password is incorrect.") {
		return "says the password is incorrect, but it was never checked"
	}
	for s := range pageSentences(r.body) {
		if !formText[s] && sentenceRe.MatchString(s) {
			return ""
		}
	}
	return "carries no sentence the plain sign-in form does not"
}

func validRetryAfter(v string) bool {
	if n, err := strconv.Atoi(v); err == nil {
		return n > 0
	}
	_, err := http.ParseTime(v)
	return err == nil
}

var (
	textNodeRe = regexp.MustCompile(`>([^<>]+)<`)
	// sentenceRe is a capitalised run of at least three words ending in
	// a full stop or an exclamation mark.
	sentenceRe = regexp.MustCompile(`^[A-Z]\S*(\s+\S+){2,}[.!]$`)
)

// pageSentences returns the text between a page's tags, whitespace collapsed.
func pageSentences(body string) map[string]bool {
	out := map[string]bool{}
	for _, m := range textNodeRe.FindAllStringSubmatch(body, -1) {
		if s := strings.Join(strings.Fields(html.UnescapeString(m[1])), " "); s != "" {
			out[s] = true
		}
	}
	return out
}

type procMem struct{ hwm, rss float64 } // MiB

// procMemMiB reads a process's peak and current resident set size.
func procMemMiB(t *testing.T, pid int) procMem {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("read the portal's memory: %v", err)
	}
	defer f.Close()
	var m procMem
	var found int
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || (name != "VmHWM" && name != "VmRSS") {
			continue
		}
		kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 64)
		if err != nil {
			t.Fatalf("/proc/%d/status: %s: %v", pid, sc.Text(), err)
		}
		if name == "VmHWM" {
			m.hwm = kb / 1024
		} else {
			m.rss = kb / 1024
		}
		found++
	}
	if found != 2 {
		t.Fatalf("/proc/%d/status has no VmHWM and VmRSS lines", pid)
	}
	return m
}
