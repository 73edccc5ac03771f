package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"portal/internal/pgtest"
)

// pgCluster is the throwaway PostgreSQL server of -db postgres, started
// from Debian's binaries as internal/pgtest starts the tests' (which
// needs a testing.TB): initdb into a directory of its own, a Unix socket
// there and no TCP, run as the postgres user when the benchmark runs as
// root. Unlike the tests' cluster it keeps fsync and synchronous commit
// on, PostgreSQL's defaults, so that a revoke waits for its commit to
// reach the disk as a bbolt revoke does.
type pgCluster struct {
	dir    string
	cmd    *exec.Cmd
	exited chan struct{}
	err    error // cmd.Wait's, read once exited is closed
}

// pgSettings are the server's settings beyond its defaults: room for the
// portals' pools and the seeding, and a buffer cache that holds the -big
// database.
var pgSettings = []string{
	"listen_addresses=",
	"max_connections=200",
	"shared_buffers=512MB",
	"max_wal_size=4GB", // no checkpoint forced in the middle of the seeding
}

// startPGCluster creates a cluster in a new directory under parent (its
// disk is what commits are fsynced to) and starts it.
func startPGCluster(ctx context.Context, parent string) (*pgCluster, error) {
	bin := pgtest.FindBin() // needs no testing.TB
	if bin == "" {
		return nil, errors.New("-db postgres needs PostgreSQL's server binaries in /usr/lib/postgresql/*/bin (apt-get install postgresql), or -pg-url to use a database that is already running")
	}
	cred, err := pgtest.ServerCredential()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(parent, "portal-bench-pg-")
	if err != nil {
		return nil, err
	}
	c := &pgCluster{dir: dir, exited: make(chan struct{})}
	fail := func(err error) (*pgCluster, error) { os.RemoveAll(dir); return nil, err }
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return fail(fmt.Errorf("give %s to the postgres user: %w", dir, err))
		}
	}
	initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", c.dataDir(), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGKILL}
	if out, err := initdb.CombinedOutput(); err != nil {
		return fail(fmt.Errorf("initdb in %s: %w\n%s", dir, err, out))
	}
	args := []string{"-D", c.dataDir(), "-p", "5432", "-c", "unix_socket_directories=" + dir}
	for _, s := range pgSettings {
		args = append(args, "-c", s)
	}
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return fail(err)
	}
	defer logf.Close() // the server has its own copy
	if cred != nil {
		if err := logf.Chown(int(cred.Uid), int(cred.Gid)); err != nil {
			return fail(err)
		}
	}
	c.cmd = exec.Command(filepath.Join(bin, "postgres"), args...)
	c.cmd.Stdout, c.cmd.Stderr = logf, logf
	// Its own process group, so a Ctrl-C reaches the benchmark first; a
	// fast shutdown (SIGINT) if the benchmark dies without stopping it.
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true, Pdeathsig: syscall.SIGINT}
	if err := c.cmd.Start(); err != nil {
		return fail(fmt.Errorf("start postgres: %w", err))
	}
	go func() { c.err = c.cmd.Wait(); close(c.exited) }()
	if err := c.waitReady(ctx); err != nil {
		c.cmd.Process.Kill()
		<-c.exited
		return fail(err)
	}
	return c, nil
}

func (c *pgCluster) dataDir() string { return filepath.Join(c.dir, "data") }

// url is the URL of database name in the cluster.
func (c *pgCluster) url(name string) string {
	return fmt.Sprintf("postgres://postgres@/%s?host=%s&port=5432&sslmode=disable", name, c.dir)
}

// waitReady polls until the server answers, exits, or 30 seconds pass.
func (c *pgCluster) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		conn, err := pgx.Connect(ctx, c.url("postgres"))
		if err == nil {
			return conn.Close(ctx)
		}
		select {
		case <-c.exited:
			log, _ := os.ReadFile(filepath.Join(c.dir, "server.log"))
			return fmt.Errorf("postgres exited while starting (%v); its log:\n%s", c.err, log)
		case <-ctx.Done():
			return fmt.Errorf("postgres did not accept connections within 30s: %w", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// stop shuts the server down (fast shutdown) and removes its files.
func (c *pgCluster) stop() error {
	defer os.RemoveAll(c.dir)
	if err := c.cmd.Process.Signal(syscall.SIGINT); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-c.exited:
		return nil
	case <-time.After(60 * time.Second):
		c.cmd.Process.Kill()
		<-c.exited
		return errors.New("postgres did not stop within 60s and was killed")
	}
}
