package main

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"testing/fstest"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/session"
	"github.com/gofiber/template/html/v2"
)

// bareTemplate is the baselines' fragment: a table of session-like rows
// with the same kinds of actions (escaped text, attributes, a form with a
// CSRF field) as the real rows, without any of the portal's logic.
const bareTemplate = `<div class="settings" id="settings">
<p class="who">Signed in as {{.User}}</p>
<table class="sessions"><tbody>
{{range .Rows}}<tr id="session-{{.ID}}" class="session">
<td class="col-device"><span class="device-name">{{.Device}}</span></td>
<td class="col-location"><span title="Approximate location">{{.Location}}</span> <div class="muted ip">{{.MaskedIP}}</div></td>
<td class="col-time"><time datetime="{{.ISO}}" title="{{.Exact}}">{{.Relative}}</time></td>
<td class="col-action"><form method="post" action="/settings/active-sessions/{{.ID}}/sign-out" hx-post="/settings/active-sessions/{{.ID}}/sign-out" hx-target="closest tr" class="inline"><input type="hidden" name="_csrf" value="{{$.CSRF}}"><button type="submit" class="btn" aria-label="Sign out {{.Device}}, {{.Location}}">Sign out</button></form></td>
</tr>
{{end}}</tbody></table>
</div>
`

// bareRow is one row of the baseline fragment.
type bareRow struct {
	ID, Device, Location, MaskedIP, ISO, Exact, Relative string
}

// bareData is what the baseline handlers render.
type bareData struct {
	User, CSRF string
	Rows       []bareRow
}

// newBareData builds as many rows as fit in target bytes: the baseline is
// never larger than the fragment it stands for, so rounding cannot
// flatter the portal.
func newBareData(target int) (bareData, int, error) {
	t, err := template.New("bare").Parse(bareTemplate)
	if err != nil {
		return bareData{}, 0, err
	}
	size := func(d bareData) (int, error) {
		var b bytes.Buffer
		err := t.Execute(&b, d)
		return b.Len(), err
	}
	d := bareData{User: "Bench User 000001", CSRF: "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5"}
	row := func(i int) bareRow {
		ts := time.Date(2026, 11, 27, 9, i, 0, 0, time.UTC)
		return bareRow{
			ID: fmt.Sprintf("%032x", i+1), Device: "Chrome 131 on macOS", Location: "Berlin, Germany",
			MaskedIP: "203.0.113.x", ISO: ts.Format(time.RFC3339), Exact: ts.Format("2 Jan 2006, 15:04 UTC"),
			Relative: fmt.Sprintf("%d minutes ago", i+1),
		}
	}
	empty, err := size(d)
	if err != nil {
		return bareData{}, 0, err
	}
	d.Rows = []bareRow{row(0)}
	one, err := size(d)
	if err != nil {
		return bareData{}, 0, err
	}
	n := max(1, (target-empty)/(one-empty))
	d.Rows = d.Rows[:0]
	for i := range n {
		d.Rows = append(d.Rows, row(i))
	}
	got, err := size(d)
	return d, got, err
}

// newBareEngine is the same template engine the portal uses (gofiber's
// html engine), holding only the baseline fragment.
func newBareEngine() (*html.Engine, error) {
	fs := fstest.MapFS{"bare.html": {Data: []byte(bareTemplate)}}
	e := html.NewFileSystem(http.FS(fs), ".html")
	return e, e.Load()
}

// newBareApp serves the fragment at /fragment with no middleware at all.
func newBareApp(d bareData) (*fiber.App, error) {
	e, err := newBareEngine()
	if err != nil {
		return nil, err
	}
	app := fiber.New(fiber.Config{Views: e, DisableStartupMessage: true})
	app.Get("/fragment", func(c *fiber.Ctx) error { return c.Render("bare", d) })
	return app, nil
}

// newSessionApp serves the same fragment behind Fiber's stock session
// middleware with its default in-memory storage. GET /start creates a
// session holding a user name; GET /fragment reads it back (one gob
// decode from storage per request) and renders.
func newSessionApp(d bareData) (*fiber.App, error) {
	e, err := newBareEngine()
	if err != nil {
		return nil, err
	}
	sessions := session.New()
	app := fiber.New(fiber.Config{Views: e, DisableStartupMessage: true})
	app.Get("/start", func(c *fiber.Ctx) error {
		s, err := sessions.Get(c)
		if err != nil {
			return err
		}
		s.Set("user", d.User)
		return s.Save()
	})
	app.Get("/fragment", func(c *fiber.Ctx) error {
		s, err := sessions.Get(c)
		if err != nil {
			return err
		}
		user, _ := s.Get("user").(string)
		if user == "" {
			return fiber.ErrUnauthorized
		}
		data := d
		data.User = user
		return c.Render("bare", data)
	})
	return app, nil
}
