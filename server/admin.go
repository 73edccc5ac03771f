package server

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"time"

	"portal/adminsock"
)

// The server's side of the admin socket (package adminsock): an online
// backup, and the operator commands a CLI forwards because this server
// holds the database, carried out on its open store.

// serveAdmin listens on the admin socket until ctx is done. It refuses,
// leaving the server without a socket, when the database's directory is
// shared or something not ours sits at the socket's path.
func (s *Server) serveAdmin(ctx context.Context) (func(), error) {
	path := adminsock.Path(s.cfg.DB)
	ln, err := adminsock.Listen(s.cfg.DB, s.log)
	if err != nil {
		return nil, err
	}
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

// runForwarded carries out a command sent by a CLI, on the server's store,
// with the CLI's own code (Config.RunCommand).
func (s *Server) runForwarded(w http.ResponseWriter, r *http.Request) {
	var req adminsock.Command
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, adminsock.MaxCommand))
	if err := dec.Decode(&req); err != nil || len(req.Args) == 0 {
		http.Error(w, "expected a JSON command", http.StatusBadRequest)
		return
	}
	name, ok := "", false
	if s.cfg.OnlineCommand != nil && s.cfg.RunCommand != nil {
		name, ok = s.cfg.OnlineCommand(req.Args)
	}
	if !ok {
		// backup, health and version never need the server to run them;
		// anything else is not a command.
		http.Error(w, "not a command the server runs", http.StatusBadRequest)
		return
	}
	code, stdout, stderr := s.cfg.RunCommand(s.store, s.hashGate, req.Args, req.Stdin)
	s.log.Info("operator command run for the CLI", "command", name, "exit", code)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(adminsock.Result{Code: code, Stdout: stdout, Stderr: stderr})
}
