package server

import (
	"context"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"testing"
	"time"

	"portal/store"
	"portal/store/bolt"
)

// The running server's sweeper deletes security activity older than
// -activity-retention: the loop, not only the store call it makes.
func TestSweepLoopDeletesOldActivity(t *testing.T) {
	path := filepath.Join(t.TempDir(), "portal.db")
	past := time.Now().Add(-100 * 24 * time.Hour)
	st, err := bolt.Open(path, bolt.Options{Now: func() time.Time { return past }})
	if err != nil {
		t.Fatal(err)
	}
	a, err := st.CreateAccount("Northwind Traders", store.AccountClient)
	if err != nil {
		t.Fatal(err)
	}
	u, err := st.CreateUser(store.NewUser{AccountID: a.ID, Email: "old@example.com", Name: "Old", Role: store.RoleClientStaff, PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.CreateSession(u.ID, store.NewSession{}); err != nil { // signed in 100 days ago
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	cfg, err := ParseConfig([]string{"-db", path, "-activity-retention", "90d"}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listener, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	srv, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	// A condition, not a clock: the sweep runs at start; the bound only
	// turns a sweeper that never deletes into a failure instead of a hang.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		p, err := srv.Store().UserEvents(u.ID, store.EventQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if p.Total == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sweeper left %d events older than the retention", p.Total)
		}
	}
}
