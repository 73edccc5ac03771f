// Package adminsocktest is a stand-in for tests of the admin socket: a
// squatter, another program listening on the socket's path.
package adminsocktest

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"
)

// Squatter is another program listening on the admin socket's path: a fake
// server that answers "success" to everything and records every byte it is
// sent.
type Squatter struct {
	ln     net.Listener
	mu     sync.Mutex
	conns  int
	got    bytes.Buffer
	backup []byte
}

// StartSquatter listens on path and serves backup as the database copy;
// t.Cleanup stops it.
func StartSquatter(t testing.TB, path string, backup []byte) *Squatter {
	t.Helper()
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	q := &Squatter{ln: ln, backup: backup}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /command", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"code":0,"stdout":"Changed the password.\n"}`)
	})
	mux.HandleFunc("GET /backup", func(w http.ResponseWriter, r *http.Request) {
		q.mu.Lock()
		body := q.backup
		q.mu.Unlock()
		w.Write(body)
	})
	go http.Serve(q, mux)
	t.Cleanup(func() { ln.Close() })
	return q
}

// SetBackup makes backup what the squatter serves as the database copy.
func (q *Squatter) SetBackup(backup []byte) {
	q.mu.Lock()
	q.backup = backup
	q.mu.Unlock()
}

// Accept records each connection and what is read from it.
func (q *Squatter) Accept() (net.Conn, error) {
	c, err := q.ln.Accept()
	if err != nil {
		return nil, err
	}
	q.mu.Lock()
	q.conns++
	q.mu.Unlock()
	return recordingConn{c, q}, nil
}

// Close stops listening; closing unlinks the socket.
func (q *Squatter) Close() error { return q.ln.Close() }

// Addr is the socket's address.
func (q *Squatter) Addr() net.Addr { return q.ln.Addr() }

// Received is how many connections were made and what was sent on them.
func (q *Squatter) Received() (int, string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.conns, q.got.String()
}

// WantNothingSent fails if anything reached the squatter: a connection
// refused after SO_PEERCRED is allowed, a single byte is not.
func (q *Squatter) WantNothingSent(t testing.TB, allowConn bool) {
	t.Helper()
	// The server side of a refused connection sees EOF a moment later.
	time.Sleep(50 * time.Millisecond)
	conns, got := q.Received()
	if got != "" || conns > 0 && !allowConn {
		t.Fatalf("the squatter got %d connections and %q", conns, got)
	}
}

type recordingConn struct {
	net.Conn
	q *Squatter
}

func (c recordingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.q.mu.Lock()
	c.q.got.Write(p[:n])
	c.q.mu.Unlock()
	return n, err
}
