package main

import (
	"os"
	"os/exec"
	"path/filepath"
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
		if found := lintFindings(string(out)); err != nil || found != "" {
			t.Errorf("%s: %v\n%s", strings.Join(args, " "), err, found)
		}
	}
}

// lintFindings is what a lint command printed, less the go command's notes
// about fetching modules: on a fresh machine the first `go tool staticcheck`
// downloads the tool's modules and says so, which is not a finding.
func lintFindings(out string) string {
	var kept []string
	for _, line := range strings.Split(out, "\n") {
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "go: downloading ") {
			continue
		}
		kept = append(kept, line)
	}
	return strings.Join(kept, "\n")
}

func TestLintFindings(t *testing.T) {
	for _, tc := range []struct{ out, want string }{
		{"", ""},
		{"\n", ""},
		{"go: downloading honnef.co/go/tools v0.8.2\ngo: downloading golang.org/x/tools v0.40.0\n", ""},
		{"go: downloading honnef.co/go/tools v0.8.2\nmain.go:3:2: fmt.Sprintf call has arguments but no formatting directives (SA1006)\n",
			"main.go:3:2: fmt.Sprintf call has arguments but no formatting directives (SA1006)"},
		{"handlers/x.go\n", "handlers/x.go"},
		// A finding that merely mentions downloading is still a finding.
		{"x.go:1:1: note go: downloading is not at the start\n", "x.go:1:1: note go: downloading is not at the start"},
	} {
		if got := lintFindings(tc.out); got != tc.want {
			t.Errorf("lintFindings(%q) = %q, want %q", tc.out, got, tc.want)
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

// TestLayoutNamesEveryFolder keeps docs/layout.md true: every folder of
// code (to two levels) is named there, and every folder named exists.
func TestLayoutNamesEveryFolder(t *testing.T) {
	doc, err := os.ReadFile("docs/layout.md")
	if err != nil {
		t.Fatal(err)
	}
	named := map[string]bool{}
	for _, line := range strings.Split(string(doc), "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && strings.HasSuffix(f[0], "/") && !strings.HasPrefix(f[0], ".") {
			named[strings.TrimSuffix(f[0], "/")] = true
		}
	}
	var dirs []string
	top, _ := os.ReadDir(".")
	for _, e := range top {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		dirs = append(dirs, e.Name())
		sub, _ := os.ReadDir(e.Name())
		for _, s := range sub {
			if s.IsDir() {
				dirs = append(dirs, filepath.Join(e.Name(), s.Name()))
			}
		}
	}
	if len(dirs) < 10 {
		t.Fatalf("found only %v; is the test run from the module root?", dirs)
	}
	for _, d := range dirs {
		if !hasGo(d) {
			continue
		}
		base := filepath.Base(d)
		if !named[d] && !named[base] {
			t.Errorf("docs/layout.md does not name %s/", d)
		}
	}
	for d := range named {
		if _, err := os.Stat(d); err != nil && !anyDirNamed(d) {
			t.Errorf("docs/layout.md names %s/, which does not exist", d)
		}
	}
}

func hasGo(dir string) bool {
	m, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	return len(m) > 0
}

// anyDirNamed reports whether a folder one level down has base name name
// (the layout indents subfolders under their parent).
func anyDirNamed(name string) bool {
	m, _ := filepath.Glob(filepath.Join("*", name))
	return len(m) > 0
}
