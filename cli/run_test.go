package cli

import (
	"bytes"
	"strings"
	"testing"
)

// TestConfigRun checks the exit codes Run gives for -h, -version and bad
// values, without starting a server.
func TestConfigRun(t *testing.T) {
	tests := []struct {
		args         []string
		code         int
		stdout, errs string
	}{
		{args: []string{"-version"}, code: 0, stdout: "portal dev\n"},
		{args: []string{"-h"}, code: 0, errs: "Usage: portal [flags]"},
		{args: []string{"-idle-timeout", "abc"}, code: 2, errs: "portal: -idle-timeout must be a duration like 30m, 12h or 14d, at least 1m0s, got \"abc\"\n"},
		{args: []string{"-nope"}, code: 2, errs: "portal: flag provided but not defined: -nope\n"},
	}
	for _, tc := range tests {
		var stdout, stderr bytes.Buffer
		code := Run("dev", tc.args, func(string) string { return "" }, strings.NewReader(""), &stdout, &stderr)
		if code != tc.code || stdout.String() != tc.stdout || !strings.Contains(stderr.String(), tc.errs) {
			t.Errorf("portal %s: exit %d, stdout %q, stderr %q; want %d, %q, %q", strings.Join(tc.args, " "), code, stdout.String(), stderr.String(), tc.code, tc.stdout, tc.errs)
		}
	}
}
