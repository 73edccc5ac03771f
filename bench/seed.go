package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"portal/handlers"
	"portal/password"
	"portal/store/bolt"
)

// Session counts of the fixtures.
const (
	fewSessions    = 5   // auth-page, auth-fragment
	manySessions   = 100 // list-100, revoke-all-99
	minRevokeJobs  = 500 // revoke-one victims per run, at least
	revokeAllOther = manySessions - 1
)

// fixtures are the seeded databases (copied into the work directory) and
// the logins the scenarios act as.
type fixtures struct {
	SmallDB, BigDB, WritesDB string  // BigDB is "" without -big
	PartnerDB                string  // SmallDB's users, Partners' and Activity's
	Readers                  []login // one per worker, fewSessions sessions each
	Listers                  []login // one per worker, manySessions sessions each
	Partners                 []partnerFixture
	Activity                 activityFixture // in PartnerDB
	RevokeOne, RevokeAll     []revokePool
	BigSessions              int // other sessions in BigDB
}

// seedAll builds the databases in seedDir (fast storage if possible) and
// copies them to workDir, where the benchmark opens them. Seeding uses
// only the public store API: one write transaction per user and per
// session.
func seedAll(cfg config, seedDir, workDir string, loc handlers.Locator, out io.Writer) (*fixtures, error) {
	pw, err := password.Hash("bench password, never used to sign in")
	if err != nil {
		return nil, err
	}
	fx := &fixtures{SmallDB: filepath.Join(workDir, "small.db"), WritesDB: filepath.Join(workDir, "writes.db"),
		PartnerDB: filepath.Join(workDir, "partner.db")}

	// The read scenarios' store: their users and nothing else. Then the
	// partner console's store: the same plus the partners, their clients
	// and users. With -big, that plus a million other sessions.
	err = withSeedStore(filepath.Join(seedDir, "reads.db"), loc, pw, func(s *seeder) error {
		var err error
		if fx.Readers, fx.Listers, err = seedReads(cfg, s, "reads store", out); err != nil {
			return err
		}
		if err := snapshot(s.st, fx.SmallDB); err != nil {
			return err
		}
		if fx.Partners, err = seedPartners(s, cfg.Workers, out); err != nil {
			return err
		}
		if fx.Activity, err = seedActivity(s, cfg.Workers, out); err != nil {
			return err
		}
		if err := snapshot(s.st, fx.PartnerDB); err != nil {
			return err
		}
		if !cfg.Big {
			return nil
		}
		return seedBig(cfg, s, fx, filepath.Join(workDir, "big.db"), out)
	})
	if err != nil {
		return nil, err
	}

	// The write scenarios' store: users whose sessions get revoked.
	err = withSeedStore(filepath.Join(seedDir, "writes.db"), loc, pw, func(s *seeder) error {
		var err error
		if fx.RevokeOne, fx.RevokeAll, err = seedRevokePools(cfg, s, "writes store", out); err != nil {
			return err
		}
		return snapshot(s.st, fx.WritesDB)
	})
	if err != nil {
		return nil, err
	}
	return fx, nil
}

// seedReads creates the read scenarios' users: one per worker with
// fewSessions sessions (auth-page, auth-fragment) and one per worker with
// manySessions (list-100).
func seedReads(cfg config, s *seeder, what string, out io.Writer) (readers, listers []login, err error) {
	t0, w0 := time.Now(), s.st.WriteTxCount()
	if readers, err = s.usersWithSessions(cfg.Workers, fewSessions); err != nil {
		return nil, nil, err
	}
	if listers, err = s.usersWithSessions(cfg.Workers, manySessions); err != nil {
		return nil, nil, err
	}
	n := cfg.Workers * (fewSessions + manySessions)
	fmt.Fprintf(out, "seeded %s: %d users, %d sessions, %d write txs in %s (%s per tx)\n",
		what, 2*cfg.Workers, n, s.st.WriteTxCount()-w0, since(t0), perTx(t0, s.st.WriteTxCount()-w0))
	return readers, listers, nil
}

// seedRevokePools creates the users whose sessions the write scenarios
// revoke: a revoke-one and a revoke-all-99 pool for each run.
func seedRevokePools(cfg config, s *seeder, what string, out io.Writer) (one, all []revokePool, err error) {
	t0, w0 := time.Now(), s.st.WriteTxCount()
	victims := max(minRevokeJobs, int(float64(cfg.RevokeRate)*cfg.Duration.Seconds()))
	sessions := 0
	for range cfg.Runs {
		o, err := s.revokeOnePool(victims, fewSessions)
		if err != nil {
			return nil, nil, err
		}
		a, err := s.revokeAllPool(cfg.RevokeAll, revokeAllOther)
		if err != nil {
			return nil, nil, err
		}
		one, all = append(one, o), append(all, a)
		sessions += len(o.Actors)*fewSessions + cfg.RevokeAll*manySessions
	}
	fmt.Fprintf(out, "seeded %s: %d sessions for %d runs of revoke-one and revoke-all-99, %d write txs in %s (%s per tx)\n",
		what, sessions, cfg.Runs, s.st.WriteTxCount()-w0, since(t0), perTx(t0, s.st.WriteTxCount()-w0))
	return one, all, nil
}

// seedBig adds the -big other sessions and snapshots the result.
func seedBig(cfg config, s *seeder, fx *fixtures, path string, out io.Writer) error {
	total := cfg.BigUsers * cfg.BigPerUser
	fmt.Fprintf(out, "seeding %d other sessions of %d users in batched write txs...\n", total, cfg.BigUsers)
	t0, w0 := time.Now(), s.st.WriteTxCount()
	last := t0
	err := seedOthers(s, cfg.BigUsers, cfg.BigPerUser, 10_000, func(done int) {
		if time.Since(last) >= 15*time.Second {
			last = time.Now()
			rate := float64(done) / time.Since(t0).Seconds()
			fmt.Fprintf(out, "  %d/%d sessions, %.0f/s, about %s to go\n", done, total, rate,
				(time.Duration(float64(total-done)/rate) * time.Second).Round(time.Second))
		}
	})
	if err != nil {
		return err
	}
	txs := s.st.WriteTxCount() - w0
	fmt.Fprintf(out, "seeded %d other sessions with %d write txs in %s (%s per tx)\n", total, txs, since(t0), perTx(t0, txs))
	t1 := time.Now()
	if err := snapshot(s.st, path); err != nil {
		return err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "copied the big store (%d MiB) to %s in %s\n", fi.Size()>>20, filepath.Dir(path), since(t1))
	fx.BigDB, fx.BigSessions = path, total
	return nil
}

// withSeedStore opens a fresh store at path, runs fn with a seeder on it,
// and closes and deletes it.
func withSeedStore(path string, loc handlers.Locator, pwHash string, fn func(*seeder) error) error {
	st, err := bolt.Open(path, storeOptions())
	if err != nil {
		return err
	}
	defer os.Remove(path)
	s, err := newSeeder(st, loc, pwHash)
	if err == nil {
		err = fn(s)
	}
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	return err
}

func since(t time.Time) time.Duration { return time.Since(t).Round(10 * time.Millisecond) }

func perTx(t0 time.Time, txs int64) time.Duration {
	if txs <= 0 {
		return 0
	}
	return (time.Since(t0) / time.Duration(txs)).Round(time.Microsecond)
}
