package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"portal/server"
	"portal/store"
	"portal/store/bolt"
	"portal/store/postgres"
)

// cmdCopy moves a bbolt deployment to PostgreSQL: every account, user,
// session (under its token hash, so signed-in browsers stay signed in),
// event and key (the CSRF key, so open pages keep working), in one
// transaction on the target that commits only once its counts match the
// source's. The source is read in one read transaction; the server must
// be stopped, as it holds the file's lock (the command says so).
func cmdCopy(c *cli, args []string) error {
	fs := c.bareFlagSet()
	from := fs.String("from", "", "the bbolt database file to copy (required); stop the server using it first")
	to := fs.String("to", "", "the PostgreSQL database to copy into, as a postgres:// or postgresql:// URL (required)")
	force := fs.Bool("force", false, "replace whatever the PostgreSQL database already holds")
	if _, err := c.parse(fs, args, 0); err != nil {
		return err
	}
	switch {
	case strings.TrimSpace(*from) == "":
		return usagef("-from must name the bbolt database file to copy, for example: portal copy -from /var/lib/portal/portal.db -to postgres://portal@db/portal")
	case server.IsPostgres(*from):
		return usagef("-from must be a bbolt database file; copying from PostgreSQL to PostgreSQL is pg_dump's work")
	case strings.TrimSpace(*to) == "":
		return usagef("-to must name the PostgreSQL database to copy into, as a postgres:// or postgresql:// URL")
	case !server.IsPostgres(*to):
		return usagef("-to must be a postgres:// or postgresql:// URL, got %q; to copy a bbolt file, use 'portal backup'", *to)
	}
	if _, err := os.Stat(*from); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("there is no database at %s; -from must name the server's database file", *from)
	}
	policy, err := c.policy()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return c.withStore(*from, false, func(b store.Backend) error {
		src, ok := b.(*bolt.Store)
		if !ok {
			return fmt.Errorf("%s is not a bbolt database", b.Path())
		}
		dst, err := postgres.Open(ctx, *to, postgres.Options{Policy: policy, ConnectTimeout: 10 * time.Second})
		if err != nil {
			return err
		}
		defer dst.Close()
		export := func(fn func(store.Record) error) (store.Counts, error) { return bolt.Export(src, fn) }
		n, err := postgres.Import(ctx, dst, export, *force)
		var full *postgres.NotEmptyError
		switch {
		case errors.As(err, &full):
			return fmt.Errorf("%s already holds %d accounts, %d users, %d sessions and %d events, so nothing was copied; pass -force to replace them with the copy (stop every portal server using it first)",
				dst.Path(), full.Has.Accounts, full.Has.Users, full.Has.Sessions, full.Has.Events)
		case err != nil:
			return fmt.Errorf("%w; nothing was copied", err)
		}
		fmt.Fprintf(c.stdout, "Copied %s from %s to %s; the counts in PostgreSQL match. Start the servers with -db set to the URL.\n",
			describeCopy(n), src.Path(), dst.Path())
		return nil
	})
}

// describeCopy says what a copy held.
func describeCopy(n store.Counts) string {
	s := fmt.Sprintf("%s, %s, %s (%d live), %s", plural(n.Accounts, "account"), plural(n.Users, "user"),
		plural(n.Sessions, "session"), n.Live, plural(n.Events, "event"))
	if n.TwoSteps > 0 {
		s += fmt.Sprintf(", two-step sign-in of %s", plural(n.TwoSteps, "user"))
	}
	if n.Passkeys > 0 {
		s += ", " + plural(n.Passkeys, "passkey")
	}
	if n.Keys > 0 {
		s += " and the CSRF key"
	}
	return s
}
