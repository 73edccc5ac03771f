package postgres

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"portal/internal/pgtest"
	"portal/store"
)

// Two instances on one database accept a code of one time step once
// between them, one after the other or released together: the step is
// checked and moved in one statement, not from either instance's memory.
func TestCodeReplayAcrossInstances(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDB(t)
	a := mustOpenURL(t, url, Options{})
	b := mustOpenURL(t, url, Options{})
	u := mustUser(t, a, store.RoleClientStaff)
	if err := a.EnableTwoStep(u.ID, store.Actor{}, []byte("12345678901234567890"), []string{"ONE", "TWO"}); err != nil {
		t.Fatal(err)
	}
	if err := a.AcceptCode(u.ID, 100); err != nil {
		t.Fatal(err)
	}
	if err := b.AcceptCode(u.ID, 100); !errors.Is(err, store.ErrCodeUsed) {
		t.Errorf("the same step on the other instance: %v, want ErrCodeUsed", err)
	}
	start := make(chan struct{})
	var codes, recoveries atomic.Int64
	var wg sync.WaitGroup
	for i := range 16 {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() {
			<-start
			if err := s.AcceptCode(u.ID, 200); err == nil {
				codes.Add(1)
			} else if !errors.Is(err, store.ErrCodeUsed) {
				t.Errorf("AcceptCode: %v", err)
			}
			if _, err := s.UseRecoveryCode(u.ID, "two"); err == nil {
				recoveries.Add(1)
			} else if !errors.Is(err, store.ErrCodeUsed) {
				t.Errorf("UseRecoveryCode: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	if codes.Load() != 1 || recoveries.Load() != 1 {
		t.Errorf("accepted %d codes and %d recovery codes of 16 parallel uses across two instances, want 1 and 1", codes.Load(), recoveries.Load())
	}
}
