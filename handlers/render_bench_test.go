package handlers

import (
	"bytes"
	"testing"
	"time"

	"portal/geo"
	"portal/store"
)

// renderBench is what the row benchmarks share.
type renderBench struct {
	h        *handler
	engine   *viewEngine
	partials *partialCache
	sess     store.Session
	row      sessionRow
	now      time.Time
}

// newRenderBench makes one other session's row, prepared the way the
// Active Sessions page prepares it, and the engine the app renders with.
func newRenderBench(b *testing.B) renderBench {
	b.Helper()
	e := newEnv(b)
	u := e.user(store.RoleClientAdmin, "bench@client.example")
	in := store.SignIn("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", e.geo.Place(geo.DemoAddrs()[0]))
	in.CreatedAt = e.clock.Now().Add(-26 * time.Hour)
	in.LastActive = e.clock.Now().Add(-90 * time.Minute)
	sess, _, err := e.st.CreateSession(u.ID, in)
	if err != nil {
		b.Fatal(err)
	}
	engine, partials, err := loadTemplates()
	if err != nil {
		b.Fatal(err)
	}
	h := &handler{stores: storesOf(e.st), now: e.clock.Now}
	row := h.row(sess, false, "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5", e.clock.Now(), time.UTC)
	if row.Location == "" {
		b.Fatal("the benchmark row has no location; the demo GeoIP database did not resolve")
	}
	return renderBench{h: h, engine: engine, partials: partials, sess: sess, row: row, now: e.clock.Now()}
}

// BenchmarkRenderSessionRow renders one row through the app's template
// engine (gofiber/template/html), as c.Render("partials/session_row") does
// after a revoke.
func BenchmarkRenderSessionRow(b *testing.B) {
	rb := newRenderBench(b)
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := rb.engine.Render(&buf, "partials/session_row", rb.row); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len()), "bytes/row")
}

// BenchmarkRenderSessionRowTemplate executes the same parsed template
// directly, without the engine's per-render Funcs call, to show what the
// engine itself costs.
func BenchmarkRenderSessionRowTemplate(b *testing.B) {
	rb := newRenderBench(b)
	tmpl := rb.engine.Templates.Lookup("partials/session_row")
	if tmpl == nil {
		b.Fatal("no partials/session_row template")
	}
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := tmpl.Execute(&buf, rb.row); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRenderSessionRowCached is the same row through the partial cache,
// as the Active Sessions list renders it: after the first request, a
// lookup keyed by the row's value.
func BenchmarkRenderSessionRowCached(b *testing.B) {
	rb := newRenderBench(b)
	b.ReportAllocs()
	for b.Loop() {
		if out, err := rb.partials.render("partials/session_row", rb.row); err != nil || out == "" {
			b.Fatal(err, len(out))
		}
	}
}

// BenchmarkBuildSessionRow is the data preparation before rendering: the
// device label, location text, times and sign-out label of one session.
func BenchmarkBuildSessionRow(b *testing.B) {
	rb := newRenderBench(b)
	b.ReportAllocs()
	for b.Loop() {
		if r := rb.h.row(rb.sess, false, rb.row.CSRF, rb.now, time.UTC); r.ID == "" {
			b.Fatal("empty row")
		}
	}
}
