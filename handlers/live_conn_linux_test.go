package handlers

import (
	"bufio"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"portal/store"
)

// A browser that stops reading costs the server a bounded send buffer
// and is dropped soon after that fills; one whose window stays shut is
// dropped by the kernel after the unacknowledged time (TCP_USER_TIMEOUT),
// whatever the write stall.
func TestLiveBoundsAPeerThatNeverReads(t *testing.T) {
	for _, tc := range []struct {
		name       string
		rcvbuf     int // the peer's receive buffer; 0 for the system's
		heartbeat  time.Duration
		stall      time.Duration
		queueBound int           // most the server may hold unsent or unacknowledged
		dropBound  time.Duration // from the peer's window shutting to the stream's end
	}{
		// The write stall drops it: its send buffer fills in a round.
		{name: "stops reading", stall: time.Second, queueBound: 64 << 10, dropBound: time.Second + 5*time.Second},
		// TCP_USER_TIMEOUT drops it; the stall would take an hour.
		{name: "keeps its window shut", rcvbuf: 2048, heartbeat: time.Second, stall: time.Hour,
			queueBound: 64 << 10, dropBound: 2*time.Second + 5*time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(c *Config) { c.LiveWriteStall, c.LiveHeartbeat = tc.stall, tc.heartbeat })
			base := e.listen()
			u := e.user(store.RoleClientStaff, "silent@client.example")
			b := e.sessionAs(u, uaFirefox, "203.0.113.10")
			conn := openSilentStream(t, e, base, b, tc.rcvbuf)
			defer conn.Close()
			uu, _ := url.Parse(base)
			server, client := uu.Host, conn.LocalAddr().String()

			var most int
			var shut time.Time // when the server first held bytes the peer had not taken
			floodUntilDropped(t, e, u, b.currentID(), func() {
				q, ok := sendQueue(t, server, client)
				most = max(most, q)
				if ok && q > 0 && shut.IsZero() {
					shut = time.Now()
				}
			})
			took := time.Since(shut)
			t.Logf("dropped %s after the server first held unread bytes; it held at most %d bytes", took.Round(time.Millisecond), most)
			if shut.IsZero() {
				t.Fatal("the server never held bytes for the peer: the flood did not fill its window")
			}
			if most > tc.queueBound {
				t.Errorf("the server held %d bytes for a peer that never read, want at most %d", most, tc.queueBound)
			}
			if took > tc.dropBound {
				t.Errorf("dropped %s after its window shut, want within %s", took, tc.dropBound)
			}
			// The server closed the socket: the peer reads what it was
			// sent, then the end (a reset, once the kernel gave up).
			conn.SetReadDeadline(time.Now().Add(eventWait))
			n, err := bufio.NewReader(conn).WriteTo(discard{})
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatalf("the socket stayed open after the stream was dropped (read %d bytes)", n)
			}
		})
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// sendQueue is how many bytes the server's end of the connection from
// client to server holds unsent or unacknowledged (tx_queue in
// /proc/net/tcp); ok is false once the socket is gone.
func sendQueue(t *testing.T, server, client string) (n int, ok bool) {
	t.Helper()
	f, err := os.Open("/proc/self/net/tcp")
	if err != nil {
		t.Skipf("no /proc/net/tcp: %v", err)
	}
	defer f.Close()
	local, remote := procAddr(t, server), procAddr(t, client)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 || fields[1] != local || fields[2] != remote {
			continue
		}
		tx, _, _ := strings.Cut(fields[4], ":")
		q, err := strconv.ParseInt(tx, 16, 64)
		if err != nil {
			t.Fatalf("tx_queue %q: %v", fields[4], err)
		}
		return int(q), true
	}
	return 0, false
}

// procAddr is an IPv4 address as /proc/net/tcp writes it: the address as
// a little-endian hex word, a colon, the port in hex.
func procAddr(t *testing.T, hostport string) string {
	t.Helper()
	ap, err := net.ResolveTCPAddr("tcp4", hostport)
	if err != nil {
		t.Fatal(err)
	}
	ip := ap.IP.To4()
	return fmt.Sprintf("%02X%02X%02X%02X:%04X", ip[3], ip[2], ip[1], ip[0], ap.Port)
}

// A peer whose window stays shut while its stream has nothing more to send
// (a vanished peer's stream waits the same way, on bytes nobody
// acknowledges) is let go within two heartbeats: the kernel gives up on
// the bytes before the next heartbeat, whose write then fails.
func TestLiveLetsGoOfAnIdlePeerWithinTwoHeartbeats(t *testing.T) {
	const heartbeat = 2 * time.Second
	e := newEnv(t, func(c *Config) { c.LiveWriteStall, c.LiveHeartbeat = time.Hour, heartbeat })
	base := e.listen()
	u := e.user(store.RoleClientStaff, "gone@client.example")
	b := e.sessionAs(u, uaFirefox, "203.0.113.10")
	conn := openSilentStream(t, e, base, b, 2048)
	defer conn.Close()
	uu, _ := url.Parse(base)
	// Sign-ins until the server holds more than the peer's whole receive
	// buffer (2 KiB, which the kernel doubles): then its window is shut,
	// not merely slow to acknowledge on a loaded machine (a queue that was
	// only in flight once passed for shut and was acknowledged, and
	// nothing was dropped). Far less than the server's send buffer, so
	// no write waits.
	const held = 8 << 10
	for i := 0; ; i++ {
		if q, _ := sendQueue(t, uu.Host, conn.LocalAddr().String()); q >= held {
			break
		}
		if i == 100 {
			t.Fatalf("100 sign-ins later the server holds less than %d bytes for the peer", held)
		}
		e.sessionAs(u, uaChrome, "198.51.100.140")
	}
	shut := time.Now()
	waitFor(t, "the stream to be dropped", func() bool { return e.hub.Len() == 0 })
	took := time.Since(shut)
	t.Logf("dropped %s after the peer's window shut (heartbeat %s)", took.Round(time.Millisecond), heartbeat)
	if bound := 2*heartbeat + 3*time.Second; took > bound {
		t.Fatalf("dropped %s after the peer's window shut, want within two heartbeats (%s, with slack)", took, bound)
	}
}
