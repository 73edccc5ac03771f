package cli

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"

	"portal/store"
)

// The account commands: client and partner accounts, and which partner
// manages which client.

func cmdAccountCreate(c *cli, args []string) error {
	fs, db := c.flagSet()
	name := fs.String("name", "", "the account's name, as people see it (required)")
	kind := fs.String("kind", "", "client (a customer organisation) or partner (required)")
	partner := fs.String("partner", "", "with -kind client: the id of the partner account that manages it")
	if _, err := c.parse(fs, args, 0); err != nil {
		return err
	}
	n, err := requireName("name", *name)
	if err != nil {
		return err
	}
	k := store.AccountKind(strings.TrimSpace(*kind))
	switch {
	case k == "":
		return usagef("-kind is required: client or partner")
	case k != store.AccountClient && k != store.AccountPartner:
		return usagef("-kind must be client or partner, got %q", *kind)
	case *partner != "" && k != store.AccountClient:
		return usagef("-partner is for client accounts: a partner account is not managed by another")
	case *partner != "" && !store.ValidID(*partner):
		return usagef("-partner must be an account id like those 'portal account list' shows, got %q", *partner)
	}
	return c.withStore(*db, true, func(st store.Backend) error {
		var a store.Account
		var err error
		if k == store.AccountClient {
			a, err = st.CreateClientAccount(n, *partner)
		} else {
			a, err = st.CreateAccount(n, k)
		}
		if err != nil {
			return partnerError(err, *partner)
		}
		fmt.Fprintln(c.stdout, a.ID)
		return nil
	})
}

func cmdAccountList(c *cli, args []string) error {
	fs, db := c.flagSet()
	if _, err := c.parse(fs, args, 0); err != nil {
		return err
	}
	return c.withStore(*db, false, func(st store.Backend) error { return listAccounts(c, st) })
}

func listAccounts(c *cli, st store.Backend) error {
	accounts, err := st.Accounts()
	if err != nil {
		return err
	}
	users, err := st.Users()
	if err != nil {
		return err
	}
	count := map[string]int{}
	for _, u := range users {
		count[u.AccountID]++
	}
	names := map[string]string{}
	for _, a := range accounts {
		names[a.ID] = a.Name
	}
	if len(accounts) == 0 {
		fmt.Fprintln(c.stdout, "No accounts yet; add one with 'portal account create'.")
		return nil
	}
	sort.Slice(accounts, func(i, j int) bool { return accounts[i].Name < accounts[j].Name })
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tNAME\tUSERS\tPARTNER\tTWO-STEP")
	for _, a := range accounts {
		partner := "-"
		if a.Partner != "" {
			partner = printable(names[a.Partner]) + " (" + a.Partner[:8] + ")"
		}
		twoStep := "-"
		if a.RequireTwoStep {
			twoStep = "required"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", a.ID, a.Kind, printable(a.Name), count[a.ID], partner, twoStep)
	}
	return tw.Flush()
}

func cmdAccountSetPartner(c *cli, args []string) error {
	fs, db := c.flagSet()
	account := fs.String("account", "", "the client account's id (required)")
	partner := fs.String("partner", "", "the managing partner account's id, or none (required)")
	if _, err := c.parse(fs, args, 0); err != nil {
		return err
	}
	switch p := strings.TrimSpace(*partner); {
	case !store.ValidID(strings.TrimSpace(*account)):
		return usagef("-account must be an account id like those 'portal account list' shows, got %q", *account)
	case p == "":
		return usagef("-partner is required: a partner account's id, or none to leave the account unmanaged")
	case p != "none" && !store.ValidID(p):
		return usagef("-partner must be a partner account's id or none, got %q", *partner)
	}
	id, p := strings.TrimSpace(*account), strings.TrimSpace(*partner)
	if p == "none" {
		p = ""
	}
	return c.withStore(*db, false, func(st store.Backend) error {
		a, err := st.SetAccountPartner(id, p)
		if errors.Is(err, store.ErrNotFound) {
			if _, aerr := st.AccountByID(id); errors.Is(aerr, store.ErrNotFound) {
				return fmt.Errorf("there is no account %s; 'portal account list' shows them", id)
			}
		}
		if err != nil {
			return partnerError(err, p)
		}
		if p == "" {
			fmt.Fprintf(c.stdout, "%s is no longer managed by a partner.\n", printable(a.Name))
			return nil
		}
		fmt.Fprintf(c.stdout, "%s is now managed by partner %s; its users see the change on their next request.\n", printable(a.Name), p)
		return nil
	})
}

// partnerError says in a sentence why a managing link was refused.
func partnerError(err error, partner string) error {
	switch {
	case errors.Is(err, store.ErrNotPartner):
		return fmt.Errorf("%s is not a partner account; -partner must name one ('portal account list' shows the kinds)", partner)
	case errors.Is(err, store.ErrNotClient):
		return errors.New("only client accounts can be managed by a partner")
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("there is no partner account %s; 'portal account list' shows them", partner)
	}
	return err
}
