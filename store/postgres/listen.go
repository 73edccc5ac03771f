package postgres

import (
	"context"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"

	"portal/store"
)

// channel is the notification channel of revocations. Every transaction
// that ends, changes or deletes sessions sends the token hashes it
// touched (hex, comma-separated) with pg_notify; PostgreSQL delivers them
// when, and only if, the transaction commits.
const channel = "portal_sessions"

// hashesPerNotify keeps a payload under PostgreSQL's 8000-byte limit.
const hashesPerNotify = 100

// hashPayloads encodes hashes as payloads for channel: hex,
// comma-separated, hashesPerNotify at most in each.
func hashPayloads(hashes []store.TokenHash) []string {
	var out []string
	for len(hashes) > 0 {
		n := min(len(hashes), hashesPerNotify)
		parts := make([]string, n)
		for i, h := range hashes[:n] {
			parts[i] = hex.EncodeToString(h[:])
		}
		out = append(out, strings.Join(parts, ","))
		hashes = hashes[n:]
	}
	return out
}

// usersChannel names the users whose kept sessions list and activity
// version are stale (effects.staleUsers): their ids, comma-separated, or
// everyUser.
const usersChannel = "portal_users"

// everyUser is the usersChannel payload that names every user.
const everyUser = "*"

// userPayloads encodes user ids as payloads for usersChannel, each under
// maxPayload bytes.
func userPayloads(ids []string) []string {
	var out []string
	var b strings.Builder
	for _, id := range ids {
		if b.Len() > 0 && b.Len()+1+len(id) > maxPayload {
			out = append(out, b.String())
			b.Reset()
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(id)
	}
	if b.Len() > 0 {
		out = append(out, b.String())
	}
	return out
}

// parsePayload reads a hashPayloads payload, skipping anything malformed.
func parsePayload(p string) []store.TokenHash {
	var out []store.TokenHash
	for part := range strings.SplitSeq(p, ",") {
		var h store.TokenHash
		if b, err := hex.DecodeString(part); err == nil && len(b) == len(h) {
			copy(h[:], b)
			out = append(out, h)
		}
	}
	return out
}

// cacheHook is how the listener tells the session cache (store.Core)
// what other instances' commits made stale, and whether it can hear them.
type cacheHook interface {
	Forget(hashes ...store.TokenHash)
	ForgetUsers(ids ...string)
	ForgetAllUsers()
	SetTrusted(trusted bool)
}

// listener holds one connection of its own that LISTENs on channel and
// changesChannel: it drops each notified session from the cache, and
// hands the changes other instances committed to this one's Notifier.
// While it is not listening the cache is not trusted
// (store.Core.SetTrusted); it reconnects by itself.
type listener struct {
	cache  cacheHook
	acks   *acks
	hear   func(payload string) // a changesChannel payload
	missed func()               // called on listening again after an outage
	// imported is called when an import replaced the data.
	imported func()
	// listened: it has listened before (only run's goroutine uses it).
	listened bool
	cfg      *pgconn.Config
	cancel   context.CancelFunc
	done     chan struct{}
	up       chan struct{} // closed the first time it listens
	upOnce   sync.Once
	pid      atomic.Uint32 // backend of the listening connection; 0 while down
}

// checkEvery is how long the listener waits for a notification before it
// checks that its connection still answers: a connection cut without a
// word (a network partition) is otherwise noticed only by TCP.
const checkEvery = 5 * time.Second

func startListener(s *Store, connCfg pgconn.Config) *listener {
	cfg := connCfg.Copy()
	if s.opts.listenerDial != nil {
		cfg.DialFunc = s.opts.listenerDial
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &listener{cache: s.Core, acks: s.acks, hear: s.hear, missed: s.missedChanges, imported: func() { go s.reloadCSRFKey() }, cfg: cfg, cancel: cancel, done: make(chan struct{}), up: make(chan struct{})}
	// Called in the order the notifications were sent: a transaction's
	// hashes before its changes (effects.finishTx).
	cfg.OnNotification = func(_ *pgconn.PgConn, n *pgconn.Notification) {
		switch n.Channel {
		case channel:
			if strings.HasPrefix(n.Payload, ackPrefix) {
				l.acks.requested(n.Payload)
			} else {
				l.cache.Forget(parsePayload(n.Payload)...)
			}
		case acksChannel:
			l.acks.heard(n.Payload)
		case usersChannel:
			if n.Payload == everyUser {
				l.cache.ForgetAllUsers()
				l.imported()
			} else {
				l.cache.ForgetUsers(strings.Split(n.Payload, ",")...)
			}
		case changesChannel:
			l.hear(n.Payload)
		}
	}
	// A deadline, not a cancel request, ends a wait: a wait that times
	// out leaves the connection usable, and no cancel request can land
	// on the check that follows.
	cfg.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.DeadlineContextWatcherHandler{Conn: c.Conn()}
	}
	go l.run(ctx)
	return l
}

func (l *listener) run(ctx context.Context) {
	defer close(l.done)
	const minBackoff = 50 * time.Millisecond
	backoff := minBackoff
	for ctx.Err() == nil {
		err := l.listen(ctx)
		wasUp := l.pid.Swap(0) != 0
		l.cache.SetTrusted(false)
		if ctx.Err() != nil {
			return
		}
		if wasUp { // logged once per outage, not once per retry
			backoff = minBackoff
			slog.Warn("store: not listening for revocations; sessions are read from PostgreSQL until it is back", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 2*time.Second)
	}
}

// listen connects, LISTENs, trusts the cache and waits for notifications
// until the connection fails or ctx ends.
func (l *listener) listen(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := pgconn.ConnectConfig(cctx, l.cfg)
	cancel()
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	// Named only once it listens: an instance that revokes waits for the
	// listeners it sees named (acks.go).
	if _, err := conn.Exec(ctx, "LISTEN "+channel+"; LISTEN "+usersChannel+"; LISTEN "+changesChannel+"; LISTEN "+acksChannel+
		"; SET application_name = '"+listenerApp+l.acks.instance+"'").ReadAll(); err != nil {
		return err
	}
	// From here every revocation that commits reaches us.
	l.pid.Store(conn.PID())
	l.cache.SetTrusted(true)
	l.upOnce.Do(func() { close(l.up) })
	if l.listened {
		// Other instances' changes of the outage were not heard: live
		// pages re-read what they show (revokes were refused all along).
		l.missed()
	}
	l.listened = true
	for {
		wctx, cancel := context.WithTimeout(ctx, checkEvery)
		err := conn.WaitForNotification(wctx)
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err == nil {
			continue
		}
		var nerr net.Error
		if !pgconn.Timeout(err) && !(errors.As(err, &nerr) && nerr.Timeout()) || conn.IsClosed() {
			return err
		}
		pctx, cancel := context.WithTimeout(ctx, checkEvery)
		err = conn.Ping(pctx)
		cancel()
		if err != nil {
			return err
		}
	}
}

// waitUp waits until the listener first listens, or ctx ends.
func (l *listener) waitUp(ctx context.Context) error {
	select {
	case <-l.up:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stop ends the listener and waits for it.
func (l *listener) stop() {
	l.cancel()
	<-l.done
}
