package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"syscall"
	"time"
)

// The running server answers a few operator requests on a Unix socket
// beside its database, for the commands that must work while it runs (an
// online backup). The socket is created mode 0600, so only the user that
// owns the database can use it: file permissions are the access control,
// as they are for the database file itself. The same user could stop the
// server and open the file, so running operator commands here (forward.go)
// grants nothing new.

func adminSocketPath(db string) string { return db + ".admin.sock" }

// serveAdmin listens on the admin socket until ctx is done. A socket left
// by a crashed server is replaced: we hold the database lock, so no other
// server can be using it.
func (s *server) serveAdmin(ctx context.Context) (func(), error) {
	path := adminSocketPath(s.cfg.DB)
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSocket != 0 {
		os.Remove(path)
	}
	old := syscall.Umask(0o177) // create the socket 0600, with no window in between
	ln, err := net.Listen("unix", path)
	syscall.Umask(old)
	if err != nil {
		return nil, fmt.Errorf("admin socket %s: %w", path, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /backup", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		n, err := s.store.Backup(w)
		if err != nil {
			s.log.Error("online backup failed", "err", err, "bytes", n)
			return
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

// backupFromServer streams a consistent copy of the database from the
// server running on it.
func backupFromServer(db string, w io.Writer) (int64, error) {
	client := adminClient(db)
	client.Timeout = 0 // a backup takes as long as the file takes to copy
	res, err := client.Get("http://portal/backup")
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
