package cli

import (
	"fmt"
	"text/tabwriter"

	"portal/store"
)

// cliTime is how the commands write times: exact, in UTC, sortable.
const cliTime = "2006-01-02 15:04 UTC"

func cmdSessionsList(c *cli, args []string) error {
	return c.withUser(args, nil, func(st store.Backend, u store.User) error {
		list, err := st.ListUserSessions(u.ID)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			fmt.Fprintf(c.stdout, "%s has no live sessions.\n", u.Email)
			return nil
		}
		tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "SESSION\tDEVICE\tLOCATION\tNETWORK\tSIGNED IN\tLAST ACTIVE\tSIGNED IN WITH")
		for _, s := range list {
			network := s.LastPlace.Masked
			if network == "" {
				network = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.ID[:8], s.Device.Label(), sessionLocation(s),
				network, s.CreatedAt.UTC().Format(cliTime), s.LastActive.UTC().Format(cliTime), s.Auth.Label())
		}
		return tw.Flush()
	})
}

// sessionLocation is what the Active Sessions row says.
func sessionLocation(s store.Session) string {
	if text, _ := s.Where(); text != "" {
		return text
	}
	return "Unknown location"
}

func cmdSessionsRevokeAll(c *cli, args []string) error {
	return c.withUser(args, nil, func(st store.Backend, u store.User) error {
		n, err := st.RevokeAllUserSessions(u.ID, store.ReasonEverywhere)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "Signed %s out everywhere: ended %s.\n", u.Email, plural(n, "session"))
		return nil
	})
}

// withUser parses args with a required -email flag, runs before (if not
// nil) once the flags are good and before the database is opened, then runs
// fn with the store and that user.
func (c *cli) withUser(args []string, before func() error, fn func(store.Backend, store.User) error) error {
	fs, db := c.flagSet()
	emailFlag := fs.String("email", "", "the user's email address (required)")
	if _, err := c.parse(fs, args, 0); err != nil {
		return err
	}
	email, err := requireEmail(*emailFlag)
	if err != nil {
		return err
	}
	if before != nil {
		if err := before(); err != nil {
			return err
		}
	}
	return c.withStore(*db, false, func(st store.Backend) error {
		u, err := userByEmail(st, email)
		if err != nil {
			return err
		}
		return fn(st, u)
	})
}
