package geo

import (
	"bytes"
	"context"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

var (
	berlin = Location{City: "Berlin", Region: "Berlin", Country: "Germany", CountryCode: "DE"}
	paris  = Location{City: "Paris", Region: "Île-de-France", Country: "France", CountryCode: "FR"}
	lisbon = Location{City: "Lisbon", Region: "Lisbon", Country: "Portugal", CountryCode: "PT"}
)

// probe is the address the reload tests watch change answers.
var probe = netip.MustParseAddr("203.0.113.10")

// writeTestDB writes a City-schema database of the given type to path,
// mapping 203.0.113.0/24 to loc.
func writeTestDB(t testing.TB, path, dbType string, loc Location) {
	t.Helper()
	nets := []DemoNetwork{{Prefix: netip.MustParsePrefix("203.0.113.0/24"), Location: loc}}
	if err := writeDB(path, dbType, nets); err != nil {
		t.Fatal(err)
	}
}

// writeFile writes data to a temporary name beside path and renames it over
// path, the way geoipupdate replaces a database.
func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), "incoming.tmp")
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// garbage is deterministic junk that is not a MaxMind DB.
func garbage() []byte {
	b := make([]byte, 4096)
	for i := range b {
		b[i] = byte(i*131 + 7)
	}
	return b
}

func openDemo(t testing.TB) (*Resolver, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "demo.mmdb")
	if err := WriteDemoDB(path); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r, path
}

// eventually polls cond until it holds, failing after a generous deadline.
// The deadline only bounds a hung test; nothing asserts how fast cond holds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// logBuffer collects slog output from concurrently running goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, nil))
}

// startWatch runs Watch until the test ends and checks that it returns.
func startWatch(t *testing.T, r *Resolver, every time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.Watch(ctx, every)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("Watch did not return after its context was cancelled")
		}
	})
}
