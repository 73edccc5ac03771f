package bolt

import (
	"path/filepath"
	"testing"

	"portal/store"
	"portal/store/storetest"
)

// TestConformance holds the bbolt store to the expectations every
// store.Backend meets (store/storetest).
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, o storetest.Options) store.Backend {
		s, err := Open(filepath.Join(t.TempDir(), "portal.db"), Options{
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
