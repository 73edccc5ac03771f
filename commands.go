package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/mattn/go-isatty"

	"portal/password"
	"portal/store"
)

// flagHelp is returned when -h was asked for; usage has been printed.
var flagHelp = flag.ErrHelp

// cliCommand is one operator command, such as "user create". Commands work
// on the database file directly; while a server holds the file, the online
// ones are carried out by that server instead (see forward.go).
type cliCommand struct {
	name    string // "user create"
	args    string // synopsis of its flags and arguments
	summary string // one sentence for 'portal help'
	run     func(c *cli, args []string) error
	online  bool // the running server may run it for us
}

// cliCommands lists every command in the order 'portal help' shows them.
var cliCommands = []*cliCommand{
	{"account create", "-name NAME -kind client|partner", "Add an account and print its id.", cmdAccountCreate, true},
	{"account list", "", "List accounts: id, kind, name and number of users.", cmdAccountList, true},
	{"user create", "-account ID -email EMAIL -name NAME -role ROLE", "Add a user and print its id; the password is read from standard input.", cmdUserCreate, true},
	{"user passwd", "-email EMAIL", "Set a user's password from standard input and sign out all of their sessions.", cmdUserPasswd, true},
	{"user disable", "-email EMAIL", "Stop a user from signing in and sign out all of their sessions.", cmdUserDisable, true},
	{"user enable", "-email EMAIL", "Let a disabled user sign in again.", cmdUserEnable, true},
	{"user list", "", "List users: email, role, account, whether disabled, live sessions.", cmdUserList, true},
	{"sessions list", "-email EMAIL", "List a user's live sessions: device, location, sign-in and last-active times.", cmdSessionsList, true},
	{"sessions revoke-all", "-email EMAIL", "Sign a user out everywhere.", cmdSessionsRevokeAll, true},
	{"backup", "[-force] FILE", "Write a consistent copy of the database to FILE.", cmdBackup, false},
	{"health", "[-url URL]", "Ask the running server whether it is up (for container health checks).", cmdHealth, false},
	{"version", "", "Print the version.", cmdVersion, false},
}

// cli is what a command may touch: the environment and the three streams.
type cli struct {
	cmd    *cliCommand
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	// terminal is whether stdin is a terminal, to prompt for a password.
	terminal bool
	// shared is the running server's store when the server runs a command
	// for a CLI that found the file locked; nil in the CLI itself.
	shared *store.Store
}

// usageError is a command line that can never work as given: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

// runCommand runs an operator subcommand and returns the exit code: 0 done,
// 1 it failed, 2 the command line was wrong.
func runCommand(args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	// What the command reads of stdin is kept, to send along if the
	// server has to run it (a password read before the file was opened).
	var read bytes.Buffer
	c := &cli{getenv: getenv, stdin: io.TeeReader(stdin, &read), stdout: stdout, stderr: stderr}
	if f, ok := stdin.(*os.File); ok {
		c.terminal = isatty.IsTerminal(f.Fd())
	}
	err := c.dispatch(args)
	var locked lockedError
	if errors.As(err, &locked) && c.cmd != nil && c.cmd.online {
		return forwardCommand(locked, args, read.Bytes(), stdout, stderr)
	}
	return c.exit(err)
}

// exit reports err and turns it into the exit code.
func (c *cli) exit(err error) int {
	stderr := c.stderr
	var uerr *usageError
	switch {
	case err == nil, errors.Is(err, flagHelp):
		return 0
	case errors.As(err, &uerr):
		fmt.Fprintf(stderr, "portal: %v\n", err)
		return 2
	default:
		fmt.Fprintf(stderr, "portal: %v\n", err)
		return 1
	}
}

func (c *cli) dispatch(args []string) error {
	if args[0] == "help" {
		if len(args) > 1 && !strings.HasPrefix(args[1], "-") {
			if cmd, _ := findCommand(args[1:]); cmd != nil {
				c.cmd = cmd
				return cmd.run(c, []string{"-h"})
			}
			if len(args) == 2 && hasGroup(args[1]) {
				c.help(c.stdout, args[1])
				return nil
			}
			return usagef("there is no command %q; run 'portal help' for the list", strings.Join(args[1:], " "))
		}
		c.help(c.stdout, "")
		return nil
	}
	cmd, rest := findCommand(args)
	if cmd == nil {
		group := args[0]
		if !hasGroup(group) {
			return usagef("unknown command %q; run 'portal help' for the list, or 'portal -h' for the server's flags", group)
		}
		if len(args) > 1 && (args[1] == "-h" || args[1] == "-help" || args[1] == "--help") {
			c.help(c.stdout, group)
			return flagHelp
		}
		c.help(c.stderr, group)
		if len(args) == 1 {
			return usagef("%q needs a subcommand, listed above", group)
		}
		return usagef("unknown command %q; the %q commands are listed above", group+" "+args[1], group)
	}
	c.cmd = cmd
	return cmd.run(c, rest)
}

// findCommand matches the longest command name at the start of args.
func findCommand(args []string) (*cliCommand, []string) {
	for _, cmd := range cliCommands {
		words := strings.Fields(cmd.name)
		if len(args) >= len(words) && strings.Join(args[:len(words)], " ") == cmd.name {
			return cmd, args[len(words):]
		}
	}
	return nil, nil
}

func hasGroup(group string) bool {
	for _, cmd := range cliCommands {
		if first, _, _ := strings.Cut(cmd.name, " "); first == group {
			return true
		}
	}
	return false
}

// help lists the commands, all of them or those of one group.
func (c *cli) help(w io.Writer, group string) {
	if group == "" {
		fmt.Fprint(w, "Usage: portal [flags]              start the server ('portal -h' lists its flags)\n"+
			"       portal COMMAND [flags]      work on the database file directly\n\nCommands:\n")
	} else {
		fmt.Fprintf(w, "Usage: portal %s COMMAND [flags]\n\nCommands:\n", group)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, cmd := range cliCommands {
		if first, _, _ := strings.Cut(cmd.name, " "); group == "" || first == group {
			fmt.Fprintf(tw, "  %s %s\t%s\n", cmd.name, cmd.args, cmd.summary)
		}
	}
	tw.Flush()
	io.WriteString(w, `
Commands that use the database take -db PATH (default $PORTAL_DB, else
portal.db). With the server stopped they open the file themselves; while
it runs, the server carries them out (backup included) over its admin
socket beside the file. All take -h.
Passwords are read from the first line of standard input, never from the
command line, for example:
  printf '%s\n' "$PW" | portal user create -account ID -email EMAIL -name NAME -role client_admin
`)
}

// bareFlagSet starts the flags of a command that needs no database.
func (c *cli) bareFlagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("portal "+c.cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// flagSet starts the command's flags with -db.
func (c *cli) flagSet() (*flag.FlagSet, *string) {
	fs := c.bareFlagSet()
	def := c.getenv("PORTAL_DB")
	if def == "" {
		def = "portal.db"
	}
	db := fs.String("db", def, "the database file [$PORTAL_DB]")
	return fs, db
}

// parse parses flags, allowing them before or after the positional
// arguments, and returns the positional arguments. Up to maxArgs are
// allowed. -h prints the command's help to stdout and returns flagHelp.
func (c *cli) parse(fs *flag.FlagSet, args []string, maxArgs int) ([]string, error) {
	var pos []string
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			c.commandHelp(fs)
			return nil, flagHelp
		}
		if err != nil {
			return nil, usagef("%s: %v; run 'portal %s -h' for its flags", c.cmd.name, err, c.cmd.name)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if i := len(args) - len(rest); i > 0 && args[i-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
	if len(pos) > maxArgs {
		// The values are not repeated: someone may have typed a password.
		if maxArgs == 0 {
			return nil, usagef("%s takes no arguments besides its flags, got %d; run 'portal %s -h'", c.cmd.name, len(pos), c.cmd.name)
		}
		return nil, usagef("%s takes at most %d argument besides its flags, got %d; run 'portal %s -h'", c.cmd.name, maxArgs, len(pos), c.cmd.name)
	}
	return pos, nil
}

func (c *cli) commandHelp(fs *flag.FlagSet) {
	w := c.stdout
	fmt.Fprintf(w, "Usage: portal %s %s\n\n%s\n\nFlags:\n", c.cmd.name, c.cmd.args, c.cmd.summary)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	if strings.Contains(c.cmd.summary, "standard input") {
		fmt.Fprintf(w, "\nThe password is the first line of standard input, for example:\n  printf '%%s\\n' \"$PW\" | portal %s %s\n", c.cmd.name, c.cmd.args)
	}
}

// openStore opens the database with a short lock timeout. Only creating
// commands may start a new file; the rest refuse a path with no database,
// so a typo in -db does not quietly create an empty one.
func (c *cli) openStore(path string, create bool) (*store.Store, error) {
	if strings.TrimSpace(path) == "" {
		return nil, usagef("-db must name the database file, got an empty value")
	}
	policy, err := c.policy()
	if err != nil {
		return nil, err
	}
	if !create {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("there is no database at %s; pass -db or set PORTAL_DB to the server's database file", path)
		}
	}
	st, err := store.Open(path, store.Options{Timeout: 2 * time.Second, Policy: policy})
	if err != nil && isLocked(err) {
		return nil, lockedError{path}
	}
	return st, err
}

// withStore opens the database, runs fn and closes it again, reporting the
// first error.
func (c *cli) withStore(path string, create bool, fn func(*store.Store) error) error {
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

// isLocked reports whether Open failed because another process holds the
// file lock.
func isLocked(err error) bool {
	return errors.Is(err, store.ErrLocked)
}

// policy is the server's session policy, from the same environment
// variables and defaults, so that "live" means what the server means.
func (c *cli) policy() (store.Policy, error) {
	idle, err := c.envDuration("idle-timeout")
	if err != nil {
		return store.Policy{}, err
	}
	life, err := c.envDuration("max-lifetime")
	return store.Policy{IdleTimeout: idle, MaxLifetime: life}, err
}

// envDuration reads a server option's duration from its environment
// variable, or its default.
func (c *cli) envDuration(name string) (time.Duration, error) {
	for _, o := range options {
		if o.name != name {
			continue
		}
		v := strings.TrimSpace(c.getenv(o.env))
		if v == "" {
			v = o.def
		}
		d, err := parseDuration(v)
		if err != nil || d < time.Minute {
			return 0, usagef("$%s must be a duration like 30m, 12h or 14d, at least 1m0s, got %q", o.env, v)
		}
		return d, nil
	}
	panic("no server option " + name)
}

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
func userByEmail(st *store.Store, email string) (store.User, error) {
	u, err := st.UserByEmail(email)
	if errors.Is(err, store.ErrNotFound) {
		return u, fmt.Errorf("there is no user with email %s in %s; 'portal user list' shows them", email, st.Path())
	}
	return u, err
}

// printable replaces control and format characters (which could move the
// cursor or reorder text on a terminal) so a table shows what is stored.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return '?'
		}
		return r
	}, s)
}

func plural(n int, one string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %ss", n, one)
}

func cmdVersion(c *cli, args []string) error {
	fs := c.bareFlagSet()
	if _, err := c.parse(fs, args, 0); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "portal %s\n", version)
	return nil
}

// lockedError says a server holds the database. It unwraps to
// store.ErrLocked so callers that can go through the server can tell.
type lockedError struct{ path string }

func (e lockedError) Error() string {
	return fmt.Sprintf("the portal server is running on %s (the file is locked); stop it first, for example with 'systemctl stop portal', and run this command again", e.path)
}

func (e lockedError) Unwrap() error { return store.ErrLocked }
