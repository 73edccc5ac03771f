package cli

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"portal/password"
	"portal/store"
)

// maxNameLen bounds account and user names; they are shown in one line.
const maxNameLen = 200

// requireName checks a -name flag.
func requireName(flagName, v string) (string, error) {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return "", usagef("-%s is required", flagName)
	case len([]rune(v)) > maxNameLen:
		return "", usagef("-%s must be at most %d characters, got %d", flagName, maxNameLen, len([]rune(v)))
	case strings.IndexFunc(v, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }) >= 0:
		return "", usagef("-%s must not contain control characters", flagName)
	}
	return v, nil
}

// roleNames is the list for error messages: "client_admin, client_manager, …".
func roleNames() string {
	var names []string
	for _, r := range store.Roles {
		names = append(names, string(r))
	}
	return strings.Join(names, ", ")
}

func cmdUserCreate(c *cli, args []string) error {
	fs, db := c.flagSet()
	accountID := fs.String("account", "", "id of the user's account, from 'portal account create' or 'portal account list' (required)")
	emailFlag := fs.String("email", "", "the user's email address, used to sign in (required)")
	nameFlag := fs.String("name", "", "the user's full name (required)")
	roleFlag := fs.String("role", "", "one of "+roleNames()+" (required)")
	if _, err := c.parse(fs, args, 0); err != nil {
		return err
	}
	acct := strings.TrimSpace(*accountID)
	if acct == "" {
		return usagef("-account is required: the id printed by 'portal account create'")
	}
	email, err := requireEmail(*emailFlag)
	if err != nil {
		return err
	}
	name, err := requireName("name", *nameFlag)
	if err != nil {
		return err
	}
	role := store.Role(strings.TrimSpace(*roleFlag))
	switch {
	case role == "":
		return usagef("-role is required: one of %s", roleNames())
	case !role.Valid():
		return usagef("-role must be one of %s, got %q", roleNames(), *roleFlag)
	}
	pw, err := c.readPassword("the new user's password")
	if err != nil {
		return err
	}
	return c.withStore(*db, false, func(st store.Backend) error {
		return createUser(c, st, acct, store.NewUser{Email: email, Name: name, Role: role}, pw)
	})
}

func createUser(c *cli, st store.Backend, acct string, in store.NewUser, pw string) error {
	role := in.Role
	a, err := st.AccountByID(acct)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("there is no account with id %q in %s; 'portal account list' shows them", acct, st.Path())
	} else if err != nil {
		return err
	}
	if role.AccountKind() != a.Kind {
		return fmt.Errorf("role %s (%s) belongs in a %s account, but %q is a %s account", role, role.Label(), role.AccountKind(), printable(a.Name), a.Kind)
	}
	if _, err := st.UserByEmail(in.Email); err == nil {
		return fmt.Errorf("a user with email %s already exists", store.NormalizeEmail(in.Email))
	}
	hash, err := c.hash(pw)
	if err != nil {
		return err
	}
	in.AccountID, in.PasswordHash = a.ID, hash
	u, err := st.CreateUser(in)
	if err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, u.ID)
	return nil
}

func cmdUserPasswd(c *cli, args []string) error {
	var hash string
	readPassword := func() error {
		pw, err := c.readPassword("the new password")
		if err != nil {
			return err
		}
		hash, err = c.hash(pw)
		return err
	}
	return c.withUser(args, readPassword, func(st store.Backend, u store.User) error {
		n, err := st.SetPasswordHash(u.ID, hash, true, "")
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "Changed the password of %s and signed out %s.\n", u.Email, plural(n, "session"))
		return nil
	})
}

func cmdUserDisable(c *cli, args []string) error { return setDisabled(c, args, true) }
func cmdUserEnable(c *cli, args []string) error  { return setDisabled(c, args, false) }

func setDisabled(c *cli, args []string, disabled bool) error {
	return c.withUser(args, nil, func(st store.Backend, u store.User) error {
		n, err := st.SetUserDisabled(u.ID, disabled)
		if err != nil {
			return err
		}
		if disabled {
			fmt.Fprintf(c.stdout, "Disabled %s and signed out %s.\n", u.Email, plural(n, "session"))
		} else {
			fmt.Fprintf(c.stdout, "Enabled %s; they can sign in again.\n", u.Email)
		}
		return nil
	})
}

func cmdUserList(c *cli, args []string) error {
	fs, db := c.flagSet()
	if _, err := c.parse(fs, args, 0); err != nil {
		return err
	}
	return c.withStore(*db, false, func(st store.Backend) error { return listUsers(c, st) })
}

func listUsers(c *cli, st store.Backend) error {
	users, err := st.Users()
	if err != nil {
		return err
	}
	accounts, err := st.Accounts()
	if err != nil {
		return err
	}
	if len(users) == 0 {
		fmt.Fprintln(c.stdout, "No users yet; add one with 'portal user create'.")
		return nil
	}
	names := map[string]string{}
	for _, a := range accounts {
		names[a.ID] = a.Name
	}
	sort.Slice(users, func(i, j int) bool { return users[i].Email < users[j].Email })
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "EMAIL\tROLE\tACCOUNT\tDISABLED\tSESSIONS")
	for _, u := range users {
		live, err := st.ListUserSessions(u.ID)
		if err != nil {
			return err
		}
		disabled := "no"
		if u.Disabled {
			disabled = "yes"
		}
		role := u.Role.Label()
		if role == "" {
			role = string(u.Role)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\n", printable(u.Email), role, printable(names[u.AccountID]), disabled, len(live))
	}
	return tw.Flush()
}

// adminHashWait is how long a command the server runs for a CLI waits for
// a slot in the server's hashing gate before giving up.
const adminHashWait = time.Minute

// hash hashes a new password. On the server (a command forwarded over the
// admin socket) it waits for a slot in the gate sign-ins use, one command
// waiting at a time, so that operators' commands run in parallel add no
// more argon2id memory than sign-ins may take.
func (c *cli) hash(pw string) (string, error) {
	if c.gate == nil {
		return password.Hash(pw)
	}
	deadline := time.Now().Add(adminHashWait)
	for {
		release, err := c.gate.EnterAs(password.Caller{From: "admin socket"})
		if err == nil {
			defer release()
			return password.Hash(pw)
		}
		if time.Now().After(deadline) {
			return "", errors.New("the server is too busy checking passwords to hash a new one; try again in a minute")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
