package activity

import (
	"portal/store"
)

// Store is what StoreLookup reads: a user's sessions and any user's name
// and account.
// store.Backend is one.
type Store interface {
	UserSession(userID, sessionID string) (store.Session, error)
	UserSessionsByID(userID string, ids []string) (map[string]store.Session, error)
	UserByID(id string) (store.User, error)
}

// StoreLookup answers for one user's log from the store: only that user's
// own sessions (another user's session id is unknown), and any user's
// name and account. Each answer is read once; use one per page. It is a Prefetcher:
// Describer.Prefetch reads a page's sessions in one transaction.
func StoreLookup(st Store, userID string) Lookup {
	return &storeLookup{st: st, userID: userID, sessions: map[string]session{}, users: map[string]user{}}
}

type session struct {
	s  store.Session
	ok bool
}

// user is what a sentence says of a user who acted.
type user struct {
	name, accountID string
	ok              bool
}

type storeLookup struct {
	st       Store
	userID   string
	sessions map[string]session
	users    map[string]user
}

func (l *storeLookup) Session(id string) (store.Session, bool) {
	if x, seen := l.sessions[id]; seen {
		return x.s, x.ok
	}
	s, err := l.st.UserSession(l.userID, id)
	x := session{s: s, ok: err == nil}
	l.sessions[id] = x
	return x.s, x.ok
}

// Prefetch reads the sessions of ids not yet asked for, in one store
// call; those that are not the user's are remembered as unknown.
func (l *storeLookup) Prefetch(ids []string) {
	var want []string
	for _, id := range ids {
		if _, seen := l.sessions[id]; !seen {
			want = append(want, id)
		}
	}
	if len(want) == 0 {
		return
	}
	found, err := l.st.UserSessionsByID(l.userID, want)
	if err != nil {
		return // Session reads them one by one, and says what fails
	}
	for _, id := range want {
		s, ok := found[id]
		l.sessions[id] = session{s: s, ok: ok}
	}
}

func (l *storeLookup) User(id string) (name, accountID string, ok bool) {
	x, seen := l.users[id]
	if !seen {
		u, err := l.st.UserByID(id)
		x = user{name: u.Name, accountID: u.AccountID, ok: err == nil}
		l.users[id] = x
	}
	return x.name, x.accountID, x.ok
}
