// Package adminsock owns the Unix socket between the CLI and a running
// server: where it lives, who may be at either end, and what a forwarded
// command looks like on the wire.
//
// The running server answers a few operator requests on a Unix socket
// beside its database, for the commands that must work while it runs (an
// online backup, and commands the CLI forwards). The socket is created
// mode 0600 in a directory only the database's owner can write, and both
// ends check who the other is (trust.go), so only the user that owns the
// database, or root, can use it. The same user could stop the server and
// open the file, so running operator commands here grants nothing new.
package adminsock

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"syscall"
	"time"
)

// Path is the admin socket of the database at db.
func Path(db string) string { return db + ".admin.sock" }

// Listen creates the admin socket of the database at db and listens on it,
// handing out only connections from this process's own user and root. It
// refuses, leaving the server without a socket, when the database's
// directory is shared or something not ours sits at the socket's path;
// log is told of each connection it refuses.
func Listen(db string, log *slog.Logger) (net.Listener, error) {
	path := Path(db)
	if err := preparePath(path); err != nil {
		return nil, fmt.Errorf("not starting the admin socket: %w", err)
	}
	old := syscall.Umask(0o177) // create the socket 0600, with no window in between
	ln, err := net.Listen("unix", path)
	syscall.Umask(old)
	if err != nil {
		return nil, fmt.Errorf("admin socket %s: %w", path, err)
	}
	return peerCheckedListener{Listener: ln, allowed: ownOrRoot, log: log}, nil
}

// Client talks HTTP over the admin socket of the database at db, and only
// to a server run by this user or root (dial): a request, with any
// password in it, is written only after the connection passed. A refusal
// is an *UntrustedError.
func Client(db string) *http.Client {
	return clientTrusting(db, ownOrRoot)
}

// clientTrusting is Client trusting the uids trusted accepts, so tests can
// stand for another user.
func clientTrusting(db string, trusted func(uint32) bool) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return dial(ctx, Path(db), trusted)
		},
	}, Timeout: time.Minute}
}

// Command is a command the CLI sends to the server to run on its open
// store: the arguments and what the CLI read of stdin.
type Command struct {
	Args  []string `json:"args"`
	Stdin []byte   `json:"stdin,omitempty"`
}

// Result is the server's answer to a Command: what the command would have
// printed and returned had the CLI run it.
type Result struct {
	Code   int    `json:"code"`
	Stdout string `json:"stdout"`
	Stderr string `json:"stderr"`
}

// MaxCommand bounds a Command as JSON: arguments and a password line.
const MaxCommand = 64 << 10
