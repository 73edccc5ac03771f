package cli

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/mattn/go-isatty"

	"portal/password"
	"portal/store"
)

// flagHelp is returned when -h was asked for; usage has been printed.
var flagHelp = flag.ErrHelp

// cliCommand is one operator command, such as "user create". Commands work
// on the database file directly; while a server holds the file, the online
// ones are carried out by that server instead (see admin_client.go).
type cliCommand struct {
	name    string // "user create"
	args    string // synopsis of its flags and arguments
	summary string // one sentence for 'portal help'
	run     func(c *cli, args []string) error
	online  bool // the running server may run it for us
}

// cliCommands lists every command in the order 'portal help' shows them.
var cliCommands = []*cliCommand{
	{"account create", "-name NAME -kind client|partner [-partner ID]", "Add an account and print its id; a client account may name the partner that manages it.", cmdAccountCreate, true},
	{"account set-partner", "-account ID -partner ID|none", "Have a partner manage a client account, or none.", cmdAccountSetPartner, true},
	{"account set", "-account ID -require-two-step true|false", "Make every user of an account use two-step sign-in, or stop requiring it.", cmdAccountSet, true},
	{"account list", "", "List accounts: id, kind, name, number of users, managing partner and whether two-step sign-in is required.", cmdAccountList, true},
	{"user create", "-account ID -email EMAIL -name NAME -role ROLE", "Add a user and print its id; the password is read from standard input.", cmdUserCreate, true},
	{"user passwd", "-email EMAIL", "Set a user's password from standard input and sign out all of their sessions.", cmdUserPasswd, true},
	{"user disable", "-email EMAIL", "Stop a user from signing in and sign out all of their sessions.", cmdUserDisable, true},
	{"user enable", "-email EMAIL", "Let a disabled user sign in again.", cmdUserEnable, true},
	{"user reset-two-step", "-email EMAIL", "Turn off a user's two-step sign-in, remove their passkeys (they lost their devices) and sign out all of their sessions.", cmdUserResetTwoStep, true},
	{"user list", "", "List users: email, role, account, whether disabled, live sessions.", cmdUserList, true},
	{"sessions list", "-email EMAIL", "List a user's live sessions: device, location, sign-in and last-active times.", cmdSessionsList, true},
	{"sessions revoke-all", "-email EMAIL", "Sign a user out everywhere.", cmdSessionsRevokeAll, true},
	{"activity", "-email EMAIL [-since 7d]", "Show a user's security activity, newest first: sign-ins, what ended each session and who did it, password changes, failed sign-ins.", cmdActivity, true},
	{"backup", "[-force] FILE", "Write a consistent copy of the database to FILE.", cmdBackup, false},
	{"copy", "-from FILE -to postgres://... [-force]", "With the server stopped, copy its database file into PostgreSQL, sessions and CSRF key included, and check the counts.", cmdCopy, false},
	{"health", "[-url URL]", "Ask the running server whether it is up (for container health checks).", cmdHealth, false},
	{"version", "", "Print the version.", cmdVersion, false},
}

// cli is what a command may touch: the environment and the three streams.
type cli struct {
	version string
	cmd     *cliCommand
	getenv  func(string) string
	stdin   io.Reader
	stdout  io.Writer
	stderr  io.Writer
	// terminal is whether stdin is a terminal, to prompt for a password.
	terminal bool
	// shared is the running server's store when the server runs a command
	// for a CLI that found the file locked; nil in the CLI itself.
	shared store.Backend
	// gate is the running server's password-hashing gate when it runs a
	// command for a CLI; nil in the CLI itself.
	gate *password.Gate
}

// usageError is a command line that can never work as given: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

// runCommand runs an operator subcommand and returns the exit code: 0 done,
// 1 it failed, 2 the command line was wrong.
func runCommand(version string, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	// What the command reads of stdin is kept, to send along if the
	// server has to run it (a password read before the file was opened).
	var read bytes.Buffer
	c := &cli{version: version, getenv: getenv, stdin: io.TeeReader(stdin, &read), stdout: stdout, stderr: stderr}
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

// onlineCommand names the command args start with, and says whether a
// running server may carry it out for a CLI (server.Config.OnlineCommand):
// backup, health and version never need the server to run them.
func onlineCommand(args []string) (string, bool) {
	cmd, _ := findCommand(args)
	if cmd == nil || !cmd.online {
		return "", false
	}
	return cmd.name, true
}

// runForServer runs a command a CLI forwarded, on the running server's
// store st, with stdin as its standard input and no environment, and
// returns its exit code and what it printed (server.Config.RunCommand).
// Passwords it hashes go through the server's gate, like sign-ins.
func runForServer(st store.Backend, gate *password.Gate, args []string, stdin []byte) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	c := &cli{getenv: func(string) string { return "" }, stdin: bytes.NewReader(stdin), stdout: &out, stderr: &errOut, shared: st, gate: gate}
	code = c.exit(c.dispatch(args))
	return code, out.String(), errOut.String()
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

func cmdVersion(c *cli, args []string) error {
	fs := c.bareFlagSet()
	if _, err := c.parse(fs, args, 0); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "portal %s\n", c.version)
	return nil
}
