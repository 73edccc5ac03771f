package handlers

import (
	"net"
	"time"

	"golang.org/x/sys/unix"
)

// Part of the live-update plumbing: live.go says where each piece is.

// tuneLiveConn bounds what a stream's connection may hold for a peer that
// does not take it. The send buffer is fixed at liveSendBuffer (the kernel
// doubles it for its bookkeeping) instead of growing to tcp_wmem's maximum,
// so a peer that stops reading fills it within a few events and the next
// write stalls (and is dropped after writeStall). TCP_USER_TIMEOUT makes
// the kernel abort the connection once data has gone unacknowledged, or
// the peer's window has stayed shut, for unacked: a peer that vanished
// without a FIN or a reset is let go when the heartbeat after that fails,
// not after TCP's own retries (about 15 minutes).
//
// Connections other than TCP (a Unix socket behind a proxy, say) are left
// as they are.
func tuneLiveConn(conn net.Conn, unacked time.Duration) error {
	if nc, ok := conn.(interface{ NetConn() net.Conn }); ok {
		conn = nc.NetConn()
	}
	tc, ok := conn.(*net.TCPConn)
	if !ok {
		return nil
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	err = raw.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUF, liveSendBuffer)
		if serr == nil {
			serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT, int(unacked.Milliseconds()))
		}
	})
	if err != nil {
		return err
	}
	return serr
}
