package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"portal/server"
)

// Flags of the operator commands. Every command takes its own flags,
// before or after its arguments; those that use the database take -db.

// bareFlagSet starts the flags of a command that needs no database.
func (c *cli) bareFlagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("portal "+c.cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// flagSet starts the command's flags with -db.
func (c *cli) flagSet() (*flag.FlagSet, *string) {
	fs := c.bareFlagSet()
	db := fs.String("db", server.DBFromEnv(c.getenv), "the database file [$PORTAL_DB]")
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
