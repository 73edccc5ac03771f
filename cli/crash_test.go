package cli

// The crash test: the real binary under concurrent sign-ins, revokes,
// sign-outs and page views, killed with SIGKILL at random moments and
// restarted on the same file. A browser that was told a session ended must
// find it ended after any crash, a sign-in that got its cookie must survive
// it, and last-active may lag by no more than a flush interval.

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"portal/store"
	"portal/store/bolt"
)

const (
	crashPartner       = "partner@partner.example"
	crashFlushInterval = time.Second
	// crashLastActiveSlack is how long after a request's response its
	// last-active must be on disk: one flush interval plus generous room
	// for a slow fsync or a busy machine.
	crashLastActiveSlack = crashFlushInterval + 2500*time.Millisecond
	crashPoolPerUser     = 6 // live sessions kept per user, to bound sign-ins (argon2)
)

// crashSession is a signed-in browser the test knows about.
type crashSession struct {
	email string
	b     *binBrowser // id is empty if the crash came before it was learned
	at    time.Time
}

// crashTouch is a page view that got a 200: last-active moved past sent.
type crashTouch struct {
	s          *crashSession
	sent, done time.Time
}

// crashWorld is what the test's browsers were told, shared by the workers.
type crashWorld struct {
	mu   sync.Mutex
	base string
	hc   *http.Client
	// pool holds the sessions believed live and not in use by a worker.
	pool map[string][]*crashSession
	// confirmed is every sign-in that got its session cookie.
	confirmed []*crashSession
	// ended marks sessions known to be over, so a worker holding one
	// drops it instead of returning it to the pool.
	ended map[*crashSession]bool
	// revoked is every end a browser was told succeeded, and how.
	revoked map[*crashSession]string
	// replay is revoked since the last restart, to replay after the next.
	replay []*crashSession
	// watched are partner sessions: no customer can end them and partners
	// have no Active Sessions, so they live through the whole test and
	// carry the last-active checks. Only the viewer uses them.
	watched []*crashSession
	// touches of this run, and for each session the newest time its
	// last-active must have reached on disk.
	touches    []crashTouch
	lastActive map[*crashSession]time.Time

	kinds map[string]int // counts for the log
}

func (w *crashWorld) count(kind string) {
	w.mu.Lock()
	w.kinds[kind]++
	w.mu.Unlock()
}

// checkout takes n distinct sessions of one user out of the pool, or nil.
func (w *crashWorld) checkout(rng *rand.Rand, n int) []*crashSession {
	w.mu.Lock()
	defer w.mu.Unlock()
	email := binCustomers[rng.IntN(len(binCustomers))]
	p := w.pool[email]
	if len(p) < n {
		return nil
	}
	rng.Shuffle(len(p), func(i, j int) { p[i], p[j] = p[j], p[i] })
	out := append([]*crashSession(nil), p[:n]...)
	w.pool[email] = p[n:]
	for _, s := range out {
		s.b.base = w.base
	}
	return out
}

// checkin returns sessions to the pool unless they ended meanwhile.
func (w *crashWorld) checkin(ss ...*crashSession) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, s := range ss {
		if !w.ended[s] {
			w.pool[s.email] = append(w.pool[s.email], s)
		}
	}
}

// revokedOK records an end a browser was told succeeded.
func (w *crashWorld) revokedOK(how string, ss ...*crashSession) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, s := range ss {
		w.ended[s] = true
		if _, ok := w.revoked[s]; !ok {
			w.revoked[s] = how
			w.replay = append(w.replay, s)
		}
	}
	w.kinds[how]++
}

func (w *crashWorld) drop(ss ...*crashSession) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, s := range ss {
		w.ended[s] = true
	}
}

// signer signs the demo customers in, over and over, from new browsers.
func (w *crashWorld) signer(ctx context.Context, t *testing.T, rng *rand.Rand) {
	for ctx.Err() == nil {
		email := binCustomers[rng.IntN(len(binCustomers))]
		w.mu.Lock()
		full := len(w.pool[email]) >= crashPoolPerUser
		base := w.base
		w.mu.Unlock()
		if full {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		b := &binBrowser{base: base, hc: w.hc}
		r, ok, err := b.signIn(email)
		if err != nil {
			continue // the portal was killed under the request
		}
		if !ok {
			t.Errorf("sign-in as %s: status %d, location %q", email, r.status, r.location)
			continue
		}
		s := &crashSession{email: email, b: b, at: time.Now()}
		w.mu.Lock()
		w.confirmed = append(w.confirmed, s)
		w.mu.Unlock()
		if _, r, err := b.loadSessions(); err != nil || r.status != http.StatusOK {
			// Killed, or ended already by a concurrent "sign out all other
			// devices"; anything else is wrong.
			if err == nil && !(r.status == http.StatusSeeOther && strings.HasPrefix(r.location, "/login?reason=")) {
				t.Errorf("Active Sessions after sign-in: status %d, location %q", r.status, r.location)
			}
			continue // kept in confirmed; without its id it is not used again
		}
		w.checkin(s)
	}
}

// ender ends sessions: another session's Sign out button (plain form), the
// session's own Sign out, and now and then "Sign out all other devices".
func (w *crashWorld) ender(ctx context.Context, t *testing.T, rng *rand.Rand) {
	for ctx.Err() == nil {
		pair := w.checkout(rng, 2)
		if pair == nil {
			time.Sleep(5 * time.Millisecond)
			continue
		}
		by, victim := pair[0], pair[1]
		switch n := rng.IntN(100); {
		case n < 75:
			r, err := by.b.revoke(victim.b.id)
			switch {
			case err != nil: // killed: the revoke may or may not have happened
				w.drop(victim)
				w.checkin(by)
			case r.status == http.StatusSeeOther && r.location == "/settings?section=active-sessions":
				w.revokedOK("revoke", victim)
				w.checkin(by)
			case r.status == http.StatusSeeOther && strings.HasPrefix(r.location, "/login?reason="):
				w.drop(by) // ended meanwhile (session cap, or all others signed out)
				w.checkin(victim)
			default:
				t.Errorf("revoke %s by %s: status %d, location %q\n%.1000s", victim.b.id[:8], by.b.id[:8], r.status, r.location, r.body)
				w.drop(by, victim)
			}
		case n < 95:
			w.checkin(by)
			r, err := victim.b.do("POST", "/logout", url.Values{"_csrf": {victim.b.csrf}})
			switch {
			case err != nil:
				w.drop(victim)
			case r.status == http.StatusSeeOther && r.location == "/login?reason=signed_out":
				w.revokedOK("sign-out", victim)
			case r.status == http.StatusSeeOther && strings.HasPrefix(r.location, "/login?reason="):
				w.drop(victim)
			default:
				t.Errorf("sign out %s: status %d, location %q\n%.1000s", victim.b.id[:8], r.status, r.location, r.body)
				w.drop(victim)
			}
		default:
			w.checkin(victim)
			// Every sign-in of this user that had its cookie before the
			// request was sent must end with it.
			w.mu.Lock()
			var others []*crashSession
			for _, s := range w.confirmed {
				if s.email == by.email && s != by {
					others = append(others, s)
				}
			}
			w.mu.Unlock()
			r, err := by.b.do("POST", "/settings/active-sessions/sign-out-others", url.Values{"_csrf": {by.b.csrf}})
			switch {
			case err != nil:
				w.drop(others...)
				w.checkin(by)
			case r.status == http.StatusSeeOther && r.location == "/settings?section=active-sessions":
				w.revokedOK("sign-out-others", others...)
				w.checkin(by)
			case r.status == http.StatusSeeOther && strings.HasPrefix(r.location, "/login?reason="):
				w.drop(by)
			default:
				t.Errorf("sign out others by %s: status %d, location %q\n%.1000s", by.b.id[:8], r.status, r.location, r.body)
				w.drop(by)
			}
		}
	}
}

// viewer opens Settings with live sessions, which moves their last-active
// in memory for the next flush.
func (w *crashWorld) viewer(ctx context.Context, t *testing.T, rng *rand.Rand) {
	for ctx.Err() == nil {
		var s *crashSession
		if rng.IntN(2) == 0 {
			s = w.watched[rng.IntN(len(w.watched))]
			w.mu.Lock()
			s.b.base = w.base
			w.mu.Unlock()
		} else if one := w.checkout(rng, 1); one != nil {
			s = one[0]
		} else {
			time.Sleep(5 * time.Millisecond)
			continue
		}
		watched := s.email == crashPartner
		sent := time.Now()
		r, err := s.b.do("GET", "/settings", nil)
		switch {
		case err != nil:
			if !watched {
				w.checkin(s)
			}
		case r.status == http.StatusOK:
			w.mu.Lock()
			w.touches = append(w.touches, crashTouch{s, sent, time.Now()})
			w.mu.Unlock()
			if !watched {
				w.checkin(s)
			}
		case r.status == http.StatusSeeOther && strings.HasPrefix(r.location, "/login?reason=") && !watched:
			w.drop(s)
		default:
			t.Errorf("GET /settings: status %d, location %q", r.status, r.location)
			w.drop(s)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestCrashDurability kills the portal with SIGKILL at random moments under
// load, 20 times (5 with -short), and checks the file after every kill.
func TestCrashDurability(t *testing.T) {
	kills := 20
	if testing.Short() {
		kills = 5
	}
	bin := buildPortal(t)
	path := filepath.Join(t.TempDir(), "portal.db")
	args := []string{"-demo", "-db", path, "-addr", "127.0.0.1:0", "-flush-interval", crashFlushInterval.String()}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))

	tr := binTransport()
	defer tr.CloseIdleConnections()
	w := &crashWorld{
		hc: binHTTPClient(tr), pool: map[string][]*crashSession{}, ended: map[*crashSession]bool{},
		revoked: map[*crashSession]string{}, lastActive: map[*crashSession]time.Time{}, kinds: map[string]int{},
	}
	start := time.Now()
	for cycle := range kills {
		if cycle%5 == 2 {
			// Killed while starting: opening the file, its first write,
			// the sweep, the demo's GeoIP file.
			p := startBin(t, bin, args...)
			time.Sleep(time.Duration(rng.Int64N(int64(60 * time.Millisecond))))
			p.kill()
			w.count("kill")
			w.count("early")
			assertNoCrash(t, p.out.String())
			w.verifyFile(t, path, time.Now())
			if t.Failed() {
				t.Fatalf("after kill %d, early in start-up; the portal's output:\n%s", cycle+1, p.out)
			}
			continue
		}
		p := startBin(t, bin, args...)
		w.base = p.waitListening(30 * time.Second)
		w.replayEnded(t)
		for len(w.watched) < 2 {
			b := &binBrowser{base: w.base, hc: w.hc}
			if r, ok, err := b.signIn(crashPartner); err != nil || !ok {
				t.Fatalf("sign in as %s: %v %d %q", crashPartner, err, r.status, r.location)
			}
			s := &crashSession{email: crashPartner, b: b, at: time.Now()}
			w.watched = append(w.watched, s)
			w.confirmed = append(w.confirmed, s)
		}

		// Mostly short runs, so kills land in every phase of start-up and
		// load; every fourth one long enough for last-active flushes.
		up := 100*time.Millisecond + time.Duration(rng.Int64N(int64(1200*time.Millisecond)))
		if cycle%4 == 3 {
			up = 4*time.Second + time.Duration(rng.Int64N(int64(500*time.Millisecond)))
		}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for i, work := range []func(context.Context, *testing.T, *rand.Rand){w.signer, w.ender, w.ender, w.viewer} {
			r := rand.New(rand.NewPCG(seed, uint64(cycle*10+i+1)))
			wg.Go(func() { work(ctx, t, r) })
		}
		time.Sleep(up)
		killedAt := time.Now()
		p.kill()
		cancel()
		wg.Wait()
		tr.CloseIdleConnections()
		w.count("kill")

		assertNoCrash(t, p.out.String())
		w.verifyFile(t, path, killedAt)
		if t.Failed() {
			t.Fatalf("after kill %d (up %s); the portal's output:\n%s", cycle+1, up.Round(time.Millisecond), p.out)
		}
	}

	// The end state through the store's own API.
	st, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatalf("bolt.Open after the last kill: %v", err)
	}
	defer st.Close()
	if err := st.Check(); err != nil {
		t.Errorf("store.Check after the last kill: %v", err)
	}
	users := map[string]string{}
	for _, email := range binCustomers {
		u, err := st.UserByEmail(email)
		if err != nil {
			t.Fatal(err)
		}
		users[email] = u.ID
	}
	for s, how := range w.revoked {
		if s.b.id == "" {
			continue
		}
		x, err := st.UserSession(users[s.email], s.b.id)
		if err != nil || x.EndedAt.IsZero() {
			t.Errorf("%s of session %s was confirmed, but the store has it live (err %v)", how, s.b.id[:8], err)
		}
	}
	t.Logf("%d kills (%d early in start-up) in %s: %d sign-ins, %d revokes, %d sign-outs, %d sign-out-others (%d sessions), %d last-active checks, %d replays",
		w.kinds["kill"], w.kinds["early"], time.Since(start).Round(time.Millisecond), len(w.confirmed), w.kinds["revoke"], w.kinds["sign-out"],
		w.kinds["sign-out-others"], crashCountHow(w.revoked, "sign-out-others"), w.kinds["last-active"], w.kinds["replay"])
	if entries, err := os.ReadDir(filepath.Dir(path)); err == nil {
		for _, e := range entries {
			if n := e.Name(); n != filepath.Base(path) && n != filepath.Base(path)+".demo-geo.mmdb" {
				t.Logf("left in the database directory after the kills: %s", n)
			}
		}
	}
	if len(w.revoked) == 0 || w.kinds["last-active"] == 0 {
		t.Errorf("the run confirmed %d revokes and checked %d last-active times; it tested nothing", len(w.revoked), w.kinds["last-active"])
	}
}

func crashCountHow(m map[*crashSession]string, how string) int {
	n := 0
	for _, h := range m {
		if h == how {
			n++
		}
	}
	return n
}

// verifyFile reads the database, with the portal dead, and checks it
// against what the browsers were told.
func (w *crashWorld) verifyFile(t *testing.T, path string, killedAt time.Time) {
	t.Helper()
	// A page view answered lastActiveSlack before the kill has had a flush.
	for _, tc := range w.touches {
		if tc.done.Before(killedAt.Add(-crashLastActiveSlack)) && tc.sent.After(w.lastActive[tc.s]) {
			w.lastActive[tc.s] = tc.sent
		}
	}
	w.touches = nil

	db := openFileReadOnly(t, path)
	defer db.Close()
	events := map[string]map[string][]store.EventKind{} // user id -> session id -> kinds recorded
	for _, s := range w.confirmed {
		x, found := fileSession(t, db, s.b.token)
		if !found {
			t.Errorf("session of %s signed in at %s got its cookie but is not in the database", s.email, s.at.Format(time.StampMilli))
			continue
		}
		if events[x.UserID] == nil {
			events[x.UserID] = fileEvents(t, db, x.UserID)
		}
		// Every change is written with its event in one transaction, so
		// an acknowledged change has its event after any crash.
		if !slices.Contains(events[x.UserID][x.ID], store.EventSignedIn) {
			t.Errorf("session %s is on disk without its sign-in event", x.ID[:8])
		}
		w.kinds["events"]++
		if how, ok := w.revoked[s]; ok && x.EndedAt.IsZero() {
			t.Errorf("%s of session %s was confirmed to the browser but is not on disk", how, x.ID[:8])
		}
		if !x.EndedAt.IsZero() && !slices.Contains(events[x.UserID][x.ID], store.EventEnded) {
			t.Errorf("session %s ended (%s) on disk without its event", x.ID[:8], x.EndReason)
		}
		if s.email == crashPartner && !x.EndedAt.IsZero() {
			t.Errorf("partner session %s ended (%s), but nothing in the test ends it", x.ID[:8], x.EndReason)
		}
		if want, ok := w.lastActive[s]; ok && x.EndedAt.IsZero() {
			w.kinds["last-active"]++
			if x.LastActive.Before(want) {
				t.Errorf("session %s: last-active on disk %s, but a request answered more than %s before the kill moved it to %s",
					x.ID[:8], x.LastActive.Format(time.StampMilli), crashLastActiveSlack, want.UTC().Format(time.StampMilli))
			}
		}
	}
	db.Close()
	checkFile(t, path)
}

// replayEnded sends the cookies of sessions ended since the last restart
// to the restarted portal: each must be sent to sign-in with a reason.
func (w *crashWorld) replayEnded(t *testing.T) {
	t.Helper()
	replay := w.replay
	w.replay = nil
	if len(replay) > 20 {
		replay = replay[len(replay)-20:]
	}
	for _, s := range replay {
		b := &binBrowser{base: w.base, hc: w.hc, token: s.b.token}
		r, err := b.do("GET", "/settings", nil)
		if err != nil {
			t.Fatalf("replay: %v", err)
		}
		if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/login?reason=") {
			t.Errorf("%s session %s: its cookie after a restart gives %d %q, want 303 to /login?reason=…", w.revoked[s], s.b.id, r.status, r.location)
		}
		w.kinds["replay"]++
	}
}
