package handlers

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"
	"sync"
	"testing"
	"time"

	"portal/device"
	"portal/store"
)

func testRow(i int) sessionRow {
	return sessionRow{
		ID: fmt.Sprintf("%032x", i), CSRF: "csrf-of-the-viewer",
		Device: "Firefox 133 on Linux", TypeLabel: "Computer", Icon: deviceIcon(device.Desktop),
		Location: "Berlin, Germany", Approx: true, MaskedIP: "203.0.113.x",
		Created:      when{ISO: "2026-11-26T10:00:00Z", Exact: "26 Nov 2026, 10:00 UTC", Relative: "yesterday"},
		LastActive:   when{ISO: "2026-11-27T09:00:00Z", Exact: "27 Nov 2026, 09:00 UTC", Relative: "2 hours ago"},
		SignOutLabel: "Sign out Firefox 133 on Linux, Berlin, Germany",
	}
}

// direct renders a partial the uncached way, as {{template}} would.
func direct(t *testing.T, pc *partialCache, name string, data any) string {
	t.Helper()
	var buf bytes.Buffer
	if err := pc.tmpl.Lookup(name).Execute(&buf, data); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestPartialCacheRendersWhatTheTemplateDoes(t *testing.T) {
	_, pc, err := loadTemplates()
	if err != nil {
		t.Fatal(err)
	}
	changed := func(f func(*sessionRow)) sessionRow { r := testRow(1); f(&r); return r }
	tests := []struct {
		name string
		tmpl string
		data any
		want string // in the output
	}{
		{"row", "partials/session_row", testRow(1), "2 hours ago"},
		{"time moved on", "partials/session_row", changed(func(r *sessionRow) { r.LastActive.Relative = "3 hours ago" }), "3 hours ago"},
		{"another viewer", "partials/session_row", changed(func(r *sessionRow) { r.CSRF = "csrf-of-someone-else" }), "csrf-of-someone-else"},
		{"signed out", "partials/session_row", changed(func(r *sessionRow) { r.Ended, r.EndedText = true, "Signed out" }), "Signed out"},
		{"current", "partials/session_row", changed(func(r *sessionRow) { r.Current = true }), "Current session"},
		{"escaped", "partials/session_row", changed(func(r *sessionRow) { r.Device = `<script>x</script>` }), "&lt;script&gt;x&lt;/script&gt;"},
		{"sidebar, customer", "partials/settings_nav", sidebar{Customer: true, Current: "active-sessions"}, `aria-current="page">Active Sessions`},
		{"sidebar, partner", "partials/settings_nav", sidebar{Customer: false, Current: "profile"}, `aria-current="page">Profile`},
	}
	// Twice over: the first pass renders and stores, the second must
	// return the same from the cache.
	for pass := range 2 {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%s/pass%d", tt.name, pass), func(t *testing.T) {
				got, err := pc.render(tt.tmpl, tt.data)
				if err != nil {
					t.Fatal(err)
				}
				if want := direct(t, pc, tt.tmpl, tt.data); string(got) != want {
					t.Fatalf("cached output differs from the template's:\n got %s\nwant %s", got, want)
				}
				if !strings.Contains(string(got), tt.want) {
					t.Fatalf("output lacks %q:\n%s", tt.want, got)
				}
			})
		}
	}
	if hits, misses := pc.stats(); hits != uint64(len(tests)) || misses != uint64(len(tests)) {
		t.Fatalf("hits %d, misses %d; want %d each (every value rendered once, then found)", hits, misses, len(tests))
	}
	if strings.Contains(string(must(pc.render("partials/settings_nav", sidebar{Customer: false}))), "Active Sessions") {
		t.Fatal("a partner's sidebar links to Active Sessions")
	}
}

func must(h template.HTML, err error) template.HTML {
	if err != nil {
		panic(err)
	}
	return h
}

func TestPartialCacheRefusesUnsafeKeys(t *testing.T) {
	_, pc, err := loadTemplates()
	if err != nil {
		t.Fatal(err)
	}
	row := testRow(1)
	tests := []struct {
		name string
		tmpl string
		data any
	}{
		{"pointer", "partials/session_row", &row},
		{"slice", "partials/session_row", []sessionRow{row}},
		{"map", "partials/session_row", map[string]string{}},
		{"nil", "partials/session_row", nil},
		{"struct holding a slice", "partials/active_sessions", sessionList{Rows: []sessionRow{row}}},
		{"struct holding a pointer", "settings", settingsView{Layout: layoutView{User: &signedIn{}}}},
		{"struct holding an interface", "partials/session_row", struct{ X any }{1}},
		{"no such template", "partials/nope", row},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := pc.render(tt.tmpl, tt.data)
			if err == nil || out != "" {
				t.Fatalf("render: %q, %v; want an error and nothing", out, err)
			}
			if !strings.Contains(err.Error(), tt.tmpl) {
				t.Fatalf("error %q does not name the template", err)
			}
		})
	}
}

// cachedBytes is what both generations hold.
func (pc *partialCache) cachedBytes() (n, entries int) {
	pc.kept.mu.Lock()
	defer pc.kept.mu.Unlock()
	for _, m := range []map[partialKey]template.HTML{pc.kept.cur, pc.kept.prev} {
		for _, v := range m {
			n += len(v)
		}
		entries += len(m)
	}
	return n, entries
}

func TestPartialCacheIsBounded(t *testing.T) {
	_, pc, err := loadTemplates()
	if err != nil {
		t.Fatal(err)
	}
	const budget = 64 << 10
	pc.kept.max = budget
	rowSize := len(direct(t, pc, "partials/session_row", testRow(0)))
	for i := range 10_000 {
		if _, err := pc.render("partials/session_row", testRow(i)); err != nil {
			t.Fatal(err)
		}
	}
	n, entries := pc.cachedBytes()
	if n > 2*budget || n < budget/2 {
		t.Fatalf("%d bytes in %d entries after 10,000 distinct rows of ~%d bytes; want between %d and %d", n, entries, rowSize, budget/2, 2*budget)
	}
	// A row still in use survives the turnover of everything else.
	hot := testRow(-1)
	for i := range 10_000 {
		if _, err := pc.render("partials/session_row", hot); err != nil {
			t.Fatal(err)
		}
		if _, err := pc.render("partials/session_row", testRow(20_000+i)); err != nil {
			t.Fatal(err)
		}
	}
	if hits, _ := pc.stats(); hits != 10_000-1 {
		t.Fatalf("the row rendered on every request was found %d times in 10,000; want all but the first", hits)
	}
}

func TestPartialCacheConcurrent(t *testing.T) {
	_, pc, err := loadTemplates()
	if err != nil {
		t.Fatal(err)
	}
	pc.kept.max = 16 << 10 // small, so generations turn over during the test
	want := make([]string, 50)
	for i := range want {
		want[i] = direct(t, pc, "partials/session_row", testRow(i))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for n := range 2_000 {
				i := (n*7 + g) % len(want)
				got, err := pc.render("partials/session_row", testRow(i))
				if err == nil && string(got) != want[i] {
					err = fmt.Errorf("row %d: got another row's HTML", i)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestCachedRowsFollowTheSessions checks what a user sees through the
// cache: each viewer's rows carry that viewer's CSRF token, times move on,
// and a signed-out session leaves the list.
func TestCachedRowsFollowTheSessions(t *testing.T) {
	e := newEnv(t)
	e.user(store.RoleClientStaff, "s@example.com")
	a, b := e.browser(uaFirefox), e.browser(uaFirefox)
	a.signIn("s@example.com")
	b.signIn("s@example.com")

	// Same user, same browser, same network: the rows look alike, but the
	// sign-out form in each page's row must carry that page's own token.
	rowOf := func(page, id string) string {
		t.Helper()
		i := strings.Index(page, `id="session-`+id+`"`)
		if i < 0 {
			t.Fatalf("session %s is not listed", id)
		}
		return page[i : i+strings.Index(page[i:], "</tr>")]
	}
	idA, idB := a.currentID(), b.currentID()
	for i := range 3 {
		for _, v := range []struct {
			who         string
			page        string
			self, other string
			token       string
		}{
			{"A", a.get(activeSessionsURL).body, idA, idB, a.csrf()},
			{"B", b.get(activeSessionsURL).body, idB, idA, b.csrf()},
		} {
			own, other := rowOf(v.page, v.self), rowOf(v.page, v.other)
			if !strings.Contains(own, "Current session") || strings.Contains(own, "<form") {
				t.Fatalf("view %d by %s: own row is not the current session:\n%s", i, v.who, own)
			}
			if strings.Contains(other, "Current session") || !strings.Contains(other, `name="_csrf" value="`+v.token+`"`) {
				t.Fatalf("view %d by %s: the other row is not signed out with this page's token %s:\n%s", i, v.who, v.token, other)
			}
		}
		if a.csrf() == b.csrf() {
			t.Fatal("two sessions share a CSRF token")
		}
	}

	bRow := func() string { return rowOf(a.get(activeSessionsURL).body, idB) }
	if r := bRow(); !strings.Contains(r, ">just now<") {
		t.Fatalf("B's row right after sign-in:\n%s", r)
	}
	e.clock.Advance(5 * time.Minute)
	if r := bRow(); !strings.Contains(r, ">5 minutes ago<") {
		t.Fatalf("five minutes later, B's row still says:\n%s", r)
	}
	b.get(activeSessionsURL)
	if r := bRow(); !strings.Contains(r, ">just now<") {
		t.Fatalf("after B's request, B's row says:\n%s", r)
	}

	if r := a.htmx("POST", "/settings/active-sessions/"+idB+"/sign-out", nil); r.StatusCode != 200 {
		t.Fatalf("sign out B: %d", r.StatusCode)
	}
	if page := a.get(activeSessionsURL).body; strings.Contains(page, `id="session-`+idB) || !strings.Contains(page, `id="ended-`+idB) {
		t.Fatal("B's signed-out session is still listed among the live ones, or not under Recently signed out")
	}
}

// stats reports hits and misses since start.
func (pc *partialCache) stats() (hits, misses uint64) {
	return pc.hits.Load(), pc.miss.Load()
}
