package e2e

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// TestScreenshots renders Active Sessions at desktop and phone width and in
// dark mode, saves the pictures, and checks that a phone needs no
// sideways scrolling and that dark mode is dark.
func TestScreenshots(t *testing.T) {
	ctx, srv := setup(t)
	a := newBrowser(t, ctx, srv, "A", chromeLinux)
	b := newBrowser(t, ctx, srv, "B", firefoxWindows)
	b.signIn(adminEmail)
	a.signIn(adminEmail)
	// Kept after the test, so the logged paths can be opened.
	dir, err := os.MkdirTemp("", "portal-e2e-screenshots-")
	if err != nil {
		t.Fatal(err)
	}
	copyTo := os.Getenv("PORTAL_SCREENSHOT_DIR")

	shoot := func(name string, width, height int64) {
		t.Helper()
		buf := run(a, "screenshot "+name, chromedp.FullScreenshot(100))
		cfg, err := png.DecodeConfig(bytes.NewReader(buf))
		if err != nil {
			t.Fatalf("%s is not a PNG: %v", name, err)
		}
		if int64(cfg.Width) != width || int64(cfg.Height) < height {
			t.Errorf("%s is %dx%d, want %d wide and at least %d high", name, cfg.Width, cfg.Height, width, height)
		}
		for _, d := range []string{dir, copyTo} {
			if d == "" {
				continue
			}
			p := filepath.Join(d, name)
			if err := os.WriteFile(p, buf, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("wrote %s", p)
		}
	}

	a.do("desktop viewport", chromedp.EmulateViewport(1280, 900))
	a.openActiveSessions()
	rowFor(t, a.rows(), firefoxWindows)
	shoot("screenshot-active-sessions.png", 1280, 900)
	light := eval[string](a, `getComputedStyle(document.body).backgroundColor`)

	a.do("phone viewport", chromedp.EmulateViewport(360, 800, chromedp.EmulateMobile))
	a.do("reload", chromedp.Reload())
	a.do("wait for the table", chromedp.WaitVisible(chromedp.CSS("table.sessions tbody tr")))
	// Content wider than the screen shows as a page wider than 360 px, or,
	// with mobile emulation, as a layout viewport widened to fit it.
	iw := eval[int](a, `window.innerWidth`)
	sw := eval[int](a, `document.documentElement.scrollWidth`)
	if iw != 360 || sw > 360 {
		wide := eval[[]string](a, `Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > 360.5).slice(0, 10).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (typeof e.className === 'string' && e.className.trim() ? '.' + e.className.trim().split(/\s+/).join('.') : '') + ' right=' + Math.round(e.getBoundingClientRect().right))`)
		t.Errorf("at 360 px the page overflows sideways (scrollWidth %d, innerWidth %d); elements past 360 px: %v", sw, iw, wide)
	}
	shoot("screenshot-active-sessions-phone.png", 360, 800)

	a.do("desktop viewport", chromedp.EmulateViewport(1280, 900))
	if _, err := chromedp.Call(a.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}},
	}); err != nil {
		t.Fatal(err)
	}
	a.do("reload", chromedp.Reload())
	a.do("wait for the table", chromedp.WaitVisible(chromedp.CSS("table.sessions tbody tr")))
	if !eval[bool](a, `matchMedia('(prefers-color-scheme: dark)').matches`) {
		t.Fatal("dark mode emulation did not take effect")
	}
	dark := eval[string](a, `getComputedStyle(document.body).backgroundColor`)
	t.Logf("body background: light %s, dark %s", light, dark)
	if dark == light {
		t.Errorf("the body background is %s in both light and dark mode", dark)
	}
	shoot("screenshot-active-sessions-dark.png", 1280, 900)
}
