package handlers

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"portal/store"
)

// TestPageHoldsItsFragment: every Settings section's htmx fragment is
// exactly what its full page shows inside <main>, so the composed page and
// the composed fragment cannot drift apart.
func TestPageHoldsItsFragment(t *testing.T) {
	e := newEnv(t)
	e.user(store.RoleClientAdmin, "a@example.com")
	b := e.browser(uaFirefox)
	b.signIn("a@example.com")
	e.browser(uaChrome).signIn("a@example.com")
	for _, target := range append(sectionURLs(), "/settings/active-sessions/sign-out-others") {
		page := b.get(target)
		frag := b.do(http.MethodGet, target, nil, map[string]string{"HX-Request": "true"})
		if page.StatusCode != http.StatusOK || frag.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d, htmx %d", target, page.StatusCode, frag.StatusCode)
		}
		if !strings.Contains(page.body, `<main id="main" tabindex="-1">`+"\n"+frag.body+"\n</main>") {
			t.Errorf("%s: the page's <main> does not hold the fragment\n%s", target, frag.body)
		}
		if strings.Contains(frag.body, "<main") || !strings.HasPrefix(frag.body, `<div class="settings" id="settings">`) {
			t.Errorf("%s: the fragment is not the settings body alone", target)
		}
	}
}

func sectionURLs() []string {
	var urls []string
	for _, s := range sections {
		urls = append(urls, "/settings?section="+s.Slug)
	}
	return urls
}

// TestRenderNeedsAComposedView: a page in a layout it was not composed
// with is an error, not a page without its layout.
func TestRenderNeedsAComposedView(t *testing.T) {
	e, _, err := loadTemplates()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	for _, layouts := range [][]string{{"settings"}, {"nope"}, {"settings", "layout", "layout"}} {
		if err := e.Render(&buf, "login", nil, layouts...); err == nil {
			t.Errorf("login in %v rendered", layouts)
		}
	}
	if err := e.Render(&buf, "partials/error_flash", errorFlash{Message: "m"}, ""); err != nil || !strings.Contains(buf.String(), "m</p>") {
		t.Errorf("a partial alone: %v %q", err, buf.String())
	}
}

// TestComposeRefusesWhatIsNotALayout: composing into a template that has
// no slot, or with a page that does not exist, fails when the templates
// load rather than on a request.
func TestComposeRefusesWhatIsNotALayout(t *testing.T) {
	for _, c := range []composition{{"login", "error", ""}, {"login", "partials/profile", ""}, {"partials/nope", "settings", ""}, {"login", defaultLayout, "nope"}} {
		e, _, err := loadTemplates()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := compose(e.Templates, c); err == nil {
			t.Errorf("composed %+v", c)
		}
	}
}
