package cli

import (
	"errors"
	"fmt"
	"strings"

	"portal/store"
)

// The two-step sign-in commands: an account that requires it, and turning
// a user's off for them (they lost their phone). Both act as an operator:
// no partner scope, and the activity says an administrator did it.

func cmdAccountSet(c *cli, args []string) error {
	fs, db := c.flagSet()
	account := fs.String("account", "", "the account's id (required)")
	require := fs.String("require-two-step", "", "true: every user of the account must use two-step sign-in; false: they need not (required)")
	if _, err := c.parse(fs, args, 0); err != nil {
		return err
	}
	id := strings.TrimSpace(*account)
	if !store.ValidID(id) {
		return usagef("-account must be an account id like those 'portal account list' shows, got %q", *account)
	}
	var on bool
	switch strings.TrimSpace(*require) {
	case "true":
		on = true
	case "false":
	case "":
		return usagef("-require-two-step is required: true or false")
	default:
		return usagef("-require-two-step must be true or false, got %q", *require)
	}
	return c.withStore(*db, false, func(st store.Backend) error {
		a, err := st.AccountByID(id)
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("there is no account %s; 'portal account list' shows them", id)
		} else if err != nil {
			return err
		}
		if err := st.SetRequireTwoStep("", id, store.Actor{}, on); err != nil {
			return err
		}
		if on {
			fmt.Fprintf(c.stdout, "%s now requires two-step sign-in: its users who have not set it up are asked to straight after their password.\n", printable(a.Name))
		} else {
			fmt.Fprintf(c.stdout, "%s no longer requires two-step sign-in; users who have it keep it.\n", printable(a.Name))
		}
		return nil
	})
}

func cmdUserResetTwoStep(c *cli, args []string) error {
	return c.withUser(args, nil, func(st store.Backend, u store.User) error {
		pks, err := st.Passkeys(u.ID)
		if err != nil {
			return err
		}
		n, err := st.ResetTwoStep("", u.ID, store.Actor{})
		if errors.Is(err, store.ErrTwoStepOff) {
			return fmt.Errorf("%s does not use two-step sign-in or passkeys; nothing changed", u.Email)
		} else if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "Turned off two-step sign-in for %s, removed %s and signed them out of %s.\n", u.Email, plural(len(pks), "passkey"), plural(n, "session"))
		return nil
	})
}
