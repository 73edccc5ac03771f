package main

import (
	"fmt"
	"io"
	"path/filepath"
	"time"

	"portal/handlers"
	"portal/live"
	"portal/password"
	"portal/store"
)

// streamsPerUser is how many streams each user of the live measurement
// holds: the hub's default per-user cap, so none is replaced.
const streamsPerUser = live.DefaultMaxPerUser

// liveUser is a user of the live store: the session that signs the others
// out (it holds no stream) and streamsPerUser others, which hold the
// streams (streamed users) or are signed out with none open (quiet ones).
type liveUser struct {
	Actor  login
	Others []login
}

// liveFixture is the live measurement's store. Quiet users are shaped
// like streamed ones (one actor and streamsPerUser others), so a revoke
// reads and writes the same amount with streams open or not.
type liveFixture struct {
	DB       string
	Streamed []liveUser
	Quiet    []liveUser
}

// seedLive builds the live store in seedDir and copies it to workDir:
// enough streamed users for streams streams, and as many quiet ones.
func seedLive(seedDir, workDir string, loc handlers.Locator, streams int, out io.Writer) (*liveFixture, error) {
	pw, err := password.Hash("bench password, never used to sign in")
	if err != nil {
		return nil, err
	}
	fx := &liveFixture{DB: filepath.Join(workDir, "live.db")}
	users := (streams + streamsPerUser - 1) / streamsPerUser
	err = withSeedStore(filepath.Join(seedDir, "live.db"), loc, pw, func(s *seeder) error {
		t0, w0 := time.Now(), s.st.WriteTxCount()
		var err error
		if fx.Streamed, err = s.liveUsers(users, func(u int) int { return min(streamsPerUser, streams-u*streamsPerUser) }); err != nil {
			return err
		}
		if fx.Quiet, err = s.liveUsers(users, func(int) int { return streamsPerUser }); err != nil {
			return err
		}
		fmt.Fprintf(out, "seeded live store: %d users with streams and %d without, %d sessions, %d write txs in %s\n",
			users, users, 2*users+streams+users*streamsPerUser, s.st.WriteTxCount()-w0, since(t0))
		return snapshot(s.st, fx.DB)
	})
	if err != nil {
		return nil, err
	}
	return fx, nil
}

// liveUsers creates n users, user u with an acting session (the benchmark
// client's desktop browser on loopback, like a worker's) and others(u)
// more on varied devices, in batched write transactions.
func (s *seeder) liveUsers(n int, others func(u int) int) ([]liveUser, error) {
	const batch = 100 // users per transaction
	out := make([]liveUser, 0, n)
	for first := 0; first < n; first += batch {
		in := make([]store.NewUser, min(batch, n-first))
		for i := range in {
			in[i] = s.nextUser(store.RoleClientAdmin)
		}
		created, err := s.st.CreateUsers(in)
		if err != nil {
			return nil, fmt.Errorf("seed live users %d-%d: %w", first, first+len(in), err)
		}
		var sessionsIn []store.SessionFor
		for u, usr := range created {
			sessionsIn = append(sessionsIn, store.SessionFor{UserID: usr.ID, NewSession: store.SignIn(userAgents[1], s.loc.Place(loopback))})
			for i := range others(first + u) {
				sessionsIn = append(sessionsIn, store.SessionFor{UserID: usr.ID, NewSession: s.sample(i + 1)})
			}
		}
		sessions, tokens, err := s.st.CreateSessions(sessionsIn)
		if err != nil {
			return nil, fmt.Errorf("seed sessions of live users %d-%d: %w", first, first+len(in), err)
		}
		for i, sess := range sessions {
			l := login{UserID: sess.UserID, SessionID: sess.ID, Token: tokens[i]}
			if i == 0 || sessions[i-1].UserID != sess.UserID {
				out = append(out, liveUser{Actor: l})
				continue
			}
			u := &out[len(out)-1]
			u.Others = append(u.Others, l)
		}
	}
	return out, nil
}
