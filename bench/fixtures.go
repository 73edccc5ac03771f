package main

import (
	"fmt"
	"net/netip"
	"os"
	"time"

	"portal/geo"
	"portal/handlers"
	"portal/store"
)

// userAgents are the browsers seeded sessions claim to be.
var userAgents = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
	"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
}

// loopback is where the load generator connects from. The benchmark's
// own sessions are created "from" it, so requests do not look like a
// network change (which would queue a location update).
var loopback = netip.MustParseAddr("127.0.0.1")

// seeder creates users and sessions through the public store API.
type seeder struct {
	st      *store.Store
	loc     handlers.Locator
	account string
	samples []store.NewSession // parsed user agents x demo addresses
	n       int                // users created, for unique emails
	now     time.Time
	pwHash  string
}

// newSeeder prepares sample sessions once: parsing a user agent and
// resolving an address are what a sign-in does, not what seeding measures.
func newSeeder(st *store.Store, loc handlers.Locator, pwHash string) (*seeder, error) {
	acct, err := st.CreateAccount("Benchmark Traders Ltd", store.AccountClient)
	if err != nil {
		return nil, err
	}
	s := &seeder{st: st, loc: loc, account: acct.ID, now: time.Now(), pwHash: pwHash}
	for _, addr := range geo.DemoAddrs() {
		for _, ua := range userAgents {
			s.samples = append(s.samples, store.SignIn(ua, loc.Place(addr)))
		}
	}
	return s, nil
}

// user creates a customer user in the seeder's account.
func (s *seeder) user(role store.Role) (store.User, error) {
	return s.st.CreateUser(s.nextUser(role))
}

// nextUser is the next customer user of the seeder's account, to create.
func (s *seeder) nextUser(role store.Role) store.NewUser {
	s.n++
	return store.NewUser{
		AccountID: s.account, Email: fmt.Sprintf("bench.user.%06d@client.example", s.n),
		Name: fmt.Sprintf("Bench User %06d", s.n), Role: role, PasswordHash: s.pwHash,
	}
}

// session creates one of u's sessions, the i-th of its kind: varied
// devices and places, signed in over the last few days and active within
// the idle timeout.
func (s *seeder) session(userID string, i int) (store.Session, string, error) {
	return s.st.CreateSession(userID, s.sample(i))
}

// sample is the i-th kind of seeded sign-in.
func (s *seeder) sample(i int) store.NewSession {
	in := s.samples[(i*7)%len(s.samples)] // 7: vary device and place together
	in.CreatedAt = s.now.Add(-time.Duration(1+i%120) * time.Hour)
	in.LastActive = s.now.Add(-time.Duration(1+i%600) * time.Minute)
	return in
}

// current creates the session a benchmark worker uses: a desktop browser
// on the loopback address, active now.
func (s *seeder) current(u store.User) (login, error) {
	sess, token, err := s.st.CreateSession(u.ID, store.SignIn(userAgents[1], s.loc.Place(loopback)))
	return login{UserID: u.ID, SessionID: sess.ID, Token: token}, err
}

// login is a signed-in browser the load generator can act as.
type login struct {
	UserID, SessionID, Token string
	CSRF                     string // filled in from a page once the app runs
}

// usersWithSessions creates n users with perUser sessions each: one
// current session (a login the load generator uses) and perUser-1 others
// on varied devices and networks. It returns the current logins.
func (s *seeder) usersWithSessions(n, perUser int) ([]login, error) {
	out := make([]login, 0, n)
	for range n {
		u, err := s.user(store.RoleClientAdmin)
		if err != nil {
			return nil, err
		}
		l, err := s.current(u)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
		for i := 1; i < perUser; i++ {
			if _, _, err := s.session(u.ID, i); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// revokeJob is one revoke a benchmark request performs: the acting login
// and, for revoke-one, the session it signs out.
type revokeJob struct {
	Actor  int // index into the pool's Actors
	Target string
}

// revokePool is a set of logins and the revokes they will perform.
type revokePool struct {
	Actors []login
	Jobs   []revokeJob
}

// revokeOnePool creates users like auth-fragment's (one current session
// and perUser-1 others) until there are at least victims other sessions,
// each to be signed out by one request. Jobs go user by user within each
// round, so concurrent requests act for different users.
func (s *seeder) revokeOnePool(victims, perUser int) (revokePool, error) {
	var p revokePool
	users := (victims + perUser - 2) / (perUser - 1)
	others := make([][]string, users)
	for u := range users {
		usr, err := s.user(store.RoleClientAdmin)
		if err != nil {
			return p, err
		}
		l, err := s.current(usr)
		if err != nil {
			return p, err
		}
		p.Actors = append(p.Actors, l)
		for i := 1; i < perUser; i++ {
			x, _, err := s.session(usr.ID, i)
			if err != nil {
				return p, err
			}
			others[u] = append(others[u], x.ID)
		}
	}
	for round := range perUser - 1 {
		for u := range users {
			p.Jobs = append(p.Jobs, revokeJob{Actor: u, Target: others[u][round]})
		}
	}
	return p, nil
}

// revokeAllPool creates users with one current session and others other
// sessions each; every job signs out all others of one user.
func (s *seeder) revokeAllPool(users, others int) (revokePool, error) {
	logins, err := s.usersWithSessions(users, others+1)
	if err != nil {
		return revokePool{}, err
	}
	p := revokePool{Actors: logins}
	for i := range logins {
		p.Jobs = append(p.Jobs, revokeJob{Actor: i})
	}
	return p, nil
}

// seedOthers fills the store with users×perUser sessions of other people,
// for the -big scenarios, in batched write transactions (CreateUsers and
// CreateSessions) of about batch sessions each. progress is called after
// each batch with how many sessions exist.
func seedOthers(s *seeder, users, perUser, batch int, progress func(done int)) error {
	usersPerBatch := max(1, batch/perUser)
	done := 0
	for first := 0; first < users; first += usersPerBatch {
		n := min(usersPerBatch, users-first)
		in := make([]store.NewUser, n)
		for i := range in {
			in[i] = s.nextUser(store.RoleClientStaff)
		}
		created, err := s.st.CreateUsers(in)
		if err != nil {
			return fmt.Errorf("seed users %d-%d: %w", first, first+n, err)
		}
		sessions := make([]store.SessionFor, 0, n*perUser)
		for u, usr := range created {
			for i := range perUser {
				sessions = append(sessions, store.SessionFor{UserID: usr.ID, NewSession: s.sample(first + u + i)})
			}
		}
		if _, _, err := s.st.CreateSessions(sessions); err != nil {
			return fmt.Errorf("seed sessions of users %d-%d: %w", first, first+n, err)
		}
		done += len(sessions)
		progress(done)
	}
	return nil
}

// snapshot writes a consistent copy of st to path (through Store.Backup,
// so the source can be seeded further afterwards).
func snapshot(st *store.Store, path string) error {
	if _, err := st.FlushActivity(); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := st.Backup(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
