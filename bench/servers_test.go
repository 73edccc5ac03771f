package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"portal/store/bolt"
)

// The benchmark's portal is the server's: its flush loop writes a request's
// last-active time and the portal counts that flush, as the flushes
// column reports; -hub=false serves no live updates, and the default does.
func TestPortalIsTheServer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "portal.db")
	st, err := bolt.Open(path, storeOptions())
	if err != nil {
		t.Fatal(err)
	}
	s, err := newSeeder(st, testLocator(t), testPasswordHash)
	if err != nil {
		t.Fatal(err)
	}
	_, others, err := s.userSessions(1, fewSessions)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	stale := others[0][0] // last active minutes ago: a request moves it on

	log, err := newLogger("discard")
	if err != nil {
		t.Fatal(err)
	}
	for _, hub := range []bool{true, false} {
		p, err := startPortal(path, testGeoDB(t), log, portalOptions{Flush: 10 * time.Millisecond, NoHub: !hub})
		if err != nil {
			t.Fatal(err)
		}
		w0 := p.srv.Store().WriteTxCount() // opening the store writes once
		if _, err := checkPage(p.base, stale, true, fewSessions); err != nil {
			t.Errorf("hub %v: %v", hub, err)
		}
		stream, err := dialStream(strings.TrimPrefix(p.base, "http://"), cookieOf(stale))
		if hub && err != nil {
			t.Errorf("no live-updates stream from a portal with the hub: %v", err)
		} else if !hub && err == nil {
			t.Errorf("-hub=false: the portal serves a live-updates stream")
		}
		if stream != nil {
			stream.conn.Close()
		}
		if hub {
			// The first portal's request is the only one that moves the
			// session: the second sees it active a moment ago.
			for deadline := time.Now().Add(5 * time.Second); p.srv.Flushes() == 0; time.Sleep(5 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Errorf("no flush counted in 5s of a 10ms flush interval after a request")
					break
				}
			}
			if n, w := p.srv.Flushes(), p.srv.Store().WriteTxCount()-w0; n != 1 || w != n {
				t.Errorf("%d flushes counted, %d write transactions since the start; want 1 of each", n, w)
			}
		}
		if err := p.close(); err != nil {
			t.Errorf("hub %v: shut down: %v", hub, err)
		}
	}
}
