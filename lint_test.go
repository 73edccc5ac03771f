package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLint keeps go vet, staticcheck (pinned in go.mod as a tool) and gofmt
// clean, as part of the one test command CI runs.
func TestLint(t *testing.T) {
	if testing.Short() {
		t.Skip("lint runs in the full test run")
	}
	for _, args := range [][]string{
		{"go", "vet", "./..."},
		{"go", "tool", "staticcheck", "./..."},
		{"gofmt", "-l", "."},
	} {
		out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "" {
			t.Errorf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
