// Package testbin builds the portal binary for the tests that run it as a
// process: the CLI's server, crash and memory tests and the browser tests.
package testbin

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
)

// Build builds the module's main package to out. The go command caches
// compiled packages, so after the first build this is a link. A test
// binary built with -race builds a race-enabled portal.
func Build(out string) error {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("go env GOMOD: %w", err)
	}
	args := []string{"build", "-o", out}
	if Race() {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, "portal")...)
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %w\n%s", err, b)
	}
	return nil
}

// Race reports whether the running binary was built with -race.
func Race() bool {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range info.Settings {
		if s.Key == "-race" && s.Value == "true" {
			return true
		}
	}
	return false
}
