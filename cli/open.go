package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"portal/server"
	"portal/store"
	"portal/store/bolt"
)

// policy is the server's session policy, from the same environment
// variables, defaults and checks, so that "live" means what the server
// means.
func (c *cli) policy() (store.Policy, error) {
	p, err := server.PolicyFromEnv(c.getenv)
	if err != nil {
		return p, usagef("%v", err)
	}
	return p, nil
}

// openStore opens the database with a short lock timeout. Only creating
// commands may start a new file; the rest refuse a path with no database,
// so a typo in -db does not quietly create an empty one.
func (c *cli) openStore(path string, create bool) (store.Backend, error) {
	if strings.TrimSpace(path) == "" {
		return nil, usagef("-db must name the database file, got an empty value")
	}
	policy, err := c.policy()
	if err != nil {
		return nil, err
	}
	// PostgreSQL is shared by several servers and commands: no lock to
	// wait for, and nothing to forward to a running server.
	st, err := server.OpenDB(context.Background(), path, server.DBOptions{Policy: policy,
		ConnectTimeout: 10 * time.Second, LockTimeout: 2 * time.Second, MustExist: !create})
	if errors.Is(err, bolt.ErrLocked) {
		return nil, lockedError{path}
	}
	return st, err
}

// withStore opens the database, runs fn and closes it again, reporting the
// first error.
func (c *cli) withStore(path string, create bool, fn func(store.Backend) error) error {
	if c.shared != nil {
		return fn(c.shared)
	}
	st, err := c.openStore(path, create)
	if err != nil {
		return err
	}
	err = fn(st)
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	return err
}

// lockedError says a server holds the database. It unwraps to
// bolt.ErrLocked so callers that can go through the server can tell.
type lockedError struct{ path string }

func (e lockedError) Error() string {
	return fmt.Sprintf("the portal server is running on %s (the file is locked); stop it first, for example with 'systemctl stop portal', and run this command again", e.path)
}

func (e lockedError) Unwrap() error { return bolt.ErrLocked }
