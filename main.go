// Command portal is the self-hosted customer portal: sign-in, Settings and
// its Active Sessions section, in one binary.
package main

import (
	"os"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr))
}
