package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"
)

// windowVictims is how many other sessions each of the window's users has
// for the revokes.
const windowVictims = 10

// windowFixture is the cross-instance window's database and logins: each
// actor revokes its victims one by one.
type windowFixture struct {
	URL     string
	Actors  []login
	Victims [][]login // per actor
}

// windowResult is the cross-instance revoke window.
type windowResult struct {
	Windows      []time.Duration // A's revoke response to B's first refusal, per revoke
	FirstRefused int             // revokes refused on B's very first request after
	Polls        int             // requests to B after the revokes, in all
	Revoke       []time.Duration // A's revoke round trips
	Admit        []time.Duration // B's round trips admitting a victim, before its revoke
}

// measureWindow starts two portals (A and B, each with its own store,
// pool, cache, listener and hub) on one database and, one revoke at a
// time: has B admit a victim's session (so B has it cached), revokes it
// through A (htmx POST with A's CSRF token), notes when A's response
// arrived, then asks B with the victim's cookie until B refuses it.
// Nothing else runs meanwhile.
func measureWindow(cfg config, e *pgEnv, geoPath string, log *slog.Logger) (res windowResult, err error) {
	a, err := startPortal(e.window.URL, geoPath, log, cfg.portal())
	if err != nil {
		return res, err
	}
	defer func() { err = errors.Join(err, a.close()) }()
	b, err := startPortal(e.window.URL, geoPath, log, cfg.portal())
	if err != nil {
		return res, err
	}
	defer func() { err = errors.Join(err, b.close()) }()
	if err := fetchCSRF(a.base, e.window.Actors); err != nil {
		return res, err
	}
	for i, actor := range e.window.Actors {
		for _, v := range e.window.Victims[i] {
			if len(res.Windows) == cfg.PG.Revokes {
				return res, nil
			}
			if err := oneWindow(a.base, b.base, actor, v, &res); err != nil {
				return res, err
			}
		}
	}
	return res, nil
}

// oneWindow times one revoke's window into res.
func oneWindow(a, b string, actor, victim login, res *windowResult) error {
	cookie := sessionCookie + "=" + victim.Token
	t0 := time.Now()
	if refused, err := askB(b, cookie); err != nil || refused {
		return fmt.Errorf("portal B before the revoke: refused %v, %v", refused, err)
	}
	res.Admit = append(res.Admit, time.Since(t0))
	t1 := time.Now()
	if err := revokeOn(a, actor, victim.SessionID); err != nil {
		return err
	}
	answered := time.Now()
	res.Revoke = append(res.Revoke, answered.Sub(t1))
	for polls := 1; ; polls++ {
		refused, err := askB(b, cookie)
		if err != nil {
			return fmt.Errorf("portal B after the revoke: %w", err)
		}
		res.Polls++
		if refused {
			res.Windows = append(res.Windows, time.Since(answered))
			if polls == 1 {
				res.FirstRefused++
			}
			return nil
		}
		if time.Since(answered) > 10*time.Second {
			return fmt.Errorf("portal B still admits session %s 10s after A revoked it", victim.SessionID)
		}
	}
}

// askB requests the Active Sessions page with cookie: admitted (200) or
// refused (303 to sign-in).
func askB(base, cookie string) (refused bool, err error) {
	req, err := http.NewRequest(http.MethodGet, base+activeSessionsPath, nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("Cookie", cookie)
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	switch {
	case resp.StatusCode == http.StatusOK:
		return false, nil
	case resp.StatusCode == http.StatusSeeOther && strings.HasPrefix(resp.Header.Get("Location"), "/login"):
		return true, nil
	}
	return false, fmt.Errorf("status %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
}

// revokeOn signs out sessionID through the portal at base as actor would
// from its Active Sessions page.
func revokeOn(base string, actor login, sessionID string) error {
	p := revokeOnePlan(base, revokePool{Actors: []login{actor}, Jobs: []revokeJob{{Actor: 0, Target: sessionID}}})
	_, err := send(http.DefaultClient, newRequest(p, p.Jobs[0]))
	if err != nil {
		return fmt.Errorf("revoke through A: %w", err)
	}
	return nil
}

// printWindow prints the window and its target: every revoke refused on
// B's first request after A's response.
func printWindow(out io.Writer, w windowResult) {
	n := len(w.Windows)
	fmt.Fprintf(out, "\ncross-instance revoke window, two portals (A, B) on one PostgreSQL database, %d revokes one at a time, nothing else running:\n", n)
	fmt.Fprintf(out, "  A's revoke response to B's first refusal: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
		ms(quantile(w.Windows, 0.50)), ms(quantile(w.Windows, 0.99)), ms(quantile(w.Windows, 1)))
	fmt.Fprintf(out, "  for scale: B admitting a session (before its revoke) p50 %.2f ms, p99 %.2f ms; A's revoke round trip p50 %.2f ms, p99 %.2f ms\n",
		ms(quantile(w.Admit, 0.50)), ms(quantile(w.Admit, 0.99)), ms(quantile(w.Revoke, 0.50)), ms(quantile(w.Revoke, 0.99)))
	fmt.Fprintf(out, "  %s refused on B's very first request after A's response: %d of %d (%d requests to B in all)\n",
		verdictOf(w.FirstRefused == n), w.FirstRefused, n, w.Polls)
}

// quantile of d by the nearest rank; 0 for none.
func quantile(d []time.Duration, q float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return percentile(s, q)
}

func verdictOf(ok bool) string {
	if ok {
		return "MET    "
	}
	return "NOT MET"
}
