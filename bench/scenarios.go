package main

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
)

// Paths and headers of the portal requests.
const (
	activeSessionsPath = "/settings?section=active-sessions"
	passwordPath       = "/settings?section=password"
	signOutOthersPath  = "/settings/active-sessions/sign-out-others"
	sessionCookie      = "portal_session"
)

// Read-only patterns for checking pages.
var (
	csrfFieldRe  = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)
	sessionRowRe = regexp.MustCompile(`<tr id="session-[0-9a-f]{32}"`)
)

// htmxHeader is what htmx adds to its GET requests.
func htmxHeader() map[string]string { return map[string]string{"HX-Request": "true"} }

// htmxPOST is what htmx (and the browser) send with a same-origin POST.
func htmxPOST() map[string]string {
	return map[string]string{"HX-Request": "true", "Sec-Fetch-Site": "same-origin"}
}

// scenario is one line of the table.
type scenario struct {
	name  string
	about string
	plan  func(run int) plan // the plan of the run-th timed run
	owner *portal            // the portal serving it; nil for baselines
	warm  bool               // worth warming up (read scenarios)
}

// env is everything the scenarios talk to.
type env struct {
	bare, sessions              *appServer
	small, writes, partner, big *portal // big is nil without -big
}

// readPlan sends method path as each login, one login per worker.
func readPlan(base, path string, hdr map[string]string, logins []login) plan {
	p := plan{Method: http.MethodGet, Base: base, Header: hdr}
	for _, l := range logins {
		p.Jobs = append(p.Jobs, job{Path: path, Cookie: sessionCookie + "=" + l.Token})
	}
	return p
}

// revokeOnePlan signs out each victim of the pool once.
func revokeOnePlan(base string, pool revokePool) plan {
	p := plan{Method: http.MethodPost, Base: base, Header: htmxPOST(), Consume: true}
	for _, j := range pool.Jobs {
		a := pool.Actors[j.Actor]
		p.Jobs = append(p.Jobs, job{Path: "/settings/active-sessions/" + j.Target + "/sign-out", Cookie: sessionCookie + "=" + a.Token, CSRF: a.CSRF})
	}
	return p
}

// revokeAllPlan has each actor of the pool sign out its other sessions once.
func revokeAllPlan(base string, pool revokePool) plan {
	p := plan{Method: http.MethodPost, Base: base, Header: htmxPOST(), Consume: true}
	for _, a := range pool.Actors {
		p.Jobs = append(p.Jobs, job{Path: signOutOthersPath, Cookie: sessionCookie + "=" + a.Token, CSRF: a.CSRF})
	}
	return p
}

// buildScenarios lists the scenarios in table order.
// consoles and bigConsoles are the partner console's scenarios on the
// partner store and on the big one.
func buildScenarios(e *env, fx *fixtures, sessionCookies []string, consoles, bigConsoles []partnerScenario) []scenario {
	fixed := func(p plan) func(int) plan { return func(int) plan { return p } }
	bare := plan{Method: http.MethodGet, Base: e.bare.base, Jobs: []job{{Path: "/fragment"}}}
	sess := plan{Method: http.MethodGet, Base: e.sessions.base}
	for _, c := range sessionCookies {
		sess.Jobs = append(sess.Jobs, job{Path: "/fragment", Cookie: c})
	}
	list := []scenario{
		{name: "bare", warm: true, plan: fixed(bare),
			about: "Fiber handler rendering an html/template fragment sized like auth-fragment; no auth"},
		{name: "fiber-session-memory", warm: true, plan: fixed(sess),
			about: "the same handler behind Fiber's middleware/session (memory storage), reading one value"},
		{name: "auth-page", warm: true, owner: e.small,
			plan:  fixed(readPlan(e.small.base, activeSessionsPath, nil, fx.Readers)),
			about: fmt.Sprintf("GET %s, full page, user with %d sessions", activeSessionsPath, fewSessions)},
		{name: "auth-fragment", warm: true, owner: e.small,
			plan:  fixed(readPlan(e.small.base, activeSessionsPath, htmxHeader(), fx.Readers)),
			about: fmt.Sprintf("the same with HX-Request: true (partials/settings_body), user with %d sessions", fewSessions)},
		{name: "list-100", warm: true, owner: e.small,
			plan:  fixed(readPlan(e.small.base, activeSessionsPath, nil, fx.Listers)),
			about: fmt.Sprintf("full page, user with %d sessions", manySessions)},
		{name: "revoke-one", owner: e.writes,
			plan:  func(r int) plan { return revokeOnePlan(e.writes.base, fx.RevokeOne[r]) },
			about: "htmx POST /settings/active-sessions/:id/sign-out of a fresh session"},
		{name: "revoke-all-99", owner: e.writes,
			plan:  func(r int) plan { return revokeAllPlan(e.writes.base, fx.RevokeAll[r]) },
			about: fmt.Sprintf("htmx POST %s by a fresh user with %d other sessions", signOutOthersPath, revokeAllOther)},
	}
	for _, ps := range consoles {
		list = append(list, ps.scenario)
	}
	list = append(list, activityScenarios(e.partner, fx.Activity)...)
	if e.big != nil {
		m := fmt.Sprintf(" with %d other sessions in the store", fx.BigSessions)
		list = append(list,
			scenario{name: "auth-fragment-1M", warm: true, owner: e.big,
				plan:  fixed(readPlan(e.big.base, activeSessionsPath, htmxHeader(), fx.Readers)),
				about: "auth-fragment" + m},
			scenario{name: "list-100-1M", warm: true, owner: e.big,
				plan:  fixed(readPlan(e.big.base, activeSessionsPath, nil, fx.Listers)),
				about: "list-100" + m})
	}
	for _, ps := range bigConsoles {
		list = append(list, ps.scenario)
	}
	return list
}

// get does one request outside the timed runs and returns the body.
func get(base, path, cookie string, hdr map[string]string) (string, http.Header, error) {
	req, err := http.NewRequest(http.MethodGet, base+path, nil)
	if err != nil {
		return "", nil, err
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return "", nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", nil, err
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("HX-Redirect") != "" {
		return "", nil, fmt.Errorf("GET %s: status %d, HX-Redirect %q", path, resp.StatusCode, resp.Header.Get("HX-Redirect"))
	}
	return string(body), resp.Header, nil
}

// fetchCSRF fills in each login's CSRF token from the `_csrf` field of a
// signed-in page, as a browser would have it.
func fetchCSRF(base string, logins []login) error {
	for i := range logins {
		body, _, err := get(base, passwordPath, sessionCookie+"="+logins[i].Token, htmxHeader())
		if err != nil {
			return err
		}
		m := csrfFieldRe.FindStringSubmatch(body)
		if m == nil {
			return fmt.Errorf("no _csrf field on %s", passwordPath)
		}
		logins[i].CSRF = strings.Clone(m[1]) // not the whole page
	}
	return nil
}

// checkPage makes sure a read scenario gets what it claims to measure:
// the full page or the fragment, with the expected number of rows.
func checkPage(base string, l login, htmx bool, rows int) (int, error) {
	var hdr map[string]string
	if htmx {
		hdr = htmxHeader()
	}
	body, _, err := get(base, activeSessionsPath, sessionCookie+"="+l.Token, hdr)
	if err != nil {
		return 0, err
	}
	if full := strings.Contains(body, "<!doctype html>"); full == htmx {
		return 0, fmt.Errorf("active sessions (htmx %v): got full page %v", htmx, full)
	}
	if got := len(sessionRowRe.FindAllString(body, -1)); got != rows {
		return 0, fmt.Errorf("active sessions: %d rows, want %d", got, rows)
	}
	return len(body), nil
}

// startSessions creates one Fiber session per worker and returns the
// Cookie headers that carry them.
func startSessions(base string, n int) ([]string, error) {
	var out []string
	for range n {
		resp, err := http.Get(base + "/start")
		if err != nil {
			return nil, err
		}
		resp.Body.Close()
		var cookies []string
		for _, c := range resp.Cookies() {
			cookies = append(cookies, c.Name+"="+c.Value)
		}
		if resp.StatusCode != http.StatusOK || len(cookies) == 0 {
			return nil, fmt.Errorf("session start: status %d, %d cookies", resp.StatusCode, len(cookies))
		}
		out = append(out, strings.Join(cookies, "; "))
	}
	return out, nil
}

// writeTxs is the scenario's store's write transaction count so far.
func (sc *scenario) writeTxs() int64 {
	if sc.owner == nil {
		return 0
	}
	return sc.owner.srv.Store().WriteTxCount()
}

func (sc *scenario) flushes() int64 {
	if sc.owner == nil {
		return 0
	}
	return sc.owner.srv.Flushes()
}
