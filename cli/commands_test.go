package cli

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"portal/device"
	"portal/geo"
	"portal/handlers"
	"portal/password"
	"portal/store"
	"portal/store/bolt"
	"portal/twostep"
)

const cliPassword = "correct horse battery"

// cliResult is what one run of the binary's entry point produced.
type cliResult struct {
	code        int
	out, errOut string
	took        time.Duration
}

// portalCLI runs run() as the binary would, with env as the environment.
func portalCLI(t *testing.T, env map[string]string, stdin string, args ...string) cliResult {
	t.Helper()
	var out, errOut bytes.Buffer
	start := time.Now()
	code := Run("dev", args, func(k string) string { return env[k] }, strings.NewReader(stdin), &out, &errOut)
	return cliResult{code: code, out: out.String(), errOut: errOut.String(), took: time.Since(start)}
}

// mustCLI runs a command that must succeed and returns its trimmed output.
func mustCLI(t *testing.T, db, stdin string, args ...string) string {
	t.Helper()
	r := portalCLI(t, map[string]string{"PORTAL_DB": db}, stdin, args...)
	if r.code != 0 {
		t.Fatalf("portal %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.out, r.errOut)
	}
	return strings.TrimSpace(r.out)
}

var cliPolicy = store.Policy{IdleTimeout: 12 * time.Hour, MaxLifetime: 14 * 24 * time.Hour}

// cliOpenStore opens the database the way the server does.
func cliOpenStore(t *testing.T, path string) *bolt.Store {
	t.Helper()
	st, err := bolt.Open(path, bolt.Options{Policy: cliPolicy, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// cliAddSessions signs the user in n times straight through the store, from
// a Mac in Berlin, and returns the tokens.
func cliAddSessions(t *testing.T, db, email string, n int) []string {
	t.Helper()
	return cliAddSessionsWith(t, db, email, n, store.AuthPassword)
}

// cliAddSessionsWith is cliAddSessions with sessions that signed in with
// auth.
func cliAddSessionsWith(t *testing.T, db, email string, n int, auth store.AuthMethod) []string {
	t.Helper()
	st := cliOpenStore(t, db)
	defer st.Close()
	u, err := st.UserByEmail(email)
	if err != nil {
		t.Fatal(err)
	}
	var tokens []string
	for range n {
		_, tok, err := st.CreateSession(u.ID, store.NewSession{
			Auth:      auth,
			UserAgent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
			Device:    device.Info{Browser: "Chrome", BrowserVersion: "131", OS: "macOS", Type: "desktop"},
			Place:     geo.Place{Network: "203.0.113.0/24", Masked: "203.0.113.x", Location: geo.Location{City: "Berlin", Country: "Germany", CountryCode: "DE"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		tokens = append(tokens, tok)
	}
	return tokens
}

// TestCommands runs every command, good and bad, in order against one real
// database. $CLIENT and $PARTNER stand for the account ids printed earlier.
func TestCommands(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "portal.db")
	ids := map[string]string{}
	type step struct {
		name   string
		env    map[string]string // added to PORTAL_DB
		args   []string
		stdin  string
		code   int
		out    string // stdout must contain this (after $ expansion)
		errOut string // stderr must contain this
		save   string // keep the trimmed stdout under this name
		before func(t *testing.T)
		after  func(t *testing.T, r cliResult)
	}
	steps := []step{
		// Help and dispatch.
		{name: "help lists every command", args: []string{"help"}, out: "sessions revoke-all -email EMAIL"},
		{name: "help for one command", args: []string{"help", "user", "create"}, out: "Usage: portal user create -account ID"},
		{name: "-h of a command", args: []string{"user", "passwd", "-h"}, out: "printf '%s\\n' \"$PW\" | portal user passwd"},
		{name: "help for a group", args: []string{"help", "user"}, out: "user disable -email EMAIL"},
		{name: "-h of a group", args: []string{"sessions", "-h"}, out: "sessions list -email EMAIL"},
		{name: "unknown command", args: []string{"frobnicate"}, code: 2, errOut: `portal: unknown command "frobnicate"; run 'portal help' for the list`},
		{name: "unknown subcommand", args: []string{"user", "delete"}, code: 2, errOut: `portal: unknown command "user delete"; the "user" commands are listed above`},
		{name: "group alone", args: []string{"sessions"}, code: 2, errOut: `portal: "sessions" needs a subcommand`},
		{name: "help for an unknown command", args: []string{"help", "nope"}, code: 2, errOut: `there is no command "nope"`},
		{name: "unknown flag", args: []string{"user", "list", "-verbose"}, code: 2, errOut: "portal: user list: flag provided but not defined: -verbose; run 'portal user list -h' for its flags"},
		{name: "version", args: []string{"version"}, out: "portal dev"},
		{name: "no database yet", args: []string{"user", "list"}, code: 1, errOut: "portal: there is no database at " + db + "; pass -db or set PORTAL_DB"},
		{name: "bad policy in the environment", env: map[string]string{"PORTAL_IDLE_TIMEOUT": "soon"}, args: []string{"account", "create", "-name", "Acme", "-kind", "client"},
			code: 2, errOut: `portal: $PORTAL_IDLE_TIMEOUT must be a duration like 30m, 12h or 14d, at least 1m0s, got "soon"`},

		// Accounts.
		{name: "account without -kind", args: []string{"account", "create", "-name", "Acme"}, code: 2, errOut: "portal: -kind is required: client or partner"},
		{name: "account with a bad kind", args: []string{"account", "create", "-name", "Acme", "-kind", "vendor"}, code: 2, errOut: `portal: -kind must be client or partner, got "vendor"`},
		{name: "account without -name", args: []string{"account", "create", "-kind", "client"}, code: 2, errOut: "portal: -name is required"},
		{name: "account with a control character", args: []string{"account", "create", "-name", "Ac\x1b[2Jme", "-kind", "client"}, code: 2, errOut: "-name must not contain control characters"},
		{name: "account with a stray argument", args: []string{"account", "create", "-name", "Acme", "-kind", "client", "extra"}, code: 2, errOut: "account create takes no arguments besides its flags, got 1"},
		{name: "client account", args: []string{"account", "create", "-name", "Acme Dental", "-kind", "client"}, save: "CLIENT"},
		{name: "partner account", args: []string{"account", "create", "-db", db, "-kind", "partner", "-name", "AiDial Partner"}, save: "PARTNER"},
		{name: "account list", args: []string{"account", "list"}, out: "$CLIENT  client   Acme Dental"},

		// Partners managing clients.
		{name: "a managed client", args: []string{"account", "create", "-name", "Bolt Dental", "-kind", "client", "-partner", "$PARTNER"}, save: "MANAGED"},
		{name: "-partner on a partner account", args: []string{"account", "create", "-name", "P2", "-kind", "partner", "-partner", "$PARTNER"}, code: 2, errOut: "-partner is for client accounts"},
		{name: "-partner naming a client", args: []string{"account", "create", "-name", "C2", "-kind", "client", "-partner", "$CLIENT"}, code: 1, errOut: "is not a partner account"},
		{name: "-partner that is no id", args: []string{"account", "create", "-name", "C2", "-kind", "client", "-partner", "acme"}, code: 2, errOut: `-partner must be an account id`},
		{name: "list shows the partner", args: []string{"account", "list"}, out: "Bolt Dental     0      AiDial Partner ("},
		{name: "set-partner", args: []string{"account", "set-partner", "-account", "$CLIENT", "-partner", "$PARTNER"}, out: "Acme Dental is now managed by partner $PARTNER"},
		{name: "set-partner none", args: []string{"account", "set-partner", "-account", "$MANAGED", "-partner", "none"}, out: "Bolt Dental is no longer managed by a partner."},
		{name: "set-partner without -partner", args: []string{"account", "set-partner", "-account", "$CLIENT"}, code: 2, errOut: "-partner is required"},
		{name: "set-partner of a partner account", args: []string{"account", "set-partner", "-account", "$PARTNER", "-partner", "$PARTNER"}, code: 1, errOut: "only client accounts can be managed by a partner"},
		{name: "set-partner of no account", args: []string{"account", "set-partner", "-account", "0123456789abcdef0123456789abcdef", "-partner", "$PARTNER"}, code: 1, errOut: "there is no account 0123456789abcdef0123456789abcdef"},
		{name: "set-partner to no partner", args: []string{"account", "set-partner", "-account", "$CLIENT", "-partner", "0123456789abcdef0123456789abcdef"}, code: 1, errOut: "there is no partner account 0123456789abcdef0123456789abcdef"},

		// Creating users.
		{name: "user without -email", args: []string{"user", "create", "-account", "$CLIENT", "-name", "Ann", "-role", "client_admin"}, stdin: cliPassword + "\n", code: 2, errOut: "portal: -email is required"},
		{name: "user with a bad email", args: []string{"user", "create", "-account", "$CLIENT", "-email", "ann at example.com", "-name", "Ann", "-role", "client_admin"}, stdin: cliPassword + "\n", code: 2, errOut: `-email must be an address like name@example.com, got "ann at example.com"`},
		{name: "user without -account", args: []string{"user", "create", "-email", "ann@example.com", "-name", "Ann", "-role", "client_admin"}, stdin: cliPassword + "\n", code: 2, errOut: "portal: -account is required"},
		{name: "user without -name", args: []string{"user", "create", "-account", "$CLIENT", "-email", "ann@example.com", "-role", "client_admin"}, stdin: cliPassword + "\n", code: 2, errOut: "portal: -name is required"},
		{name: "user with an unknown role", args: []string{"user", "create", "-account", "$CLIENT", "-email", "ann@example.com", "-name", "Ann", "-role", "superuser"}, stdin: cliPassword + "\n",
			code: 2, errOut: `portal: -role must be one of client_admin, client_manager, client_staff, partner_admin, partner_staff, got "superuser"`},
		{name: "user with a weak password", args: []string{"user", "create", "-account", "$CLIENT", "-email", "ann@example.com", "-name", "Ann", "-role", "client_admin"}, stdin: "hunter2\n",
			code: 2, errOut: "portal: the password is too weak or too long: Use at least 12 characters."},
		{name: "user with no password", args: []string{"user", "create", "-account", "$CLIENT", "-email", "ann@example.com", "-name", "Ann", "-role", "client_admin"}, stdin: "",
			code: 2, errOut: "user create needs a password on the first line of standard input"},
		{name: "user with a too long password", args: []string{"user", "create", "-account", "$CLIENT", "-email", "ann@example.com", "-name", "Ann", "-role", "client_admin"}, stdin: strings.Repeat("x", password.MaxLen+10) + "\n",
			code: 2, errOut: "the password must be at most 1024 bytes"},
		{name: "password as an argument is refused and not echoed", args: []string{"user", "create", "-account", "$CLIENT", "-email", "ann@example.com", "-name", "Ann", "-role", "client_admin", cliPassword}, stdin: cliPassword + "\n",
			code: 2, errOut: "user create takes no arguments besides its flags, got 1",
			after: func(t *testing.T, r cliResult) {
				if strings.Contains(r.errOut+r.out, "horse") {
					t.Errorf("the password was echoed: %q", r.errOut)
				}
			}},
		{name: "user in an unknown account", args: []string{"user", "create", "-account", "0123456789abcdef0123456789abcdef", "-email", "ann@example.com", "-name", "Ann", "-role", "client_admin"}, stdin: cliPassword + "\n",
			code: 1, errOut: `portal: there is no account with id "0123456789abcdef0123456789abcdef" in ` + db},
		{name: "client role in a partner account", args: []string{"user", "create", "-account", "$PARTNER", "-email", "ann@example.com", "-name", "Ann", "-role", "client_admin"}, stdin: cliPassword + "\n",
			code: 1, errOut: `portal: role client_admin (Client Admin) belongs in a client account, but "AiDial Partner" is a partner account`},
		{name: "partner role in a client account", args: []string{"user", "create", "-account", "$CLIENT", "-email", "pat@partner.example", "-name", "Pat", "-role", "partner_staff"}, stdin: cliPassword + "\n",
			code: 1, errOut: "belongs in a partner account"},
		{name: "client admin", args: []string{"user", "create", "-account", "$CLIENT", "-email", "Ann@Example.com", "-name", "Ann Admin", "-role", "client_admin"}, stdin: cliPassword + "\r\n", save: "ANN"},
		{name: "same email again", args: []string{"user", "create", "-account", "$CLIENT", "-email", "ann@example.com", "-name", "Ann Again", "-role", "client_staff"}, stdin: cliPassword + "\n",
			code: 1, errOut: "portal: a user with email ann@example.com already exists"},
		{name: "partner staff", args: []string{"user", "create", "-account", "$PARTNER", "-email", "pat@partner.example", "-name", "Pat", "-role", "partner_staff"}, stdin: cliPassword + "\nignored second line\n"},
		{name: "user list", args: []string{"user", "list"}, out: "ann@example.com      Client Admin   Acme Dental     no        0",
			after: func(t *testing.T, r cliResult) {
				if !strings.Contains(r.out, "pat@partner.example  Partner Staff  AiDial Partner  no        0") {
					t.Errorf("partner row missing:\n%s", r.out)
				}
				if strings.Contains(r.out, "argon2") {
					t.Errorf("user list shows a password hash:\n%s", r.out)
				}
			}},

		// Sessions.
		{name: "sessions list without -email", args: []string{"sessions", "list"}, code: 2, errOut: "portal: -email is required"},
		{name: "sessions of an unknown user", args: []string{"sessions", "list", "-email", "nobody@example.com"}, code: 1, errOut: "portal: there is no user with email nobody@example.com in " + db},
		{name: "no sessions yet", args: []string{"sessions", "list", "-email", "ann@example.com"}, out: "ann@example.com has no live sessions."},
		{name: "sessions list", args: []string{"sessions", "list", "-email", "ANN@example.com"},
			before: func(t *testing.T) { ids["TOKENS"] = strings.Join(cliAddSessions(t, db, "ann@example.com", 2), " ") },
			out:    "Chrome 131 on macOS  Berlin, Germany  203.0.113.x",
			after: func(t *testing.T, r cliResult) {
				lines := strings.Split(strings.TrimSpace(r.out), "\n")
				if len(lines) != 3 || !regexp.MustCompile(`^SESSION +DEVICE +LOCATION +NETWORK +SIGNED IN +LAST ACTIVE +SIGNED IN WITH$`).MatchString(lines[0]) {
					t.Errorf("want a header and two rows:\n%s", r.out)
				}
				for _, line := range lines[1:] {
					if !strings.HasSuffix(line, " UTC  Password") {
						t.Errorf("want how each session signed in at the end of its row:\n%s", r.out)
					}
				}
				for _, tok := range strings.Fields(ids["TOKENS"]) {
					h := store.HashToken(tok)
					if strings.Contains(r.out, tok) || strings.Contains(r.out, hex.EncodeToString(h[:])) {
						t.Errorf("the list shows a token:\n%s", r.out)
					}
				}
				if regexp.MustCompile(`[0-9a-f]{32}`).MatchString(r.out) {
					t.Errorf("the list shows whole ids:\n%s", r.out)
				}
			}},
		{name: "user list counts live sessions", args: []string{"user", "list"}, out: "ann@example.com      Client Admin   Acme Dental     no        2"},
		{name: "revoke-all without -email", args: []string{"sessions", "revoke-all"}, code: 2, errOut: "portal: -email is required"},
		{name: "revoke-all of an unknown user", args: []string{"sessions", "revoke-all", "-email", "nobody@example.com"}, code: 1, errOut: "there is no user with email nobody@example.com"},
		{name: "revoke-all", args: []string{"sessions", "revoke-all", "-email", "ann@example.com"}, out: "Signed ann@example.com out everywhere: ended 2 sessions.",
			after: func(t *testing.T, r cliResult) { cliWantEnded(t, db, ids["TOKENS"], store.ReasonEverywhere) }},
		{name: "revoke-all again", args: []string{"sessions", "revoke-all", "-email", "ann@example.com"}, out: "ended 0 sessions."},

		// Security activity.
		{name: "activity without -email", args: []string{"activity"}, code: 2, errOut: "portal: -email is required"},
		{name: "activity with a bad -since", args: []string{"activity", "-email", "ann@example.com", "-since", "a week"}, code: 2,
			errOut: `portal: -since must be a duration like 12h, 7d or 90d, got "a week"`},
		{name: "activity with a negative -since", args: []string{"activity", "-email", "ann@example.com", "-since", "-3d"}, code: 2, errOut: "-since must be a duration"},
		{name: "activity of an unknown user", args: []string{"activity", "-email", "nobody@example.com"}, code: 1, errOut: "there is no user with email nobody@example.com"},
		{name: "activity of a user without any", args: []string{"activity", "-email", "pat@partner.example", "-since", "90d"}, out: "pat@partner.example has no security activity in the last 90 days."},
		{name: "activity", args: []string{"activity", "-email", "ANN@example.com", "-since", "12h"}, out: "Signed out of every device by an administrator",
			after: func(t *testing.T, r cliResult) {
				lines := strings.Split(strings.TrimSpace(r.out), "\n")
				if len(lines) != 5 || !regexp.MustCompile(`^TIME +SESSION +WHAT$`).MatchString(lines[0]) {
					t.Fatalf("want a header and four lines (two sign-ins, two sign-outs):\n%s", r.out)
				}
				row := regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d UTC  [0-9a-f]{8}  (.*)$`)
				for i, line := range lines[1:] {
					m := row.FindStringSubmatch(line)
					want := "Signed out of every device by an administrator"
					if i >= 2 {
						want = "Signed in with Chrome 131 on macOS from Berlin, Germany (203.0.113.x) using the password"
					}
					if m == nil || m[1] != want {
						t.Errorf("line %d: %q, want a UTC time, a session and %q", i+1, line, want)
					}
				}
			}},

		// Passwords.
		{name: "passwd without -email", args: []string{"user", "passwd"}, stdin: "a brand new password\n", code: 2, errOut: "portal: -email is required"},
		{name: "passwd with the password as an argument", args: []string{"user", "passwd", "-email", "ann@example.com", "a brand new password"}, code: 2, errOut: "user passwd takes no arguments besides its flags, got 1"},
		{name: "passwd with a weak password", args: []string{"user", "passwd", "-email", "ann@example.com"}, stdin: "short\n", code: 2, errOut: "Use at least 12 characters."},
		{name: "passwd of an unknown user", args: []string{"user", "passwd", "-email", "nobody@example.com"}, stdin: "a brand new password\n", code: 1, errOut: "there is no user with email nobody@example.com"},
		{name: "passwd", args: []string{"user", "passwd", "-email", "ann@example.com"}, stdin: "a brand new password\n", out: "Changed the password of ann@example.com and signed out 1 session.",
			before: func(t *testing.T) { ids["TOKENS"] = strings.Join(cliAddSessions(t, db, "ann@example.com", 1), " ") },
			after: func(t *testing.T, r cliResult) {
				cliWantEnded(t, db, ids["TOKENS"], store.ReasonPasswordChanged)
				st := cliOpenStore(t, db)
				defer st.Close()
				u, _ := st.UserByEmail("ann@example.com")
				if !password.Verify(u.PasswordHash, "a brand new password") {
					t.Error("the new password does not verify")
				}
			}},

		// Disabling.
		{name: "disable without -email", args: []string{"user", "disable"}, code: 2, errOut: "portal: -email is required"},
		{name: "disable an unknown user", args: []string{"user", "disable", "-email", "nobody@example.com"}, code: 1, errOut: "there is no user with email nobody@example.com"},
		{name: "disable", args: []string{"user", "disable", "-email", "ann@example.com"}, out: "Disabled ann@example.com and signed out 3 sessions.",
			before: func(t *testing.T) { ids["TOKENS"] = strings.Join(cliAddSessions(t, db, "ann@example.com", 3), " ") },
			after:  func(t *testing.T, r cliResult) { cliWantEnded(t, db, ids["TOKENS"], store.ReasonUserDisabled) }},
		{name: "user list shows disabled", args: []string{"user", "list"}, out: "ann@example.com      Client Admin   Acme Dental     yes       0"},
		{name: "enable without -email", args: []string{"user", "enable"}, code: 2, errOut: "portal: -email is required"},
		{name: "enable", args: []string{"user", "enable", "-email", "ann@example.com"}, out: "Enabled ann@example.com; they can sign in again."},
		{name: "user list shows enabled", args: []string{"user", "list"}, out: "ann@example.com      Client Admin   Acme Dental     no        0"},

		// Two-step sign-in: an account that requires it, a user's reset.
		{name: "help lists account set", args: []string{"help", "account"}, out: "account set -account ID -require-two-step true|false"},
		{name: "account set without -require-two-step", args: []string{"account", "set", "-account", "$CLIENT"}, code: 2, errOut: "portal: -require-two-step is required: true or false"},
		{name: "account set with a bad value", args: []string{"account", "set", "-account", "$CLIENT", "-require-two-step", "yes"}, code: 2, errOut: `portal: -require-two-step must be true or false, got "yes"`},
		{name: "account set without -account", args: []string{"account", "set", "-require-two-step", "true"}, code: 2, errOut: `-account must be an account id like those 'portal account list' shows, got ""`},
		{name: "account set of no account", args: []string{"account", "set", "-account", "0123456789abcdef0123456789abcdef", "-require-two-step", "true"}, code: 1, errOut: "portal: there is no account 0123456789abcdef0123456789abcdef; 'portal account list' shows them"},
		{name: "account set true", args: []string{"account", "set", "-account", "$CLIENT", "-require-two-step", "true"}, out: "Acme Dental now requires two-step sign-in",
			after: func(t *testing.T, r cliResult) {
				st := cliOpenStore(t, db)
				defer st.Close()
				if a, _ := st.AccountByID(ids["CLIENT"]); !a.RequireTwoStep {
					t.Error("the account does not require two-step sign-in")
				}
				if page, err := st.UserEvents(ids["ANN"], store.EventQuery{Kinds: []store.EventKind{store.EventTwoStepRequired}, Page: 1}); err != nil || len(page.Events) != 1 || page.Events[0].By != (store.Actor{}) {
					t.Errorf("ann's activity: %+v %v, want one event by an operator", page.Events, err)
				}
			}},
		{name: "account list shows it", args: []string{"account", "list"}, out: "Acme Dental     1      AiDial Partner (",
			after: func(t *testing.T, r cliResult) {
				if !regexp.MustCompile(`Acme Dental .* required\n`).MatchString(r.out) || strings.Count(r.out, "required") != 1 {
					t.Errorf("want Acme Dental alone marked required:\n%s", r.out)
				}
			}},
		{name: "account set false", args: []string{"account", "set", "-account", "$CLIENT", "-require-two-step", "false"}, out: "Acme Dental no longer requires two-step sign-in",
			after: func(t *testing.T, r cliResult) {
				st := cliOpenStore(t, db)
				defer st.Close()
				if a, _ := st.AccountByID(ids["CLIENT"]); a.RequireTwoStep {
					t.Error("the account still requires two-step sign-in")
				}
			}},
		{name: "reset-two-step without -email", args: []string{"user", "reset-two-step"}, code: 2, errOut: "portal: -email is required"},
		{name: "reset-two-step of an unknown user", args: []string{"user", "reset-two-step", "-email", "nobody@example.com"}, code: 1, errOut: "there is no user with email nobody@example.com"},
		{name: "reset-two-step of a user without it", args: []string{"user", "reset-two-step", "-email", "ann@example.com"}, code: 1, errOut: "portal: ann@example.com does not use two-step sign-in or passkeys; nothing changed"},
		{name: "sessions list says how each signed in", args: []string{"sessions", "list", "-email", "ann@example.com"}, out: "  Password and authenticator app\n",
			before: func(t *testing.T) {
				st := cliOpenStore(t, db)
				k, err := twostep.NewKey("ann@example.com")
				if err == nil {
					err = st.EnableTwoStep(ids["ANN"], store.Actor{}, k.Secret, twostep.RecoveryCodes(store.RecoveryCodes))
				}
				st.Close()
				if err != nil {
					t.Fatal(err)
				}
				ids["TOKENS"] = strings.Join(cliAddSessionsWith(t, db, "ann@example.com", 2, store.AuthPasswordApp), " ")
			}},
		{name: "sessions list says a passkey signed in", args: []string{"sessions", "list", "-email", "ann@example.com"}, out: "  Passkey\n",
			before: func(t *testing.T) {
				st := cliOpenStore(t, db)
				_, err := st.AddPasskey(store.Passkey{ID: []byte("credential-1"), UserID: ids["ANN"], Name: "Phone", Credential: []byte(`{}`)}, store.Actor{})
				st.Close()
				if err != nil {
					t.Fatal(err)
				}
				ids["TOKENS"] += " " + strings.Join(cliAddSessionsWith(t, db, "ann@example.com", 1, store.AuthPasskey), " ")
			}},
		{name: "reset-two-step", args: []string{"user", "reset-two-step", "-email", "Ann@example.com"}, out: "Turned off two-step sign-in for ann@example.com, removed 1 passkey and signed them out of 3 sessions.",
			after: func(t *testing.T, r cliResult) {
				cliWantEnded(t, db, ids["TOKENS"], store.ReasonTwoStepReset)
				st := cliOpenStore(t, db)
				defer st.Close()
				if _, err := st.TwoStep(ids["ANN"]); !errors.Is(err, store.ErrTwoStepOff) {
					t.Errorf("two-step sign-in: %v, want off", err)
				}
				if pks, err := st.Passkeys(ids["ANN"]); err != nil || len(pks) != 0 {
					t.Errorf("passkeys after the reset: %d, %v", len(pks), err)
				}
			}},
		{name: "reset-two-step again", args: []string{"user", "reset-two-step", "-email", "ann@example.com"}, code: 1, errOut: "does not use two-step sign-in or passkeys; nothing changed"},
	}
	for _, s := range steps {
		expand := func(v string) string {
			for k, id := range ids {
				v = strings.ReplaceAll(v, "$"+k, id)
			}
			return v
		}
		args := make([]string, len(s.args))
		for i, a := range s.args {
			args[i] = expand(a)
		}
		env := map[string]string{"PORTAL_DB": db}
		for k, v := range s.env {
			env[k] = v
		}
		if s.before != nil {
			s.before(t)
		}
		r := portalCLI(t, env, s.stdin, args...)
		if r.code != s.code || !strings.Contains(r.out, expand(s.out)) || !strings.Contains(r.errOut, s.errOut) {
			t.Errorf("%s: portal %s\nexit %d, want %d\nstdout: %s\nwant in stdout: %s\nstderr: %s\nwant in stderr: %s",
				s.name, strings.Join(args, " "), r.code, s.code, r.out, expand(s.out), r.errOut, s.errOut)
			continue
		}
		if s.code == 0 && r.errOut != "" {
			t.Errorf("%s: a successful command wrote to stderr: %s", s.name, r.errOut)
		}
		if lines := strings.Split(strings.TrimSuffix(r.errOut, "\n"), "\n"); s.code != 0 &&
			(!strings.HasPrefix(lines[len(lines)-1], "portal: ") || len(lines) > 1 && !strings.HasPrefix(lines[0], "Usage: ")) {
			t.Errorf("%s: want one 'portal: ' sentence on stderr, after usage if any, got %q", s.name, r.errOut)
		}
		if s.save != "" {
			ids[s.save] = strings.TrimSpace(r.out)
			if !store.ValidID(ids[s.save]) {
				t.Fatalf("%s: printed %q, want an id", s.name, r.out)
			}
		}
		if s.after != nil {
			s.after(t, r)
		}
	}

	// What the commands wrote is what the store reads back.
	st := cliOpenStore(t, db)
	defer st.Close()
	if err := st.Check(); err != nil {
		t.Fatal(err)
	}
	users, err := st.Users()
	if err != nil || len(users) != 2 {
		t.Fatalf("users: %v %v", users, err)
	}
	ann, err := st.UserByEmail("ann@example.com")
	if err != nil || ann.ID != ids["ANN"] || ann.Name != "Ann Admin" || ann.Role != store.RoleClientAdmin || ann.AccountID != ids["CLIENT"] || ann.Disabled {
		t.Errorf("ann: %+v %v", ann, err)
	}
	pat, _ := st.UserByEmail("pat@partner.example")
	if !password.Verify(pat.PasswordHash, cliPassword) {
		t.Error("only the first line of standard input should be the password")
	}
}

// cliWantEnded checks that every token's session ended for reason.
func cliWantEnded(t *testing.T, db, tokens string, reason store.Reason) {
	t.Helper()
	st := cliOpenStore(t, db)
	defer st.Close()
	for _, tok := range strings.Fields(tokens) {
		_, _, err := st.Authenticate(tok)
		var ended *store.EndedError
		if !errors.As(err, &ended) || ended.Reason != reason {
			t.Errorf("session: %v, want ended with %s", err, reason)
		}
	}
}

// TestCommandFlagsAnywhere accepts flags after the file name and an
// explicit -db over $PORTAL_DB.
func TestCommandFlagsAnywhere(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "real.db")
	env := map[string]string{"PORTAL_DB": filepath.Join(dir, "other.db")}
	if r := portalCLI(t, env, "", "account", "create", "-db", db, "-name", "Acme", "-kind", "client"); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.errOut)
	}
	if _, err := os.Stat(env["PORTAL_DB"]); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("$PORTAL_DB was used despite -db: %v", err)
	}
	mustCLI(t, db, "", "backup", filepath.Join(dir, "b.db"))
	if r := portalCLI(t, env, "", "backup", filepath.Join(dir, "b.db"), "-db", db, "-force"); r.code != 0 {
		t.Errorf("flags after FILE: exit %d: %s", r.code, r.errOut)
	}
}

// cliBrowser is just enough of a browser to sign in through the real
// handlers: it keeps cookies and the last page's CSRF token.
type cliBrowser struct {
	t       *testing.T
	app     *fiber.App
	cookies map[string]string
	csrf    string
}

var cliCSRFRe = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

func (b *cliBrowser) do(method, target string, form url.Values) *http.Response {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, target, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	for k, v := range b.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	res, err := b.app.Test(req, -1)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, target, err)
	}
	data, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, c := range res.Cookies() {
		if c.MaxAge < 0 || c.Value == "" {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c.Value
		}
	}
	if m := cliCSRFRe.FindSubmatch(data); m != nil {
		b.csrf = string(m[1])
	}
	return res
}

// serve opens the database like the server does and returns a browser on
// the real app, and a function that closes it again.
func cliServe(t *testing.T, db string, cookies map[string]string) (*cliBrowser, func()) {
	t.Helper()
	st := cliOpenStore(t, db)
	app, err := handlers.New(st, nil, handlers.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return &cliBrowser{t: t, app: app, cookies: cookies}, func() {
		app.Shutdown()
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func cliSignIn(t *testing.T, db, email, pw string) map[string]string {
	t.Helper()
	b, done := cliServe(t, db, map[string]string{})
	defer done()
	if res := b.do(http.MethodGet, "/login", nil); res.StatusCode != http.StatusOK || b.cookies["portal_pre"] == "" || b.csrf == "" {
		t.Fatalf("GET /login: %d, cookies %v", res.StatusCode, b.cookies)
	}
	res := b.do(http.MethodPost, "/login", url.Values{"email": {email}, "password": {pw}, "_csrf": {b.csrf}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/settings" {
		t.Fatalf("POST /login as %s: %d to %q", email, res.StatusCode, res.Header.Get("Location"))
	}
	if res := b.do(http.MethodGet, "/settings", nil); res.StatusCode != http.StatusOK {
		t.Fatalf("GET /settings after sign-in: %d", res.StatusCode)
	}
	return b.cookies
}

// wantSignedOut checks that the browser's cookie now leads to sign-in with
// the reason.
func cliWantSignedOut(t *testing.T, db string, cookies map[string]string, reason store.Reason) {
	t.Helper()
	b, done := cliServe(t, db, cookies)
	defer done()
	res := b.do(http.MethodGet, "/settings", nil)
	if want := "/login?reason=" + string(reason); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != want {
		t.Errorf("GET /settings: %d to %q, want 303 to %q", res.StatusCode, res.Header.Get("Location"), want)
	}
}

// TestCLIEndToEnd creates a user with the CLI, signs in over HTTP through
// the real app, then has the CLI end that session two ways.
func TestCLIEndToEnd(t *testing.T) {
	db := filepath.Join(t.TempDir(), "portal.db")
	acct := mustCLI(t, db, "", "account", "create", "-name", "Acme Dental", "-kind", "client")
	mustCLI(t, db, cliPassword+"\n", "user", "create", "-account", acct, "-email", "ann@example.com", "-name", "Ann Admin", "-role", "client_admin")

	t.Run("disable", func(t *testing.T) {
		cookies := cliSignIn(t, db, "ann@example.com", cliPassword)
		if out := mustCLI(t, db, "", "user", "disable", "-email", "ann@example.com"); out != "Disabled ann@example.com and signed out 1 session." {
			t.Errorf("disable said %q", out)
		}
		cliWantSignedOut(t, db, cookies, store.ReasonUserDisabled)
		mustCLI(t, db, "", "user", "enable", "-email", "ann@example.com")
	})
	t.Run("revoke-all", func(t *testing.T) {
		cookies := cliSignIn(t, db, "ann@example.com", cliPassword)
		other := cliSignIn(t, db, "ann@example.com", cliPassword)
		if out := mustCLI(t, db, "", "sessions", "revoke-all", "-email", "ann@example.com"); out != "Signed ann@example.com out everywhere: ended 2 sessions." {
			t.Errorf("revoke-all said %q", out)
		}
		cliWantSignedOut(t, db, cookies, store.ReasonEverywhere)
		cliWantSignedOut(t, db, other, store.ReasonEverywhere)
	})
	t.Run("passwd", func(t *testing.T) {
		cookies := cliSignIn(t, db, "ann@example.com", cliPassword)
		mustCLI(t, db, "another long password\n", "user", "passwd", "-email", "ann@example.com")
		cliWantSignedOut(t, db, cookies, store.ReasonPasswordChanged)
		cliSignIn(t, db, "ann@example.com", "another long password")
	})
}

// TestCLILocked: while a server holds the database, every command gives up
// within a few seconds with one sentence naming the file.
func TestCLILocked(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "portal.db")
	mustCLI(t, db, "", "account", "create", "-name", "Acme", "-kind", "client")
	st := cliOpenStore(t, db)
	defer st.Close()
	for _, args := range [][]string{
		{"user", "list"},
		{"sessions", "revoke-all", "-email", "ann@example.com"},
		{"backup", filepath.Join(dir, "backup.db")},
	} {
		r := portalCLI(t, map[string]string{"PORTAL_DB": db}, "", args...)
		want := "portal: the portal server is running on " + db + " (the file is locked); stop it first"
		if r.code != 1 || !strings.HasPrefix(r.errOut, want) || strings.Count(r.errOut, "\n") != 1 {
			t.Errorf("portal %s: exit %d, stderr %q; want exit 1 and %q", strings.Join(args, " "), r.code, r.errOut, want)
		}
		if r.took > 3500*time.Millisecond {
			t.Errorf("portal %s took %s to give up", strings.Join(args, " "), r.took)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "backup.db")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a backup was written while locked: %v", err)
	}
}

// TestBackup copies a populated database, opens the copy, and refuses to
// overwrite without -force.
func TestBackup(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "portal.db")
	acct := mustCLI(t, db, "", "account", "create", "-name", "Acme Dental", "-kind", "client")
	for _, e := range []string{"ann@example.com", "bob@example.com"} {
		mustCLI(t, db, cliPassword+"\n", "user", "create", "-account", acct, "-email", e, "-name", e, "-role", "client_staff")
	}
	tokens := cliAddSessions(t, db, "ann@example.com", 3)
	dest := filepath.Join(dir, "backups", "portal-1.db")
	if err := os.Mkdir(filepath.Dir(dest), 0o700); err != nil {
		t.Fatal(err)
	}

	if out := mustCLI(t, db, "", "backup", dest); !strings.Contains(out, "backup of "+db+" to "+dest) {
		t.Errorf("backup said %q", out)
	}
	fi, err := os.Stat(dest)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("backup file: %v, mode %v; want 0600", err, fi.Mode())
	}
	if _, err := os.Stat(dest + ".tmp"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary file left behind: %v", err)
	}
	checkBackup := func() {
		t.Helper()
		st := cliOpenStore(t, dest)
		defer st.Close()
		if err := st.Check(); err != nil {
			t.Fatalf("backup fails its check: %v", err)
		}
		users, err := st.Users()
		if err != nil || len(users) != 2 {
			t.Errorf("backup users: %d, %v", len(users), err)
		}
		for _, tok := range tokens {
			if _, _, err := st.Authenticate(tok); err != nil {
				t.Errorf("session missing from the backup: %v", err)
			}
		}
	}
	checkBackup()

	before, _ := os.ReadFile(dest)
	r := portalCLI(t, map[string]string{"PORTAL_DB": db}, "", "backup", dest)
	if r.code != 1 || r.errOut != "portal: "+dest+" already exists; pass -force to replace it\n" {
		t.Errorf("second backup: exit %d, %q", r.code, r.errOut)
	}
	if after, _ := os.ReadFile(dest); !bytes.Equal(before, after) {
		t.Error("the existing backup was changed")
	}
	// Make the database differ, then replace the backup.
	mustCLI(t, db, "", "user", "disable", "-email", "bob@example.com")
	if err := os.WriteFile(dest+".tmp", []byte("leftover"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustCLI(t, db, "", "backup", "-force", dest)
	st := cliOpenStore(t, dest)
	bob, err := st.UserByEmail("bob@example.com")
	st.Close()
	if err != nil || !bob.Disabled {
		t.Errorf("-force did not replace the backup: %+v %v", bob, err)
	}
	checkBackup()

	for _, c := range []struct {
		args   []string
		code   int
		errOut string
	}{
		{[]string{"backup"}, 2, "portal: backup needs the file to write"},
		{[]string{"backup", "a.db", "b.db"}, 2, "backup takes at most 1 argument besides its flags, got 2"},
		{[]string{"backup", filepath.Dir(dest)}, 2, "is a directory; name the backup file"},
		{[]string{"backup", "-force", db}, 2, "is the database itself"},
		{[]string{"backup", "-db", filepath.Join(dir, "missing.db"), filepath.Join(dir, "x.db")}, 1, "there is no database at"},
	} {
		r := portalCLI(t, map[string]string{"PORTAL_DB": db}, "", c.args...)
		if r.code != c.code || !strings.Contains(r.errOut, c.errOut) {
			t.Errorf("portal %s: exit %d, %q; want %d and %q", strings.Join(c.args, " "), r.code, r.errOut, c.code, c.errOut)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "missing.db")); !errors.Is(err, os.ErrNotExist) {
		t.Error("backup created the database it was asked to copy")
	}
}

// TestCommandHealth asks a real app on a loopback socket, by -url and by
// $PORTAL_ADDR, and a closed port.
func TestCommandHealth(t *testing.T) {
	st := cliOpenStore(t, filepath.Join(t.TempDir(), "portal.db"))
	defer st.Close()
	app, err := handlers.New(st, nil, handlers.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go app.Listener(ln)
	defer app.Shutdown()
	_, port, _ := net.SplitHostPort(ln.Addr().String())

	if r := portalCLI(t, nil, "", "health", "-url", "http://"+ln.Addr().String()+"/readyz"); r.code != 0 || !strings.Contains(r.out, "db: ok") {
		t.Errorf("health -url: exit %d, %q %q", r.code, r.out, r.errOut)
	}
	if r := portalCLI(t, map[string]string{"PORTAL_ADDR": "0.0.0.0:" + port}, "", "health"); r.code != 0 || r.out != "ok\n" {
		t.Errorf("health from $PORTAL_ADDR: exit %d, %q %q", r.code, r.out, r.errOut)
	}
	if r := portalCLI(t, nil, "", "health", "-url", "http://"+ln.Addr().String()+"/nope"); r.code != 1 || !strings.Contains(r.errOut, "answered 404 Not Found") {
		t.Errorf("health of a 404: exit %d, %q", r.code, r.errOut)
	}
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	closed.Close()
	if r := portalCLI(t, nil, "", "health", "-url", "http://"+closed.Addr().String()+"/healthz", "-timeout", "1s"); r.code != 1 || !strings.Contains(r.errOut, "did not answer") {
		t.Errorf("health of a closed port: exit %d, %q", r.code, r.errOut)
	}
	if r := portalCLI(t, nil, "", "health", "-url", "localhost:8080"); r.code != 2 {
		t.Errorf("health with a bad -url: exit %d, %q", r.code, r.errOut)
	}
	for addr, want := range map[string]string{
		"":               "http://127.0.0.1:8080/healthz",
		"0.0.0.0:8080":   "http://127.0.0.1:8080/healthz",
		":9000":          "http://127.0.0.1:9000/healthz",
		"[::]:8080":      "http://[::1]:8080/healthz",
		"10.1.2.3:80":    "http://10.1.2.3:80/healthz",
		"portal.lan:443": "http://portal.lan:443/healthz",
	} {
		if got := healthURL(addr); got != want {
			t.Errorf("healthURL(%q) = %q, want %q", addr, got, want)
		}
	}
}

// TestCommandPolicyFromEnv: the commands judge "live" with the server's
// PORTAL_IDLE_TIMEOUT, so an idle session is neither listed nor counted as
// signed out.
func TestCommandPolicyFromEnv(t *testing.T) {
	db := filepath.Join(t.TempDir(), "portal.db")
	acct := mustCLI(t, db, "", "account", "create", "-name", "Acme", "-kind", "client")
	mustCLI(t, db, cliPassword+"\n", "user", "create", "-account", acct, "-email", "ann@example.com", "-name", "Ann", "-role", "client_staff")
	st := cliOpenStore(t, db)
	u, _ := st.UserByEmail("ann@example.com")
	twoHoursAgo := time.Now().Add(-2 * time.Hour)
	_, tok, err := st.CreateSession(u.ID, store.NewSession{CreatedAt: twoHoursAgo, LastActive: twoHoursAgo})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	if out := mustCLI(t, db, "", "user", "list"); !strings.Contains(out, "no        1") {
		t.Errorf("with the default 12h idle timeout the session is live:\n%s", out)
	}
	env := map[string]string{"PORTAL_DB": db, "PORTAL_IDLE_TIMEOUT": "1h"}
	if r := portalCLI(t, env, "", "sessions", "list", "-email", "ann@example.com"); r.code != 0 || r.out != "ann@example.com has no live sessions.\n" {
		t.Errorf("with a 1h idle timeout: exit %d, %q %q", r.code, r.out, r.errOut)
	}
	if r := portalCLI(t, env, "", "sessions", "revoke-all", "-email", "ann@example.com"); r.code != 0 || !strings.Contains(r.out, "ended 0 sessions") {
		t.Errorf("revoke-all of an idle session: exit %d, %q %q", r.code, r.out, r.errOut)
	}
	cliWantEnded(t, db, tok, store.ReasonIdle)
}

// TestCommandsActivityWhileServing: with the server holding the file, the
// server runs 'activity' on its own store, and its answer (or a usage
// error) comes back as it would offline.
func TestCommandsActivityWhileServing(t *testing.T) {
	bin := buildPortal(t)
	db := filepath.Join(t.TempDir(), "portal.db")
	p := startBin(t, bin, "-demo", "-db", db, "-addr", "127.0.0.1:0")
	p.waitListening(30 * time.Second)
	run := func(args ...string) cliResult {
		t.Helper()
		return portalCLI(t, map[string]string{"PORTAL_DB": db}, "", args...)
	}
	if r := run("sessions", "revoke-all", "-email", "staff@client.example"); r.code != 0 {
		t.Fatalf("revoke-all while serving: exit %d\n%s%s", r.code, r.out, r.errOut)
	}
	r := run("activity", "-email", "staff@client.example", "-since", "30d")
	if r.code != 0 || !strings.Contains(r.out, "Signed out of every device by an administrator") || !strings.Contains(r.out, "Signed in with ") {
		t.Fatalf("activity while serving: exit %d\n%s%s", r.code, r.out, r.errOut)
	}
	if r := run("activity", "-email", "staff@client.example", "-since", "soon"); r.code != 2 || !strings.Contains(r.errOut, "-since must be a duration") {
		t.Fatalf("a bad -since while serving: exit %d, %q", r.code, r.errOut)
	}
	p.signal(syscall.SIGTERM)
	if code := p.wait(15 * time.Second); code != 0 {
		t.Fatalf("server exit %d", code)
	}
}
