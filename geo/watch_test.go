package geo

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const pollEvery = 20 * time.Millisecond

func TestWatchPicksUpReplacement(t *testing.T) {
	path := filepath.Join(t.TempDir(), "city.mmdb")
	writeTestDB(t, path, "GeoLite2-City", berlin)
	var logs logBuffer
	r, err := Open(path, logs.logger())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	startWatch(t, r, pollEvery)

	writeTestDB(t, path, "GeoLite2-City", paris) // temp file + rename, like geoipupdate
	eventually(t, "Watch to load the replacement", func() bool { return r.Lookup(probe) == paris })

	// A broken replacement is logged and the previous database keeps serving.
	writeFile(t, path, garbage())
	eventually(t, "Watch to log the failed reload", func() bool {
		return strings.Contains(logs.String(), "cannot be loaded")
	})
	if got := r.Lookup(probe); got != paris {
		t.Errorf("after broken replacement, Lookup = %+v, want %+v", got, paris)
	}
	if st := r.Status(); !strings.Contains(st, "last reload failed") {
		t.Errorf("Status() = %q, want it to mention the failed reload", st)
	}

	// The broken file is not retried on every tick, but a fixed one is loaded.
	writeTestDB(t, path, "GeoLite2-City", lisbon)
	eventually(t, "Watch to load the fixed replacement", func() bool { return r.Lookup(probe) == lisbon })
	if n := strings.Count(logs.String(), "cannot be loaded"); n != 1 {
		t.Errorf("failed reload logged %d times, want once\n%s", n, logs.String())
	}
}

// The server may start before geoipupdate has fetched the first database.
func TestWatchPicksUpLateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "city.mmdb")
	var logs logBuffer
	r, err := Open(path, logs.logger())
	if err == nil {
		t.Fatal("Open of missing file: want error")
	}
	defer r.Close()
	startWatch(t, r, pollEvery)

	eventually(t, "Watch to report the missing file", func() bool {
		return strings.Contains(logs.String(), "cannot check GeoIP database")
	})
	writeTestDB(t, path, "GeoLite2-City", berlin)
	eventually(t, "Watch to load the new file", func() bool { return r.Lookup(probe) == berlin })
	if n := strings.Count(logs.String(), "cannot check GeoIP database"); n != 1 {
		t.Errorf("missing file logged %d times, want once", n)
	}
}

func TestWatchReturns(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T) (*Resolver, context.Context)
	}{
		{"no path", func(t *testing.T) (*Resolver, context.Context) {
			r, _ := Open("", nil)
			return r, context.Background()
		}},
		{"nil resolver", func(t *testing.T) (*Resolver, context.Context) {
			return nil, context.Background()
		}},
		{"closed resolver", func(t *testing.T) (*Resolver, context.Context) {
			r, _ := openDemo(t)
			_ = r.Close()
			return r, context.Background()
		}},
		{"cancelled context", func(t *testing.T) (*Resolver, context.Context) {
			r, _ := openDemo(t)
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return r, ctx
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, ctx := tt.run(t)
			done := make(chan struct{})
			go func() {
				defer close(done)
				r.Watch(ctx, pollEvery)
			}()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("Watch did not return")
			}
		})
	}
}
