package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"portal/server"
)

// Run is the binary: it runs the operator command args names, or starts
// the server, and returns the process exit code. version is what
// -version prints; getenv and the streams are the process's, passed in so
// that tests run it exactly as the binary does.
func Run(version string, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		return runCommand(version, args, getenv, stdin, stdout, stderr)
	}
	cfg, err := server.ParseConfig(args, getenv, stderr)
	if errors.Is(err, flagHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "portal: %v\n", err)
		return 2
	}
	if cfg.Version {
		fmt.Fprintf(stdout, "portal %s\n", version)
		return 0
	}
	cfg.OnlineCommand, cfg.RunCommand = onlineCommand, runForServer
	return serve(cfg, stderr)
}

// serve runs the server until SIGINT or SIGTERM and returns the exit code.
func serve(cfg server.Config, stderr io.Writer) int {
	log := cfg.Logger(stderr)
	srv, err := server.New(cfg, log)
	if err != nil {
		log.Error("cannot start", "err", err)
		fmt.Fprintf(stderr, "portal: %v\n", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		// Once shutdown has begun, a second Ctrl-C or SIGTERM stops the
		// process at once instead of being swallowed.
		<-ctx.Done()
		stop()
	}()
	runErr := srv.Run(ctx)
	if runErr != nil {
		log.Error("server stopped", "err", runErr)
		fmt.Fprintf(stderr, "portal: %v\n", runErr)
	}
	if err := srv.Close(); err != nil {
		log.Error("shutdown incomplete", "err", err)
		return 1
	}
	if runErr != nil {
		return 1
	}
	log.Info("stopped cleanly")
	return 0
}
