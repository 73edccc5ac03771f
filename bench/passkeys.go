package main

// The passkey benchmark (go run ./bench -passkeys): one portal (server.New
// on bbolt, -public-url http://localhost:PORT, -trusted-proxies 127.0.0.1)
// and its users, each of -passkeys-users given a passkey through the real
// Settings flow: a password sign-in, POST /settings/passkeys/options (the
// fresh sign-in is a recent confirmation), a software authenticator
// (internal/softkey, one per user) making the credential, POST
// /settings/passkeys. Then, with the same -passkeys-c closed-loop workers
// for -passkeys-d each:
//
//  1. password sign-ins: GET /login, POST /login with the right password,
//     a 303 to the landing page;
//  2. passkey sign-ins: GET /login (pre-session cookie and CSRF token),
//     POST /login/passkey/options, the authenticator's assertion (a
//     discoverable one, naming its user), POST /login/passkey, answered
//     {"redirect": landing page} with a session cookie;
//  3. passkey sign-ins again while -passkeys-flood clients send password
//     sign-ins for other known users with wrong passwords (each a full
//     argon2id check behind the password gate), each from a random /24
//     (X-Forwarded-For through the trusted loopback proxy); with
//     -passkeys-flood-emails unknown, for emails with no account, as
//     -flood does.
//
// A sign-in's latency is from its GET /login to its last answer. Each
// worker signs in as its own users only, so no two sign-ins of one
// passkey are in flight at once (the signature counter must rise). The
// clients run in this process, on the same CPUs as the portal.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"portal/geo"
	"portal/internal/softkey"
	"portal/password"
	"portal/store"
	"portal/store/bolt"
)

type passkeysConfig struct {
	Only       bool
	Users      int           // users given a passkey; the measured sign-ins are theirs
	Workers    int           // closed-loop workers of each measurement
	Duration   time.Duration // of each measurement
	Warmup     time.Duration // untimed sign-ins of each kind first
	Flooders   int           // password-flood clients during the third measurement
	FloodUsers int           // known users the flood guesses at
	FloodKind  string        // "known": their emails; "unknown": emails with no account (as -flood)
	// FloodRate paces the flood's sign-ins (each a GET /login and a POST)
	// to this many a second in all; 0: FloodTimes the password sign-ins a
	// second just measured, a flood that keeps the hash gate full, its
	// clients sending without waiting for answers to come back first.
	// Negative: no pacing, each client as fast as its answers come.
	FloodRate  float64
	FloodTimes float64
}

const (
	passkeyUserPassword = "a bench user's own password"
	passkeyFloodGuess   = "not the password"
	passkeyLanding      = "/settings" // a customer user's landing page
)

// signInStats is one measurement of one kind of sign-in.
type signInStats struct {
	OK       int
	Failed   map[string]int // by what failed: "POST /login/passkey: 401", "error"
	FirstErr string
	Latency  []time.Duration // of the successes, sorted
	Elapsed  time.Duration
	CPU      time.Duration // this process's: the portal and every client
	WriteTxs int64         // the portal's bbolt write transactions
}

func (s signInStats) failures() int {
	n := 0
	for _, v := range s.Failed {
		n += v
	}
	return n
}

func (s signInStats) rate() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.OK) / s.Elapsed.Seconds()
}

func (s signInStats) p(q float64) time.Duration { return percentile(s.Latency, q) }

// perOK is a total per successful sign-in.
func (s signInStats) perOK(total float64) float64 {
	if s.OK == 0 {
		return 0
	}
	return total / float64(s.OK)
}

func (s signInStats) String() string {
	line := fmt.Sprintf("%7.1f/s  p50 %7.2f ms  p99 %7.2f ms  %6d ok  %d failed", s.rate(), ms(s.p(0.5)), ms(s.p(0.99)), s.OK, s.failures())
	if s.OK > 0 {
		line += fmt.Sprintf("  cpu %6.0f µs/sign-in  %.1f write txs/sign-in",
			s.perOK(float64(s.CPU)/float64(time.Microsecond)), s.perOK(float64(s.WriteTxs)))
	}
	if len(s.Failed) > 0 {
		line += fmt.Sprintf("  %v (first: %s)", s.Failed, s.FirstErr)
	}
	return line
}

// passkeysResult is what runPasskeys measured.
type passkeysResult struct {
	Registered int
	RegisterIn time.Duration
	Password   signInStats
	Passkey    signInStats
	Flooded    signInStats    // passkey sign-ins under the flood
	FloodSent  int64          // the flood's sign-ins while Flooded was measured, and just before
	FloodTime  time.Duration  // how long the flood ran
	FloodRate  float64        // the pace it was sent at (0: unpaced)
	Flood      map[string]int // its answers
}

// Ratio is passkey sign-ins per second over password sign-ins per second
// (issue: at least 20).
func (r passkeysResult) Ratio() float64 { return ratio(r.Passkey.rate(), r.Password.rate()) }

// CPURatio is this process's CPU per password sign-in over per passkey
// sign-in: less moved by other work on the machine than the rates.
func (r passkeysResult) CPURatio() float64 {
	return ratio(r.Password.perOK(float64(r.Password.CPU)), r.Passkey.perOK(float64(r.Passkey.CPU)))
}

// FloodSlowdown is passkey sign-ins per second alone over under the
// flood (issue: at most 2).
func (r passkeysResult) FloodSlowdown() float64 { return ratio(r.Passkey.rate(), r.Flooded.rate()) }

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// runPasskeys runs the passkey benchmark and prints its report to out.
func runPasskeys(cfg config, out io.Writer) (passkeysResult, error) {
	pc := cfg.Passkeys
	var res passkeysResult
	if pc.FloodKind != "known" && pc.FloodKind != "unknown" {
		return res, fmt.Errorf("-passkeys-flood-emails %q: want known or unknown", pc.FloodKind)
	}
	if pc.Workers < 1 || pc.Workers > 256 || pc.Users < pc.Workers || pc.Duration <= 0 || pc.Flooders < 0 || pc.FloodUsers < 1 {
		return res, errors.New("-passkeys-c must be 1 to 256, -passkeys-users at least -passkeys-c, -passkeys-d and -passkeys-flood-users positive")
	}
	fmt.Fprintln(out, machineInfo())
	dir, err := os.MkdirTemp(cfg.Dir, "portal-passkeys-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	geoPath := filepath.Join(dir, "geo.mmdb")
	if err := geo.WriteDemoDB(geoPath); err != nil {
		return res, err
	}
	loc, err := geo.Open(geoPath, nil)
	if err != nil {
		return res, err
	}
	defer loc.Close()

	// The users: password hashes are the real argon2id, since the
	// password sign-ins check them.
	hash, err := password.Hash(passkeyUserPassword)
	if err != nil {
		return res, err
	}
	db := filepath.Join(dir, "portal.db")
	var users, floodUsers []store.User
	err = withStore(db, func(st *bolt.Store) error {
		s, err := newSeeder(st, loc, hash)
		if err != nil {
			return err
		}
		in := make([]store.NewUser, pc.Users+pc.FloodUsers)
		for i := range in {
			in[i] = s.nextUser(store.RoleClientAdmin)
		}
		all, err := s.createUsers(in)
		users, floodUsers = all[:pc.Users], all[pc.Users:]
		return err
	})
	if err != nil {
		return res, fmt.Errorf("seed: %w", err)
	}

	log, err := newLogger(cfg.Log)
	if err != nil {
		return res, err
	}
	opts := cfg.portal()
	opts.Passkeys = true
	opts.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	p, err := startPortal(db, geoPath, log, opts)
	if err != nil {
		return res, err
	}
	defer p.close()
	cl := newPasskeyClient(p.base)
	defer cl.close()
	writeTxs := func() int64 { return p.srv.Store().WriteTxCount() }

	fmt.Fprintf(out, "\npasskeys: one portal at %s (bbolt in %s), %d users with a passkey, %d workers for each measurement of %s (after %s of warm-up); the clients run in this process, on the same CPUs\n",
		cl.origin, dir, pc.Users, pc.Workers, pc.Duration, pc.Warmup)

	// Each user adds a passkey through Settings, a few at a time.
	t0 := time.Now()
	keys := make([]*softkey.Authenticator, len(users))
	var next atomic.Int64
	var firstErr error
	var errOnce sync.Once
	var wg sync.WaitGroup
	for w := range min(pc.Workers, len(users)) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(users); i = int(next.Add(1) - 1) {
				k, err := cl.addPasskey(users[i].Email, passkeyUserPassword, workerAddr(1, w))
				if err != nil {
					errOnce.Do(func() { firstErr = fmt.Errorf("%s adds a passkey: %w", users[i].Email, err) })
					return
				}
				keys[i] = k
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return res, firstErr
	}
	res.Registered, res.RegisterIn = len(users), time.Since(t0)
	fmt.Fprintf(out, "  %d passkeys added through Settings (password sign-in, options, softkey.Create, POST) in %s\n", res.Registered, since(t0))

	// Worker w signs in as users w, w+W, w+2W, ... in turn.
	mine := func(w, n int) int {
		per := (len(users) - w + pc.Workers - 1) / pc.Workers // at least 1
		return w + pc.Workers*(n%per)
	}
	passwordSignIn := func(w, n int) error {
		return cl.passwordSignIn(cl.browser(), users[mine(w, n)].Email, passkeyUserPassword, workerAddr(2, w))
	}
	passkeySignIn := func(w, n int) error {
		return cl.passkeySignIn(keys[mine(w, n)], workerAddr(3, w))
	}
	measure := func(do func(w, n int) error) signInStats {
		if pc.Warmup > 0 {
			timedSignIns(pc.Workers, pc.Warmup, do)
		}
		w0, c0 := writeTxs(), cpuTime()
		s := timedSignIns(pc.Workers, pc.Duration, do)
		s.WriteTxs, s.CPU = writeTxs()-w0, cpuTime()-c0
		return s
	}
	res.Password = measure(passwordSignIn)
	fmt.Fprintf(out, "  password sign-ins         %s\n", res.Password)
	res.Passkey = measure(passkeySignIn)
	fmt.Fprintf(out, "  passkey sign-ins          %s\n", res.Passkey)

	// The flood: known emails, wrong passwords, each from a random /24. It
	// runs through the warm-up, so the gate is full when timing starts.
	stop := make(chan struct{})
	var sent atomic.Int64
	var mu sync.Mutex
	res.Flood = map[string]int{}
	flood := newPasskeyClient(p.base) // its own connections
	defer flood.close()
	rate := pc.FloodRate
	if rate == 0 {
		rate = pc.FloodTimes * res.Password.rate()
	}
	// tokens paces the clients: one sign-in per token. A token no client
	// is free to take is dropped, as an open-loop sender's requests would
	// just be more of them queued.
	tokens := make(chan struct{}, pc.Flooders)
	if rate > 0 {
		res.FloodRate = rate
		go func() {
			tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					select {
					case tokens <- struct{}{}:
					default:
					}
				}
			}
		}()
	}
	f0 := time.Now()
	var fwg sync.WaitGroup
	for range pc.Flooders {
		fwg.Go(func() {
			b := flood.browser()
			for {
				if rate > 0 {
					select {
					case <-stop:
						return
					case <-tokens:
					}
				}
				select {
				case <-stop:
					return
				default:
				}
				addr := fmt.Sprintf("%d.%d.%d.7", 11+rand.IntN(50), rand.IntN(256), rand.IntN(256))
				email := floodUsers[rand.IntN(len(floodUsers))].Email
				if pc.FloodKind == "unknown" {
					email = fmt.Sprintf("flood-%d@nobody.example", rand.Int64())
				}
				err := flood.passwordSignIn(b, email, passkeyFloodGuess, addr)
				sent.Add(1)
				mu.Lock()
				res.Flood[failureKind(err)]++
				mu.Unlock()
			}
		})
	}
	stopProfile, err := startProfile(cfg.CPUProfile)
	if err != nil {
		close(stop)
		fwg.Wait()
		return res, err
	}
	res.Flooded = measure(passkeySignIn)
	if err := stopProfile(); err != nil {
		fmt.Fprintf(out, "  CPU profile: %v\n", err)
	} else if cfg.CPUProfile != "" {
		fmt.Fprintf(out, "  CPU profile of the process under the flood in %s\n", cfg.CPUProfile)
	}
	close(stop)
	fwg.Wait()
	res.FloodSent, res.FloodTime = sent.Load(), time.Since(f0)
	fmt.Fprintf(out, "  passkey sign-ins, flood   %s\n", res.Flooded)
	whose := fmt.Sprintf("%d known users", len(floodUsers))
	if pc.FloodKind == "unknown" {
		whose = "emails with no account"
	}
	paced := "unpaced"
	if res.FloodRate > 0 {
		paced = fmt.Sprintf("paced to %.0f/s", res.FloodRate)
	}
	fmt.Fprintf(out, "  the flood: %d clients %s, %d password sign-ins for %s with wrong passwords, each from a random /24, in %s (%.0f/s), answers %v\n",
		pc.Flooders, paced, res.FloodSent, whose, res.FloodTime.Round(10*time.Millisecond),
		float64(res.FloodSent)/res.FloodTime.Seconds(), res.Flood)

	verdict := func(ok bool) string {
		if ok {
			return "ok"
		}
		return "MISSED"
	}
	fmt.Fprintf(out, "  passkey / password sign-ins per second: %.1fx (target ≥ 20x: %s)\n", res.Ratio(), verdict(res.Ratio() >= 20))
	fmt.Fprintf(out, "  process CPU per sign-in, password / passkey: %.1fx (%.0f / %.0f µs; the clients' share included)\n",
		res.CPURatio(), res.Password.perOK(float64(res.Password.CPU)/1e3), res.Passkey.perOK(float64(res.Passkey.CPU)/1e3))
	fmt.Fprintf(out, "  passkey sign-ins per second alone / under the flood: %.2fx (target ≤ 2x: %s); p50 %.2f → %.2f ms, p99 %.2f → %.2f ms\n",
		res.FloodSlowdown(), verdict(res.FloodSlowdown() > 0 && res.FloodSlowdown() <= 2),
		ms(res.Passkey.p(0.5)), ms(res.Flooded.p(0.5)), ms(res.Passkey.p(0.99)), ms(res.Flooded.p(0.99)))
	if n := res.Passkey.failures() + res.Flooded.failures() + res.Password.failures(); n > 0 {
		fmt.Fprintf(out, "  FAILED sign-ins: %d (every measured sign-in should succeed)\n", n)
	}
	fmt.Fprintf(out, "  load average at the end: %s\n", loadAverage())
	return res, nil
}

// withStore opens the bbolt store at path, runs fn and closes it.
func withStore(path string, fn func(*bolt.Store) error) error {
	st, err := bolt.Open(path, storeOptions())
	if err != nil {
		return err
	}
	err = fn(st)
	return errors.Join(err, st.Close())
}

// workerAddr is worker w's address (w < 256) for a kind of sign-in: a
// /24 of its own, 10.kind.w.0/24, so the password gate lets each
// worker's sign-in wait (it lets one waiter per network) and no two
// workers share a throttle count.
func workerAddr(kind, w int) string { return fmt.Sprintf("10.%d.%d.1", kind, w) }

// timedSignIns runs do in workers closed loops for d and tallies it.
func timedSignIns(workers int, d time.Duration, do func(w, n int) error) signInStats {
	var mu sync.Mutex
	s := signInStats{Failed: map[string]int{}}
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			var lat []time.Duration
			failed := map[string]int{}
			first := ""
			for n := 0; time.Now().Before(deadline); n++ {
				t0 := time.Now()
				if err := do(w, n); err != nil {
					failed[failureKind(err)]++
					if first == "" {
						first = err.Error()
					}
					continue
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			defer mu.Unlock()
			s.OK += len(lat)
			s.Latency = append(s.Latency, lat...)
			for k, v := range failed {
				s.Failed[k] += v
			}
			if s.FirstErr == "" {
				s.FirstErr = first
			}
		})
	}
	wg.Wait()
	s.Elapsed = time.Since(start)
	slices.Sort(s.Latency)
	return s
}

// statusError is a request answered otherwise than a sign-in expects.
type statusError struct {
	Req    string // "POST /login"
	Status int
	Detail string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%s: %d %s", e.Req, e.Status, e.Detail)
}

// failureKind groups errors for the tally: the request and status, or
// "ok" for none, or "error" (transport, softkey).
func failureKind(err error) string {
	var se *statusError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &se):
		return fmt.Sprintf("%s: %d", se.Req, se.Status)
	}
	return "error"
}

// passkeyClient signs in at a passkey portal: requests go to
// http://localhost:PORT (the origin passkeys are bound to), dialled at
// 127.0.0.1:PORT.
type passkeyClient struct {
	base   string // http://localhost:PORT
	origin string
	tr     *http.Transport
}

func newPasskeyClient(loopbackBase string) *passkeyClient {
	addr := strings.TrimPrefix(loopbackBase, "http://")
	_, port, _ := net.SplitHostPort(addr)
	var d net.Dialer
	tr := &http.Transport{MaxIdleConnsPerHost: 1000, DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}}
	origin := "http://localhost:" + port
	return &passkeyClient{base: origin, origin: origin, tr: tr}
}

func (cl *passkeyClient) close() { cl.tr.CloseIdleConnections() }

// browser is a new browser: an empty cookie jar.
func (cl *passkeyClient) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Transport: cl.tr, Timeout: time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// loginCSRF loads the sign-in page: its pre-session cookie and token.
func (cl *passkeyClient) loginCSRF(hc *http.Client) (string, error) {
	return cl.pageCSRF(hc, "/login")
}

// pageCSRF is the _csrf field of the page at path.
func (cl *passkeyClient) pageCSRF(hc *http.Client, path string) (string, error) {
	res, err := hc.Get(cl.base + path)
	if err != nil {
		return "", err
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return "", err
	}
	m := csrfFieldRe.FindSubmatch(body)
	if res.StatusCode != http.StatusOK || m == nil {
		return "", &statusError{Req: "GET " + path, Status: res.StatusCode, Detail: "no form"}
	}
	return string(m[1]), nil
}

// post sends form from addr as the page's script or form would: same
// origin, and asking for JSON when asJSON (static/passkeys.js).
func (cl *passkeyClient) post(hc *http.Client, path string, form url.Values, addr string, asJSON bool) (*http.Response, []byte, error) {
	req, err := http.NewRequest(http.MethodPost, cl.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("X-Forwarded-For", addr)
	if asJSON {
		req.Header.Set("Accept", "application/json")
	}
	res, err := hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	return res, body, err
}

// postJSON is post for static/passkeys.js's calls: a 200 whose JSON has
// no "error", decoded into v.
func (cl *passkeyClient) postJSON(hc *http.Client, path string, form url.Values, addr string, v any) ([]byte, error) {
	res, body, err := cl.post(hc, path, form, addr, true)
	if err != nil {
		return nil, err
	}
	var reply struct {
		Error string `json:"error"`
	}
	if res.StatusCode != http.StatusOK || json.Unmarshal(body, &reply) != nil || reply.Error != "" {
		return nil, &statusError{Req: "POST " + path, Status: res.StatusCode, Detail: truncate(string(body), 200)}
	}
	if v != nil {
		if err := json.Unmarshal(body, v); err != nil {
			return nil, fmt.Errorf("POST %s: %w", path, err)
		}
	}
	return body, nil
}

// passwordSignIn signs hc in with a password: a 303 to the landing page.
func (cl *passkeyClient) passwordSignIn(hc *http.Client, email, pw, addr string) error {
	csrf, err := cl.loginCSRF(hc)
	if err != nil {
		return err
	}
	res, _, err := cl.post(hc, "/login", url.Values{"email": {email}, "password": {pw}, "_csrf": {csrf}}, addr, false)
	if err != nil {
		return err
	}
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || loc != passkeyLanding {
		return &statusError{Req: "POST /login", Status: res.StatusCode, Detail: "to " + loc}
	}
	return nil
}

// passkeySignIn signs a new browser in with key's passkey, as the sign-in
// page's button does: no email, the passkey names its user.
func (cl *passkeyClient) passkeySignIn(key *softkey.Authenticator, addr string) error {
	hc := cl.browser()
	csrf, err := cl.loginCSRF(hc)
	if err != nil {
		return err
	}
	opts, err := cl.postJSON(hc, "/login/passkey/options", url.Values{"_csrf": {csrf}}, addr, nil)
	if err != nil {
		return err
	}
	cred, err := key.Get(opts, cl.origin)
	if err != nil {
		return err
	}
	var reply passkeyReply
	if _, err := cl.postJSON(hc, "/login/passkey", url.Values{"_csrf": {csrf}, "credential": {string(cred)}, "tz": {"Europe/London"}}, addr, &reply); err != nil {
		return err
	}
	if reply.Redirect != passkeyLanding || cl.cookie(hc, sessionCookie) == "" {
		return &statusError{Req: "POST /login/passkey", Status: http.StatusOK, Detail: fmt.Sprintf("redirect %q, session cookie %v", reply.Redirect, cl.cookie(hc, sessionCookie) != "")}
	}
	return nil
}

// addPasskey signs in with the password and adds a passkey in Settings,
// held by a new authenticator.
func (cl *passkeyClient) addPasskey(email, pw, addr string) (*softkey.Authenticator, error) {
	hc := cl.browser()
	if err := cl.passwordSignIn(hc, email, pw, addr); err != nil {
		return nil, err
	}
	csrf, err := cl.pageCSRF(hc, passkeyLanding)
	if err != nil {
		return nil, err
	}
	var begun passkeyReply
	opts, err := cl.postJSON(hc, "/settings/passkeys/options", url.Values{"_csrf": {csrf}, "name": {"Bench key"}}, addr, &begun)
	if err != nil {
		return nil, err
	}
	if begun.Redirect != "" {
		return nil, fmt.Errorf("asked to confirm first (%s) right after signing in", begun.Redirect)
	}
	key := softkey.New()
	cred, err := key.Create(opts, cl.origin)
	if err != nil {
		return nil, err
	}
	var done passkeyReply
	if _, err := cl.postJSON(hc, "/settings/passkeys", url.Values{"_csrf": {csrf}, "credential": {string(cred)}}, addr, &done); err != nil {
		return nil, err
	}
	if done.Redirect == "" || len(key.Credentials()) != 1 {
		return nil, fmt.Errorf("adding the passkey: redirect %q, %d credentials", done.Redirect, len(key.Credentials()))
	}
	return key, nil
}

func (cl *passkeyClient) cookie(hc *http.Client, name string) string {
	u, _ := url.Parse(cl.base)
	for _, c := range hc.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// passkeyReply is the JSON answer of the passkey calls.
type passkeyReply struct {
	Redirect string `json:"redirect"`
	Error    string `json:"error"`
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// startProfile starts a CPU profile into path, if it is not "", and
// returns what stops it.
func startProfile(path string) (stop func() error, err error) {
	if path == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() error {
		pprof.StopCPUProfile()
		return f.Close()
	}, nil
}
