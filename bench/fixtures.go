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

// seeder creates users and sessions through the public store API, or
// with copy for the sessions and users where that is set (PostgreSQL's
// COPY: -db postgres).
type seeder struct {
	st      store.Backend
	copy    *bulkCopy // nil: through st
	loc     handlers.Locator
	account string
	samples []store.NewSession // parsed user agents x demo addresses
	n       int                // users created, for unique emails
	now     time.Time
	pwHash  string
}

// newSeeder prepares sample sessions once: parsing a user agent and
// resolving an address are what a sign-in does, not what seeding measures.
func newSeeder(st store.Backend, loc handlers.Locator, pwHash string) (*seeder, error) {
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
	logins, _, err := s.userSessions(n, perUser)
	return logins, err
}

// userSessions is usersWithSessions also returning each user's other
// sessions. Users are created in one batch and their sessions in
// batches of whole users.
func (s *seeder) userSessions(n, perUser int) ([]login, [][]login, error) {
	in := make([]store.NewUser, n)
	for i := range in {
		in[i] = s.nextUser(store.RoleClientAdmin)
	}
	users, err := s.createUsers(in)
	if err != nil {
		return nil, nil, err
	}
	logins := make([]login, 0, n)
	others := make([][]login, n)
	perBatch := max(1, 10_000/perUser)
	for first := 0; first < n; first += perBatch {
		batch := users[first:min(n, first+perBatch)]
		var sf []store.SessionFor
		for _, u := range batch {
			sf = append(sf, store.SessionFor{UserID: u.ID, NewSession: store.SignIn(userAgents[1], s.loc.Place(loopback))})
			for i := 1; i < perUser; i++ {
				sf = append(sf, store.SessionFor{UserID: u.ID, NewSession: s.sample(i)})
			}
		}
		created, tokens, err := s.createSessions(sf)
		if err != nil {
			return nil, nil, err
		}
		for j, u := range batch {
			k := j * perUser // the user's current session, then its others
			logins = append(logins, login{UserID: u.ID, SessionID: created[k].ID, Token: tokens[k]})
			for i := k + 1; i < k+perUser; i++ {
				others[first+j] = append(others[first+j], login{UserID: u.ID, SessionID: created[i].ID, Token: tokens[i]})
			}
		}
	}
	return logins, others, nil
}

// createUsers creates in, with copy if there is one.
func (s *seeder) createUsers(in []store.NewUser) ([]store.User, error) {
	if s.copy != nil {
		return s.copy.users(in)
	}
	return s.st.CreateUsers(in)
}

// createSessions creates batch, with copy if there is one.
func (s *seeder) createSessions(batch []store.SessionFor) ([]store.Session, []string, error) {
	if s.copy != nil {
		return s.copy.sessions(batch)
	}
	return s.st.CreateSessions(batch)
}

// bulkCopy writes users and sessions the fast way a backend offers
// besides its API (postgres.CopyUsers and CopySessions).
type bulkCopy struct {
	users    func([]store.NewUser) ([]store.User, error)
	sessions func([]store.SessionFor) ([]store.Session, []string, error)
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
	users := (victims + perUser - 2) / (perUser - 1)
	logins, others, err := s.userSessions(users, perUser)
	if err != nil {
		return revokePool{}, err
	}
	p := revokePool{Actors: logins}
	for round := range perUser - 1 {
		for u := range users {
			p.Jobs = append(p.Jobs, revokeJob{Actor: u, Target: others[u][round].SessionID})
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
		created, err := s.createUsers(in)
		if err != nil {
			return fmt.Errorf("seed users %d-%d: %w", first, first+n, err)
		}
		sessions := make([]store.SessionFor, 0, n*perUser)
		for u, usr := range created {
			for i := range perUser {
				sessions = append(sessions, store.SessionFor{UserID: usr.ID, NewSession: s.sample(first + u + i)})
			}
		}
		if _, _, err := s.createSessions(sessions); err != nil {
			return fmt.Errorf("seed sessions of users %d-%d: %w", first, first+n, err)
		}
		done += len(sessions)
		progress(done)
	}
	return nil
}

// snapshot writes a consistent copy of st to path (through Store.Backup,
// so the source can be seeded further afterwards).
func snapshot(st store.Backend, path string) error {
	if _, err := st.FlushLastActive(); err != nil {
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
