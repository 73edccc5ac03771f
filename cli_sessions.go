package main

import (
	"fmt"
	"text/tabwriter"

	"portal/device"
	"portal/geo"
	"portal/store"
)

// cliTime is how the commands write times: exact, in UTC, sortable.
const cliTime = "2006-01-02 15:04 UTC"

func cmdSessionsList(c *cli, args []string) error {
	fs, db := c.flagSet()
	emailFlag := fs.String("email", "", "the user's email address (required)")
	if _, err := c.parse(fs, args, 0); err != nil {
		return err
	}
	email, err := requireEmail(*emailFlag)
	if err != nil {
		return err
	}
	return c.withStore(*db, false, func(st *store.Store) error {
		u, err := userByEmail(st, email)
		if err != nil {
			return err
		}
		list, err := st.ListUserSessions(u.ID)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			fmt.Fprintf(c.stdout, "%s has no live sessions.\n", u.Email)
			return nil
		}
		tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "SESSION\tDEVICE\tLOCATION\tNETWORK\tSIGNED IN\tLAST ACTIVE")
		for _, s := range list {
			network := s.LastPlace.Masked
			if network == "" {
				network = "-"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.ID[:8], deviceLabel(s.Device), sessionLocation(s),
				network, s.CreatedAt.UTC().Format(cliTime), s.LastActive.UTC().Format(cliTime))
		}
		return tw.Flush()
	})
}

// deviceLabel is the same phrase the Active Sessions row shows.
func deviceLabel(d store.Device) string {
	return device.Info{
		Browser: d.Browser, BrowserVersion: d.BrowserVersion,
		OS: d.OS, OSVersion: d.OSVersion, Device: d.Name, Type: device.Type(d.Type),
	}.Label()
}

// sessionLocation follows the Active Sessions row: the last place, or where
// it signed in and where it is now when the country changed.
func sessionLocation(s store.Session) string {
	loc := func(p store.Place) geo.Location {
		return geo.Location{City: p.City, Region: p.Region, Country: p.Country, CountryCode: p.CountryCode, Private: p.Private}
	}
	first, last := loc(s.FirstPlace), loc(s.LastPlace)
	switch {
	case last.Private:
		return last.Label()
	case first.Known() && last.Known() && first.CountryCode != last.CountryCode:
		return "Signed in from " + first.Label() + " · now " + last.Label()
	case last.Known():
		return last.Label()
	}
	return "Unknown location"
}

func cmdSessionsRevokeAll(c *cli, args []string) error {
	fs, db := c.flagSet()
	emailFlag := fs.String("email", "", "the user's email address (required)")
	if _, err := c.parse(fs, args, 0); err != nil {
		return err
	}
	email, err := requireEmail(*emailFlag)
	if err != nil {
		return err
	}
	return c.withStore(*db, false, func(st *store.Store) error {
		u, err := userByEmail(st, email)
		if err != nil {
			return err
		}
		n, err := st.RevokeAllUserSessions(u.ID, store.ReasonEverywhere)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "Signed %s out everywhere: ended %s.\n", u.Email, plural(n, "session"))
		return nil
	})
}
