package adminsock

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"portal/adminsock/adminsocktest"
)

// TestAdminPeerCredentials checks SO_PEERCRED on real Unix sockets, with
// the trusted uid made different from the test's own (a test cannot become
// another user): the server closes a connection from an untrusted uid
// before reading it, and the CLI hangs up on an untrusted listener, or
// one whose socket file an untrusted uid owns, before writing a byte.
func TestAdminPeerCredentials(t *testing.T) {
	me := uint32(os.Geteuid())
	other := func(uid uint32) bool { return uid == me+1 }

	t.Run("server", func(t *testing.T) {
		for _, c := range []struct {
			name    string
			allowed func(uint32) bool
			served  bool
		}{{"untrusted peer", other, false}, {"own uid", ownOrRoot, true}} {
			ln, err := net.Listen("unix", filepath.Join(t.TempDir(), "s.sock"))
			if err != nil {
				t.Fatal(err)
			}
			var logged bytes.Buffer
			var mu sync.Mutex
			var requests int
			go http.Serve(peerCheckedListener{ln, c.allowed, slog.New(slog.NewTextHandler(&logged, nil))}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				requests++
				mu.Unlock()
			}))
			conn, err := net.Dial("unix", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(conn, "GET / HTTP/1.1\r\nHost: portal\r\nConnection: close\r\n\r\n")
			conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			answer, _ := io.ReadAll(conn)
			conn.Close()
			ln.Close()
			mu.Lock()
			served := requests == 1 && strings.HasPrefix(string(answer), "HTTP/1.1 200")
			mu.Unlock()
			if served != c.served {
				t.Errorf("%s: served %v (answer %q); want %v", c.name, served, answer, c.served)
			}
			if want := fmt.Sprintf(`msg="admin socket: refused a connection from another user" uid=%d`, me); strings.Contains(logged.String(), want) == c.served {
				t.Errorf("%s: log %q; want %q only for the untrusted peer", c.name, logged.String(), want)
			}
		}
	})

	t.Run("client", func(t *testing.T) {
		db := filepath.Join(t.TempDir(), "portal.db")
		q := adminsocktest.StartSquatter(t, Path(db), nil)
		post := func(trusted func(uint32) bool) error {
			res, err := clientTrusting(db, trusted).Post("http://portal/command", "application/json", strings.NewReader(`{"args":["user","passwd"],"stdin":"c2VjcmV0Cg=="}`))
			if err == nil {
				res.Body.Close()
			}
			return err
		}

		// The socket file belongs to the test's uid, which is not trusted.
		var u *UntrustedError
		if err := post(other); !errors.As(err, &u) || !strings.Contains(u.why, fmt.Sprintf("it belongs to uid %d", me)) {
			t.Fatalf("socket owned by an untrusted uid: %v", err)
		}
		q.WantNothingSent(t, false)

		// The file passes, the listener does not: trust the file's owner
		// only for the first question dial asks.
		asked := 0
		fileOnly := func(uid uint32) bool { asked++; return asked == 1 && uid == me }
		if err := post(fileOnly); !errors.As(err, &u) || !strings.Contains(u.why, fmt.Sprintf("the process listening on it runs as uid %d", me)) {
			t.Fatalf("listener of an untrusted uid: %v", err)
		}
		q.WantNothingSent(t, true)

		if err := post(ownOrRoot); err != nil {
			t.Fatalf("own socket refused: %v", err)
		}
		if conns, got := q.Received(); conns != 2 || !strings.Contains(got, "c2VjcmV0Cg==") {
			t.Fatalf("the trusted request did not arrive: %d connections, %q", conns, got)
		}
	})
}
