package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"syscall"
	"time"
)

// The running server answers a few operator requests on a Unix socket
// beside its database, for the commands that must work while it runs (an
// online backup, and commands forwarded by admin_client.go). The socket is
// created mode 0600 in a directory only the database's owner can write,
// and both ends check who the other is (admin_trust.go), so only the user
// that owns the database, or root, can use it. The same user could stop
// the server and open the file, so running operator commands here grants
// nothing new.

func adminSocketPath(db string) string { return db + ".admin.sock" }

// serveAdmin listens on the admin socket until ctx is done. It refuses,
// leaving the server without a socket, when the database's directory is
// shared or something not ours sits at the socket's path.
func (s *server) serveAdmin(ctx context.Context) (func(), error) {
	path := adminSocketPath(s.cfg.DB)
	if err := prepareAdminPath(path); err != nil {
		return nil, fmt.Errorf("not starting the admin socket: %w", err)
	}
	old := syscall.Umask(0o177) // create the socket 0600, with no window in between
	ln, err := net.Listen("unix", path)
	syscall.Umask(old)
	if err != nil {
		return nil, fmt.Errorf("admin socket %s: %w", path, err)
	}
	ln = peerCheckedListener{Listener: ln, allowed: ownOrRoot, log: s.log}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /backup", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		n, err := s.store.Backup(w)
		if err != nil {
			s.log.Error("online backup failed", "err", err, "bytes", n)
			// Break the stream off rather than end it as if it were whole.
			panic(http.ErrAbortHandler)
		}
		s.log.Info("online backup taken", "bytes", n)
	})
	mux.HandleFunc("POST /command", s.runForwarded)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	return func() {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		os.Remove(path)
	}, nil
}

// runForwarded carries out a command sent by a CLI, on the server's store.
func (s *server) runForwarded(w http.ResponseWriter, r *http.Request) {
	var req forwarded
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxForwarded))
	if err := dec.Decode(&req); err != nil || len(req.Args) == 0 {
		http.Error(w, "expected a JSON command", http.StatusBadRequest)
		return
	}
	cmd, _ := findCommand(req.Args)
	if cmd == nil || !cmd.online {
		// backup, health and version never need the server to run them;
		// anything else is not a command.
		http.Error(w, "not a command the server runs", http.StatusBadRequest)
		return
	}
	var stdout, stderr bytes.Buffer
	c := &cli{getenv: func(string) string { return "" }, stdin: bytes.NewReader(req.Stdin), stdout: &stdout, stderr: &stderr, shared: s.store}
	code := c.exit(c.dispatch(req.Args))
	s.log.Info("operator command run for the CLI", "command", cmd.name, "exit", code)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(forwardedResult{Code: code, Stdout: stdout.String(), Stderr: stderr.String()})
}
