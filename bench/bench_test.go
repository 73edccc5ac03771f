package main

import (
	"net"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"portal/geo"
	"portal/server"
)

// The Handler benchmarks call each app's fasthttp handler directly, with
// no sockets and no load generator: server CPU per request, with far less
// noise than the load benchmark, and a clean CPU profile:
//
//	go test -run '^$' -bench Handler -benchmem ./bench/
//	go test -run '^$' -bench HandlerAuthFragment -cpuprofile cpu.out ./bench/

// portalFixture is the real app on a small store with one user of 5
// sessions and one of 100.
type portalFixture struct {
	handler   fasthttp.RequestHandler
	few, many login
}

func newPortalFixture(b *testing.B, hub bool) portalFixture {
	b.Helper()
	srv := testServer(b, filepath.Join(b.TempDir(), "portal.db"), hub)
	s, err := newSeeder(srv.Store(), testLocator(b), testPasswordHash)
	if err != nil {
		b.Fatal(err)
	}
	few, err := s.usersWithSessions(1, fewSessions)
	if err != nil {
		b.Fatal(err)
	}
	many, err := s.usersWithSessions(1, manySessions)
	if err != nil {
		b.Fatal(err)
	}
	return portalFixture{handler: srv.App().Handler(), few: few[0], many: many[0]}
}

// testServer is the portal on db as the benchmark starts it, logging
// like it, but not running: the Handler benchmarks call its app's handler
// with no flush loop, and with live updates only if hub (without, as
// before issue 17, to compare). It is closed when tb ends.
func testServer(tb testing.TB, db string, hub bool) *server.Server {
	tb.Helper()
	log, err := newLogger("text")
	if err != nil {
		tb.Fatal(err)
	}
	cfg, err := serverConfig(db, testGeoDB(tb), portalOptions{Flush: time.Hour, NoHub: !hub})
	if err != nil {
		tb.Fatal(err)
	}
	srv, err := server.New(cfg, log)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { srv.Close() })
	return srv
}

// testPortal runs the portal on db as the benchmark does, with no request
// log and no timer flush during the test, until t ends.
func testPortal(t *testing.T, db string) *portal {
	t.Helper()
	log, err := newLogger("discard")
	if err != nil {
		t.Fatal(err)
	}
	p, err := startPortal(db, testGeoDB(t), log, portalOptions{Flush: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.close(); err != nil {
			t.Errorf("shut the portal down: %v", err)
		}
	})
	return p
}

// testPasswordHash is a well-formed hash nobody signs in with.
const testPasswordHash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"

// testGeoDB is the path of the demo GeoIP database, for a portal to open.
func testGeoDB(tb testing.TB) string {
	tb.Helper()
	geoPath := filepath.Join(tb.TempDir(), "geo.mmdb")
	if err := geo.WriteDemoDB(geoPath); err != nil {
		tb.Fatal(err)
	}
	return geoPath
}

// testLocator is the demo GeoIP database, closed when the test ends.
func testLocator(tb testing.TB) *geo.Resolver {
	tb.Helper()
	loc, err := geo.Open(testGeoDB(tb), nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { loc.Close() })
	return loc
}

// benchHandler sends req to h b.N times and fails on anything but a 200;
// before, if any, runs ahead of each request (in the CPU time, not in the
// wall time).
func benchHandler(b *testing.B, h fasthttp.RequestHandler, req *fasthttp.Request, before ...func()) {
	b.Helper()
	peer := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
	var ctx fasthttp.RequestCtx
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		if len(before) > 0 {
			b.StopTimer()
			for _, f := range before {
				f()
			}
			b.StartTimer()
		}
		ctx.Response.Reset()
		ctx.Init(req, peer, nil)
		h(&ctx)
		if ctx.Response.StatusCode() != fiber.StatusOK || len(ctx.Response.Header.Peek("HX-Redirect")) > 0 {
			b.Fatalf("status %d, HX-Redirect %q", ctx.Response.StatusCode(), ctx.Response.Header.Peek("HX-Redirect"))
		}
	}
	// CPU time per request (GC included) is steadier than sec/op when
	// other processes compete for the CPUs.
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(len(ctx.Response.Body())), "resp_bytes")
}

func getRequest(path, cookie string, htmx bool) *fasthttp.Request {
	req := fasthttp.AcquireRequest()
	req.SetRequestURI("http://127.0.0.1" + path)
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	if htmx {
		req.Header.Set("HX-Request", "true")
	}
	return req
}

// bareFixture is the baseline fragment sized like auth-fragment.
func bareFixture(b *testing.B) bareData {
	b.Helper()
	d, _, err := newBareData(9838) // auth-fragment's size when written
	if err != nil {
		b.Fatal(err)
	}
	return d
}

func BenchmarkHandlerBare(b *testing.B) {
	app, err := newBareApp(bareFixture(b))
	if err != nil {
		b.Fatal(err)
	}
	benchHandler(b, app.Handler(), getRequest("/fragment", "", false))
}

func BenchmarkHandlerSessionMemory(b *testing.B) {
	app, err := newSessionApp(bareFixture(b))
	if err != nil {
		b.Fatal(err)
	}
	h := app.Handler()
	var ctx fasthttp.RequestCtx
	ctx.Init(getRequest("/start", "", false), nil, nil)
	h(&ctx)
	cookie := fasthttp.AcquireCookie()
	cookie.SetKey("session_id")
	if !ctx.Response.Header.Cookie(cookie) {
		b.Fatal("no session cookie")
	}
	benchHandler(b, h, getRequest("/fragment", "session_id="+string(cookie.Value()), false))
}

func BenchmarkHandlerAuthFragment(b *testing.B) {
	f := newPortalFixture(b, true)
	benchHandler(b, f.handler, getRequest(activeSessionsPath, sessionCookie+"="+f.few.Token, true))
}

func BenchmarkHandlerAuthPage(b *testing.B) {
	f := newPortalFixture(b, true)
	benchHandler(b, f.handler, getRequest(activeSessionsPath, sessionCookie+"="+f.few.Token, false))
}

// The same two without live updates, as before issue 17: the hub's cost
// to a page is the difference.
func BenchmarkHandlerAuthFragmentNoHub(b *testing.B) {
	f := newPortalFixture(b, false)
	benchHandler(b, f.handler, getRequest(activeSessionsPath, sessionCookie+"="+f.few.Token, true))
}

func BenchmarkHandlerAuthPageNoHub(b *testing.B) {
	f := newPortalFixture(b, false)
	benchHandler(b, f.handler, getRequest(activeSessionsPath, sessionCookie+"="+f.few.Token, false))
}

func BenchmarkHandlerList100(b *testing.B) {
	f := newPortalFixture(b, true)
	benchHandler(b, f.handler, getRequest(activeSessionsPath, sessionCookie+"="+f.many.Token, false))
}

func TestPercentile(t *testing.T) {
	var lat []time.Duration
	for i := 1; i <= 100; i++ {
		lat = append(lat, time.Duration(i)*time.Millisecond)
	}
	slices.Sort(lat)
	if got := percentile(lat, 0.50); got != 50*time.Millisecond {
		t.Errorf("p50 = %v, want 50ms", got)
	}
	if got := percentile(lat, 0.99); got != 99*time.Millisecond {
		t.Errorf("p99 = %v, want 99ms", got)
	}
	if got := percentile(nil, 0.99); got != 0 {
		t.Errorf("p99 of nothing = %v", got)
	}
}

func TestCPUCount(t *testing.T) {
	for list, want := range map[string]int{"0": 1, "1": 1, "0,2": 2, "0-3": 4, "0-1,4": 3, "": 1} {
		if got := cpuCount(list); got != want {
			t.Errorf("cpuCount(%q) = %d, want %d", list, got, want)
		}
	}
}

func TestMedian(t *testing.T) {
	if got := median([]float64{3, 1, 2}); got != 2 {
		t.Errorf("median = %v", got)
	}
	if got := median([]float64{4, 1}); got != 2.5 {
		t.Errorf("median of two = %v", got)
	}
}

func TestBareDataSize(t *testing.T) {
	for _, want := range []int{3000, 9838, 20000} {
		_, got, err := newBareData(want)
		if err != nil {
			t.Fatal(err)
		}
		if got > want || got < want-900 { // at most one row (about 850 bytes) short
			t.Errorf("bare fragment for %d bytes is %d bytes", want, got)
		}
	}
}
