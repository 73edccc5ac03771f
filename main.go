// Command portal is the self-hosted customer portal: sign-in, Settings and
// its Active Sessions section, in one binary. Everything it does lives in
// package cli; this file only hands it the process.
package main

import (
	"os"

	"portal/cli"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	os.Exit(cli.Run(version, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr))
}
