//go:build !linux

package handlers

import (
	"net"
	"time"
)

// Part of the live-update plumbing: live.go says where each piece is.

// tuneLiveConn is Linux's only (live_conn_linux.go): elsewhere a stream's
// connection keeps the system's buffers, a peer that stops reading is
// dropped once they fill and a write stalls, and a vanished peer once TCP
// gives up.
func tuneLiveConn(net.Conn, time.Duration) error { return nil }
