package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"

	"portal/password"
	"portal/store"
)

// What the operator gives a command besides flags: a password on standard
// input, an email naming a user.

// readPassword reads the first line of standard input. On a terminal it
// says what it is waiting for; the line is echoed, because golang.org/x/term
// is not a dependency, so it suggests piping the password in instead.
func (c *cli) readPassword(what string) (string, error) {
	if c.terminal {
		fmt.Fprintf(c.stderr, "Type %s and press Enter. It will be visible as you type; to avoid that, pipe it in: printf '%%s\\n' \"$PW\" | portal %s ...\nPassword: ", what, c.cmd.name)
	}
	r := bufio.NewReader(io.LimitReader(c.stdin, password.MaxLen+3))
	line, err := r.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the password from standard input: %w", err)
	}
	if !strings.HasSuffix(line, "\n") && len(line) > password.MaxLen {
		return "", usagef("the password must be at most %d bytes", password.MaxLen)
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if line == "" {
		return "", usagef("%s needs a password on the first line of standard input, for example: printf '%%s\\n' \"$PW\" | portal %s ...", c.cmd.name, c.cmd.name)
	}
	if msg := password.Check(line); msg != "" {
		return "", usagef("the password is too weak or too long: %s", msg)
	}
	return line, nil
}

// requireEmail checks the -email flag.
func requireEmail(email string) (string, error) {
	email = strings.TrimSpace(email)
	if email == "" {
		return "", usagef("-email is required")
	}
	local, domain, ok := strings.Cut(email, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "@") || len(email) > 254 ||
		strings.IndexFunc(email, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }) >= 0 {
		return "", usagef("-email must be an address like name@example.com, got %q", email)
	}
	return email, nil
}

// userByEmail finds a user, or says plainly that there is none.
func userByEmail(st store.Backend, email string) (store.User, error) {
	u, err := st.UserByEmail(email)
	if errors.Is(err, store.ErrNotFound) {
		return u, fmt.Errorf("there is no user with email %s in %s; 'portal user list' shows them", email, st.Path())
	}
	return u, err
}
