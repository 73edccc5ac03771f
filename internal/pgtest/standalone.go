package pgtest

import (
	"context"
	"errors"
	"os"
)

// Options are how New starts a cluster outside the tests.
type Options struct {
	// Parent is the directory the cluster's own is made in ("" for the
	// temporary directory); its disk is what commits are written to.
	Parent string
	// Settings are postgres -c settings (name=value) in place of the
	// tests' (fsync off, a small buffer cache). Whatever they say, the
	// server listens on its private socket only.
	Settings []string
}

// New starts a cluster for a program that is not a test (the benchmark),
// from the binaries FindBin finds; Close stops it and removes its files.
// Like the tests' cluster, it shuts down should the program die first.
func New(ctx context.Context, o Options) (*Cluster, error) {
	bin := FindBin()
	if bin == "" {
		return nil, errors.New("pgtest: no PostgreSQL server binaries in " + binGlob + " (apt-get install postgresql)")
	}
	return newCluster(ctx, bin, o.Parent, o.Settings)
}

// Close stops the server (a fast shutdown) and removes its files.
func (c *Cluster) Close() error {
	defer os.RemoveAll(c.dir)
	return c.shutdown()
}
