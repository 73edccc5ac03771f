package postgres_test

import (
	"context"
	"testing"

	"portal/internal/pgtest"
	"portal/store"
	"portal/store/postgres"
	"portal/store/storetest"
)

// TestConformance holds the PostgreSQL store to the expectations every
// store.Backend meets (store/storetest), each test on a database of its
// own.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, o storetest.Options) store.Backend {
		s, err := postgres.Open(context.Background(), pgtest.NewDB(t), postgres.Options{
			Policy: o.Policy, MaxSessionsPerUser: o.MaxSessionsPerUser, Now: o.Now, Notifier: o.Notifier,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		return s
	})
}
