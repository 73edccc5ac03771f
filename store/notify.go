package store

// ChangeKind says what happened to a user's sessions.
type ChangeKind uint8

const (
	// SessionStarted: a session was created (a sign-in).
	SessionStarted ChangeKind = iota + 1
	// SessionEnded: a session was revoked (by anyone, for any reason,
	// the session cap included).
	SessionEnded
	// UserChanged: the user's password or enabled state changed; what was
	// authorised before may no longer be.
	UserChanged
	// ChangesMissed: changes may have been committed that this process
	// was not told of (another instance's, while it could not hear them):
	// whoever shows sessions reads everything again. UserID is empty.
	ChangesMissed
)

// Change is one committed change to a user's sessions, as the Notifier
// hears of it. It holds ids and a reason code, never a token.
type Change struct {
	Kind      ChangeKind
	UserID    string
	SessionID string // "" for UserChanged
	Reason    Reason // why a session ended; "" otherwise
}

// Notifier hears of every committed change to sessions, after the commit
// and after the store's caches have forgotten what the change made stale,
// so a listener that reads the store on hearing of a change reads the
// change. Publish is called on the writer's goroutine and must not block.
// Expiries are not published: nothing is written when a session expires,
// so listeners that care keep their own timers (Session.ExpiresAt).
type Notifier interface {
	Publish(changes []Change)
}
