package main

import (
	"os"
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

// TestReadmeCommands keeps the README's two commands and CI in step: CI
// must run exactly the test command the README gives.
func TestReadmeCommands(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	ci, err := os.ReadFile(".ci/run")
	if err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"go run . -demo", "go test ./..."} {
		if !strings.Contains(string(readme), "```sh\n"+cmd+"\n```") {
			t.Errorf("README does not give %q as a command of its own", cmd)
		}
	}
	if !strings.Contains(string(ci), "\ngo test ./... 2>&1\n") {
		t.Error(".ci/run does not run the README's test command")
	}
}
