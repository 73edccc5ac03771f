package bolt

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"portal/store"
)

func TestBackupWhileInUse(t *testing.T) {
	s := MustOpen(t, Options{Policy: testPolicy})
	var users []store.User
	for _, r := range store.Roles {
		users = append(users, mustUser(t, s, r))
	}
	u := users[0]
	_, firstTok := mustSession(t, s, u.ID, store.NewSession{})

	// Sign-ins, validations and flushes go on during the backups.
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var createErr error
	var made atomic.Int64
	exited := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(exited)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			_, tok, err := s.CreateSession(u.ID, store.NewSession{UserAgent: "backup test"})
			if err != nil {
				createErr = err
				return
			}
			made.Add(1)
			s.sessionFor(tok)
			if i%5 == 0 {
				s.FlushLastActive()
			}
		}
	}()

	dir := t.TempDir()
	var paths []string
	for i := range 5 {
		// Let a few sign-ins happen between backups, so that each one
		// copies a different state while writes go on.
	wait:
		for want := made.Load() + 5; made.Load() < want; {
			select {
			case <-exited:
				break wait
			default:
				runtime.Gosched()
			}
		}
		path := filepath.Join(dir, "backup"+string(rune('a'+i))+".db")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		n, err := s.Backup(f)
		if err != nil {
			t.Fatalf("Backup: %v", err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(path); err != nil || fi.Size() != n {
			t.Fatalf("Backup reported %d bytes, file has %v (%v)", n, fi.Size(), err)
		}
		paths = append(paths, path)
	}
	close(stop)
	wg.Wait()
	if createErr != nil {
		t.Fatalf("CreateSession during backup: %v", createErr)
	}
	live, err := s.ListUserSessions(u.ID)
	if err != nil {
		t.Fatal(err)
	}

	prev := 0
	for _, path := range paths {
		b := mustOpenPath(t, path, Options{Policy: testPolicy})
		mustCheck(t, b)
		for _, want := range users {
			got, err := b.UserByEmail(want.Email)
			if err != nil || got.ID != want.ID || got.Role != want.Role {
				t.Errorf("%s: user %s: %+v, %v", filepath.Base(path), want.Email, got, err)
			}
		}
		if !bytes.Equal(b.CSRFKey(), s.CSRFKey()) {
			t.Errorf("%s: the CSRF key was not backed up", filepath.Base(path))
		}
		wantLive(t, b, firstTok)
		sessions, err := b.ListUserSessions(u.ID)
		if err != nil {
			t.Fatal(err)
		}
		// Later backups hold at least as many sessions as earlier ones,
		// and none holds more than the live store.
		if len(sessions) < prev || len(sessions) > len(live) {
			t.Errorf("%s: %d sessions; previous backup had %d, store has %d", filepath.Base(path), len(sessions), prev, len(live))
		}
		prev = len(sessions)
	}
}

func TestBackupToBuffer(t *testing.T) {
	s := MustOpen(t, Options{})
	u := mustUser(t, s, store.RoleClientAdmin)
	var buf bytes.Buffer
	n, err := s.Backup(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(buf.Len()) || n == 0 {
		t.Fatalf("Backup reported %d bytes, wrote %d", n, buf.Len())
	}
	path := filepath.Join(t.TempDir(), "copy.db")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	b := mustOpenPath(t, path, Options{})
	mustCheck(t, b)
	if _, err := b.UserByID(u.ID); err != nil {
		t.Fatal(err)
	}
}

type failWriter struct{ after int }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.after <= 0 {
		return 0, os.ErrClosed
	}
	w.after--
	return len(p), nil
}

func TestBackupWriteError(t *testing.T) {
	s := MustOpen(t, Options{})
	mustUser(t, s, store.RoleClientAdmin)
	if _, err := s.Backup(&failWriter{after: 1}); err == nil {
		t.Fatal("Backup to a failing writer succeeded")
	}
	mustCheck(t, s) // the store is unaffected
}
