package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"portal/adminsock"
)

// A command that needs the database while a server holds its lock is sent
// to that server over the admin socket (package adminsock; server/admin.go)
// and carried out there, on the server's open store, by the same code
// (runForServer): the CLI sends its arguments and what it read of stdin,
// and prints what comes back. So
// 'portal user disable' or 'portal sessions revoke-all' take effect on the
// very next request, with no restart, and exactly as they would offline.

// forwardCommand has the server on locked.path run args and returns the
// exit code, or says why it could not.
func forwardCommand(locked lockedError, args []string, stdin []byte, stdout, stderr io.Writer) int {
	body, err := json.Marshal(adminsock.Command{Args: args, Stdin: stdin})
	if err != nil || len(body) > adminsock.MaxCommand {
		fmt.Fprintf(stderr, "portal: %v (the command is too large to hand to it)\n", locked)
		return 1
	}
	res, err := adminsock.Client(locked.path).Post("http://portal/command", "application/json", bytes.NewReader(body))
	if u := (*adminsock.UntrustedError)(nil); errors.As(err, &u) {
		fmt.Fprintf(stderr, "portal: %v\n", u)
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "portal: %v (and no server answered on %s to run the command)\n", locked, adminsock.Path(locked.path))
		return 1
	}
	defer res.Body.Close()
	var out adminsock.Result
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

// errNoServer means no server answered on the admin socket.
var errNoServer = errors.New("no portal server answered on the admin socket")

// backupFromServer streams a consistent copy of the database from the
// server running on it.
func backupFromServer(db string, w io.Writer) (int64, error) {
	client := adminsock.Client(db)
	client.Timeout = 0 // a backup takes as long as the file takes to copy
	res, err := client.Get("http://portal/backup")
	if u := (*adminsock.UntrustedError)(nil); errors.As(err, &u) {
		return 0, u
	}
	if err != nil {
		return 0, fmt.Errorf("%w (%s): %v", errNoServer, adminsock.Path(db), err)
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
