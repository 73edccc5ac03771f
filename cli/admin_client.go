package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// A command that needs the database while a server holds its lock is sent
// to that server over the admin socket (admin_server.go) and carried out there,
// on the server's open store, by the same code: the CLI sends its
// arguments and what it read of stdin, and prints what comes back. So
// 'portal user disable' or 'portal sessions revoke-all' take effect on the
// very next request, with no restart, and exactly as they would offline.

// forwarded is a command sent to the server, and its answer.
type forwarded struct {
	Args  []string `json:"args"`
	Stdin []byte   `json:"stdin,omitempty"`
}

type forwardedResult struct {
	Code   int    `json:"code"`
	Stdout string `json:"stdout"`
	Stderr string `json:"stderr"`
}

// maxForwarded bounds a forwarded command: arguments and a password line.
const maxForwarded = 64 << 10

// forwardCommand has the server on locked.path run args and returns the
// exit code, or says why it could not.
func forwardCommand(locked lockedError, args []string, stdin []byte, stdout, stderr io.Writer) int {
	body, err := json.Marshal(forwarded{Args: args, Stdin: stdin})
	if err != nil || len(body) > maxForwarded {
		fmt.Fprintf(stderr, "portal: %v (the command is too large to hand to it)\n", locked)
		return 1
	}
	res, err := adminClient(locked.path).Post("http://portal/command", "application/json", bytes.NewReader(body))
	if u := (*untrustedSocketError)(nil); errors.As(err, &u) {
		fmt.Fprintf(stderr, "portal: %v\n", u)
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "portal: %v (and no server answered on %s to run the command)\n", locked, adminSocketPath(locked.path))
		return 1
	}
	defer res.Body.Close()
	var out forwardedResult
	if res.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(res.Body, 1024))
		fmt.Fprintf(stderr, "portal: the running server refused the command: %s %s\n", res.Status, bytes.TrimSpace(msg))
		return 1
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		fmt.Fprintf(stderr, "portal: the running server's answer was cut off (%v); check with 'portal user list' whether the command took effect\n", err)
		return 1
	}
	io.WriteString(stdout, out.Stdout)
	io.WriteString(stderr, out.Stderr)
	return out.Code
}

// adminClient talks HTTP over the admin socket of the database at db, and
// only to a server run by this user or root (dialAdmin): a request, with
// any password in it, is written only after the connection passed.
func adminClient(db string) *http.Client {
	return adminClientTrusting(db, ownOrRoot)
}

// adminClientTrusting is adminClient trusting the uids trusted accepts, so
// tests can stand for another user.
func adminClientTrusting(db string, trusted func(uint32) bool) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return dialAdmin(ctx, adminSocketPath(db), trusted)
		},
	}, Timeout: time.Minute}
}

// errNoServer means no server answered on the admin socket.
var errNoServer = errors.New("no portal server answered on the admin socket")

// backupFromServer streams a consistent copy of the database from the
// server running on it.
func backupFromServer(db string, w io.Writer) (int64, error) {
	client := adminClient(db)
	client.Timeout = 0 // a backup takes as long as the file takes to copy
	res, err := client.Get("http://portal/backup")
	if u := (*untrustedSocketError)(nil); errors.As(err, &u) {
		return 0, u
	}
	if err != nil {
		return 0, fmt.Errorf("%w (%s): %v", errNoServer, adminSocketPath(db), err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("the portal server refused the backup: %s", res.Status)
	}
	n, err := io.Copy(w, res.Body)
	if err != nil {
		return n, fmt.Errorf("backup from the running server broke off after %d bytes: %w", n, err)
	}
	return n, nil
}
