package cli

import (
	"path/filepath"
	"testing"
	"time"

	"portal/password"
	"portal/store"
	"portal/store/bolt"
)

// TestForwardedCommandsHashInsideGate: `user create` and `user passwd`,
// run by the server for a CLI over the admin socket, hash the new password
// inside the server's gate. They hashed outside it: 25 at once took the
// server from 80 MB to 630 MB. With the gate's only slot taken, a forwarded
// command waits (here: it is seen in the waiting room) and finishes once
// the slot is free.
func TestForwardedCommandsHashInsideGate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "portal.db")
	seedFile(t, path) // a@example.com in one account
	st, err := bolt.Open(path, bolt.Options{Policy: cliPolicy, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	accounts, err := st.Accounts()
	if err != nil || len(accounts) != 1 {
		t.Fatalf("accounts: %v %v", accounts, err)
	}
	acct := accounts[0]
	tests := []struct {
		name string
		args []string
	}{
		{"user passwd", []string{"user", "passwd", "-email", "a@example.com"}},
		{"user create", []string{"user", "create", "-account", acct.ID, "-email", "b@example.com", "-name", "B", "-role", string(store.RoleClientStaff)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gate := password.NewGate(1, 1, time.Hour)
			release, err := gate.Enter() // a sign-in is hashing
			if err != nil {
				t.Fatal(err)
			}
			type result struct {
				code           int
				stdout, stderr string
			}
			done := make(chan result, 1)
			go func() {
				code, out, errOut := runForServer(st, gate, tt.args, []byte("a new password for them\n"))
				done <- result{code, out, errOut}
			}()
			// The command waits for the slot: the waiting room fills.
			for !gate.Full(password.Caller{}) {
				select {
				case r := <-done:
					t.Fatalf("the command finished (exit %d: %s%s) while the gate's only slot was taken", r.code, r.stdout, r.stderr)
				case <-time.After(time.Millisecond):
				}
			}
			release()
			if r := <-done; r.code != 0 {
				t.Fatalf("exit %d: %s%s", r.code, r.stdout, r.stderr)
			}
		})
	}
}
