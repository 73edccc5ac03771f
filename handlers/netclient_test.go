package handlers

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// netClient is a browser talking to the app over a real socket, for the
// tests whose requests must really run at the same time.
type netClient struct {
	t    testing.TB
	base string
	hc   *http.Client
	csrf string
}

// trustLoopback believes the forwarding header from 127.0.0.1, the peer
// of every request over a real loopback socket, as behind a local proxy.
func trustLoopback(c *Config) {
	c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
}

// netTransport is shared by a test's clients; it keeps enough idle
// connections that a burst never waits for a dial. Call it after
// e.listen: its cleanup then runs first and closes the idle connections,
// which the server's shutdown would otherwise wait on.
func netTransport(t testing.TB) *http.Transport {
	tr := &http.Transport{MaxIdleConnsPerHost: 1000}
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

func newNetClient(t testing.TB, base string, tr *http.Transport) *netClient {
	jar, _ := cookiejar.New(nil)
	return &netClient{t: t, base: base, hc: &http.Client{
		Jar: jar, Transport: tr, Timeout: time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

type netResp struct {
	status int
	header http.Header
	body   string
	err    error
}

func (n *netClient) do(method, path string, form url.Values, hdr map[string]string) netResp {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, n.base+path, body)
	if err != nil {
		return netResp{err: err}
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if method == http.MethodPost {
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := n.hc.Do(req)
	if err != nil {
		return netResp{err: err}
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	r := netResp{status: res.StatusCode, header: res.Header, body: string(data), err: err}
	if m := csrfRe.FindStringSubmatch(r.body); m != nil {
		n.csrf = m[1]
	}
	return r
}

// openLogin loads the sign-in form, for its pre-session cookie and token.
func (n *netClient) openLogin() {
	n.t.Helper()
	if r := n.do(http.MethodGet, "/login", nil, nil); r.err != nil || r.status != http.StatusOK || n.csrf == "" {
		n.t.Fatalf("GET /login: %v %d", r.err, r.status)
	}
}

func (n *netClient) login(email, pw string, hdr map[string]string) netResp {
	return n.do(http.MethodPost, "/login", url.Values{"email": {email}, "password": {pw}, csrfField: {n.csrf}}, hdr)
}

// together calls fire(i) for every i in [0, n) from n goroutines held at a
// barrier and released at once, and returns the results in order.
func together[T any](n int, fire func(i int) T) []T {
	out := make([]T, n)
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			ready.Done()
			<-start
			out[i] = fire(i)
		}()
	}
	ready.Wait()
	close(start)
	done.Wait()
	return out
}

// statuses counts responses by status; a transport error counts as -1.
func statuses(rs []netResp) map[int]int {
	m := map[int]int{}
	for _, r := range rs {
		if r.err != nil {
			m[-1]++
			continue
		}
		m[r.status]++
	}
	return m
}
