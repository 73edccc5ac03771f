package main

// The sign-in flood (issue 23): 40 clients sign in with unknown emails as
// fast as they are answered, each request from a random /24, for 10 s,
// while a real user signs in every 0.3 s, alternately from a browser with
// a device cookie for the account and from a new browser. Before the
// flood, the same user signs in the same way for the same time: the
// baseline. It prints each kind's successes under both, and what the
// flood got.

import (
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"portal/handlers"
	"portal/password"
	"portal/store"
	"portal/store/bolt"
)

type floodConfig struct {
	Only     bool
	Flooders int
	Duration time.Duration
	Every    time.Duration
}

const (
	floodEmail    = "owner@flood.example"
	floodPassword = "the owner's own password"
	deviceCookie  = "portal_device"
)

// floodTally counts one kind of sign-in by status.
type floodTally struct {
	tries  int
	status map[int]int
}

func (t floodTally) rate() float64 {
	if t.tries == 0 {
		return 0
	}
	return float64(t.status[http.StatusSeeOther]) / float64(t.tries)
}

func (t floodTally) String() string {
	return fmt.Sprintf("%3d/%3d signed in (%5.1f%%) %v", t.status[http.StatusSeeOther], t.tries, 100*t.rate(), t.status)
}

func runFlood(cfg config, out io.Writer) error {
	fc := cfg.Flood
	dir, err := os.MkdirTemp(cfg.Dir, "portal-flood-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	st, err := bolt.Open(filepath.Join(dir, "portal.db"), storeOptions())
	if err != nil {
		return err
	}
	defer st.Close()
	acct, err := st.CreateAccount("Flood Org", store.AccountClient)
	if err != nil {
		return err
	}
	hash, err := password.Hash(floodPassword)
	if err != nil {
		return err
	}
	if _, err := st.CreateUser(store.NewUser{AccountID: acct.ID, Email: floodEmail, Name: "Owner", Role: store.RoleClientStaff, PasswordHash: hash}); err != nil {
		return err
	}
	app, err := handlers.New(st, nil, handlers.Config{
		Logger:         slog.New(slog.DiscardHandler),
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
	})
	if err != nil {
		return err
	}
	srv, err := serve(app)
	if err != nil {
		return err
	}
	defer srv.close()
	tr := &http.Transport{MaxIdleConnsPerHost: 1000}
	defer tr.CloseIdleConnections()
	base, _ := url.Parse(srv.base)

	// The owner's browser signs in once, for its device cookie.
	home := newFloodBrowser(base, tr)
	if status, err := home.signIn(floodEmail, floodPassword, "192.0.2.10"); err != nil || status != http.StatusSeeOther {
		return fmt.Errorf("first sign-in: %d %v", status, err)
	}
	device := home.cookie(deviceCookie)
	if device == "" {
		return fmt.Errorf("no device cookie after signing in")
	}
	owner := func(stop <-chan struct{}) (withCookie, fresh floodTally) {
		withCookie.status, fresh.status = map[int]int{}, map[int]int{}
		tick := time.NewTicker(fc.Every)
		defer tick.Stop()
		for i := 0; ; i++ {
			b := newFloodBrowser(base, tr)
			t := &fresh
			if i%2 == 0 {
				b.setCookie(deviceCookie, device)
				t = &withCookie
			}
			status, err := b.signIn(floodEmail, floodPassword, fmt.Sprintf("192.0.2.%d", 10+i%2))
			if err != nil {
				status = -1
			}
			t.tries++
			t.status[status]++
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}
	timed := func() <-chan struct{} {
		stop := make(chan struct{})
		time.AfterFunc(fc.Duration, func() { close(stop) })
		return stop
	}

	fmt.Fprintf(out, "\nsign-in flood: %d clients, unknown emails, each request from a random /24, for %s; the owner signs in every %s, alternately with a device cookie and from a new browser\n",
		fc.Flooders, fc.Duration, fc.Every)
	bCookie, bFresh := owner(timed())
	fmt.Fprintf(out, "  baseline (no flood)  device cookie %s\n", bCookie)
	fmt.Fprintf(out, "  baseline (no flood)  new browser   %s\n", bFresh)

	stop := timed()
	var sent atomic.Int64
	var mu sync.Mutex
	floodStatus := map[int]int{}
	var wg sync.WaitGroup
	for i := range fc.Flooders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := newFloodBrowser(base, tr)
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				addr := fmt.Sprintf("%d.%d.%d.7", 11+rand.IntN(50), rand.IntN(256), rand.IntN(256))
				status, err := b.signIn(fmt.Sprintf("flood-%d-%d@nobody.example", i, n), "guess", addr)
				if err != nil {
					status = -1
				}
				sent.Add(1)
				mu.Lock()
				floodStatus[status]++
				mu.Unlock()
			}
		}()
	}
	fCookie, fFresh := owner(stop)
	wg.Wait()
	fmt.Fprintf(out, "  under the flood       device cookie %s\n", fCookie)
	fmt.Fprintf(out, "  under the flood       new browser   %s\n", fFresh)
	fmt.Fprintf(out, "  the flood: %d sign-ins (%.0f/s) %v\n", sent.Load(), float64(sent.Load())/fc.Duration.Seconds(), floodStatus)
	verdict := func(name string, got, want float64) {
		ok := "ok"
		if got < want {
			ok = "BELOW TARGET"
		}
		fmt.Fprintf(out, "  target: %s signs in at least %.0f%% of the time under the flood: %.1f%% (%s)\n", name, 100*want, 100*got, ok)
	}
	verdict("a browser with a device cookie", fCookie.rate(), 0.95)
	verdict("a new browser", fFresh.rate(), 0.80)
	return nil
}

// floodBrowser is one browser: its own cookie jar.
type floodBrowser struct {
	base *url.URL
	hc   *http.Client
}

func newFloodBrowser(base *url.URL, tr *http.Transport) *floodBrowser {
	jar, _ := cookiejar.New(nil)
	return &floodBrowser{base: base, hc: &http.Client{Jar: jar, Transport: tr, Timeout: time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *floodBrowser) cookie(name string) string {
	for _, c := range b.hc.Jar.Cookies(b.base) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

func (b *floodBrowser) setCookie(name, value string) {
	b.hc.Jar.SetCookies(b.base, []*http.Cookie{{Name: name, Value: value}})
}

// signIn loads the form, if it has no token yet, and posts it from addr;
// it returns the status of the post.
func (b *floodBrowser) signIn(email, pw, addr string) (int, error) {
	res, err := b.hc.Get(b.base.String() + "/login")
	if err != nil {
		return 0, err
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return 0, err
	}
	m := csrfFieldRe.FindSubmatch(body)
	if m == nil {
		return 0, fmt.Errorf("GET /login: %d, no form", res.StatusCode)
	}
	form := url.Values{"email": {email}, "password": {pw}, "_csrf": {string(m[1])}}
	req, err := http.NewRequest(http.MethodPost, b.base.String()+"/login", strings.NewReader(form.Encode()))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("X-Forwarded-For", addr)
	res, err = b.hc.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode, nil
}
