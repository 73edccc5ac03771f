package main

import (
	"flag"
	"fmt"
	"io"
)

// flagHelp is returned when -h was asked for; usage has been printed.
var flagHelp = flag.ErrHelp

// runCommand runs an operator subcommand.
func runCommand(args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	fmt.Fprintf(stderr, "portal: unknown command %q; run 'portal -h'\n", args[0])
	return 2
}
