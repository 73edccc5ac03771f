package postgres

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// A notification reaches the other instances a moment after the commit,
// so without more a request that reaches instance B just after instance A
// answered a revoke could still find the session in B's cache. So a
// transaction that makes sessions stale also asks every instance to
// confirm it has dropped them, and A answers once they all have:
//
//   - a listener, once it LISTENs, names itself listenerApp+instance in
//     application_name, which pg_stat_activity shows to every role;
//   - the transaction reads that list before it commits (in finishTx's
//     statement, so no extra round trip), and its last notification on
//     channel is ackPrefix+id. Every listener listed was listening before
//     the commit, so it hears that last notification, after the hashes;
//   - each other instance, having dropped them, sends id and its own name
//     on acksChannel; write waits for every listed instance, at most
//     ackWait (an instance that went away meanwhile does not answer;
//     its cache is not trusted anyway), and logs the ones that did not.
const (
	acksChannel = "portal_acks"
	ackPrefix   = "ack:"
	listenerApp = "portal-listener "
	ackWait     = time.Second
)

// acks keeps the confirmations this instance waits for and sends the
// ones others wait for.
type acks struct {
	instance string
	seq      atomic.Uint64
	mu       sync.Mutex
	waiting  map[string]*ackWaiter // by id
	send     chan string           // confirmations to send
	missed   atomic.Int64          // waits that ended without every confirmation
}

// ackWaiter is one transaction waiting for confirmations.
type ackWaiter struct {
	need map[string]bool // instances yet to confirm
	done chan struct{}   // closed when need is empty
}

func newAcks(instance string) *acks {
	return &acks{instance: instance, waiting: make(map[string]*ackWaiter), send: make(chan string, 1024)}
}

// newID is the id of a transaction's request: this instance's name and a
// sequence number.
func (a *acks) newID() string {
	return a.instance + "." + strconv.FormatUint(a.seq.Add(1), 10)
}

// expect registers id as waiting for the listeners named in apps
// (application names from pg_stat_activity) other than this instance's.
// It returns nil when there are none.
func (a *acks) expect(id string, apps []string) *ackWaiter {
	w := &ackWaiter{need: make(map[string]bool), done: make(chan struct{})}
	for _, app := range apps {
		if name, ok := strings.CutPrefix(app, listenerApp); ok && name != a.instance {
			w.need[name] = true
		}
	}
	if len(w.need) == 0 {
		return nil
	}
	a.mu.Lock()
	a.waiting[id] = w
	a.mu.Unlock()
	return w
}

// heard takes an acksChannel payload: "id instance".
func (a *acks) heard(payload string) {
	id, from, ok := strings.Cut(payload, " ")
	if !ok || !strings.HasPrefix(id, a.instance+".") {
		return // another instance's
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	w := a.waiting[id]
	if w == nil || !w.need[from] {
		return
	}
	delete(w.need, from)
	if len(w.need) == 0 {
		close(w.done)
	}
}

// wait waits for w's confirmations, at most ackWait, and stops waiting.
func (a *acks) wait(id string, w *ackWaiter) {
	t := time.NewTimer(ackWait)
	defer t.Stop()
	select {
	case <-w.done:
	case <-t.C:
	}
	a.mu.Lock()
	delete(a.waiting, id)
	var missing []string
	for name := range w.need {
		missing = append(missing, name)
	}
	a.mu.Unlock()
	if len(missing) > 0 {
		a.missed.Add(1)
		slog.Warn("store: instances did not confirm in time that they dropped revoked sessions; answering anyway", "instances", missing, "waited", ackWait)
	}
}

// drop stops waiting for id without a word: its transaction did not
// commit.
func (a *acks) drop(id string) {
	a.mu.Lock()
	delete(a.waiting, id)
	a.mu.Unlock()
}

// requested takes an ackPrefix payload heard on channel, after the
// hashes before it were dropped, and queues the confirmation if another
// instance asked.
func (a *acks) requested(payload string) {
	id := strings.TrimPrefix(payload, ackPrefix)
	if strings.HasPrefix(id, a.instance+".") {
		return
	}
	select {
	case a.send <- id + " " + a.instance:
	default: // full: the asker stops waiting after ackWait
	}
}

// sender sends queued confirmations, as many as are waiting in one
// statement, on s's pool, until ctx ends.
func (a *acks) sender(ctx context.Context, s *Store, done chan<- struct{}) {
	defer close(done)
	for {
		var batch []string
		select {
		case <-ctx.Done():
			return
		case p := <-a.send:
			batch = append(batch, p)
		}
	more:
		for len(batch) < 100 {
			select {
			case p := <-a.send:
				batch = append(batch, p)
			default:
				break more
			}
		}
		qctx, cancel := context.WithTimeout(ctx, ackWait)
		_, err := s.pool.Exec(qctx, "SELECT count(pg_notify($1, p)) FROM unnest($2::text[]) AS p", acksChannel, batch)
		cancel()
		if err != nil && ctx.Err() == nil {
			slog.Warn("store: could not confirm dropping revoked sessions to the other instances", "err", err)
		}
	}
}
