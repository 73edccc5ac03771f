package handlers

import (
	"portal/activity"
	"portal/store"
)

// endedSessions remembers sessions that have ended, for the sentences of
// Recently signed out and Security activity: once a session's end is
// recorded its record never changes again (the last-active flush skips it,
// a second revoke keeps the first reason), so a copy stays true until the
// sweeper deletes it, after which the copy only names the device of an
// event that still exists. Entries are keyed by user and session, so one
// user's lookup never finds another's session. Two generations bound it
// (see generations).
//
// views, the rendered Recently signed out and Security activity built
// from them, are kept here too, with the sessions they share a life with
// (see security_activity_cache.go).
type endedSessions struct {
	sessions *generations[endedKey, store.Session]
	views    *generations[viewKey, *activityView]
}

type endedKey struct{ user, session string }

// maxEndedSessions is the size of a generation: every ended session on
// the pages of a few hundred users.
const maxEndedSessions = 8192

func newEndedSessions(max int) *endedSessions {
	return &endedSessions{
		sessions: newGenerations[endedKey, store.Session](max, nil),
		views:    newGenerations[viewKey, *activityView](maxActivityViews, nil),
	}
}

// lookup is next, answering for ended sessions of userID from c.
func (c *endedSessions) lookup(userID string, next activity.Lookup) activity.Lookup {
	return &endedLookup{Lookup: next, user: userID, ended: c}
}

type endedLookup struct {
	activity.Lookup
	user  string
	ended *endedSessions
}

func (l *endedLookup) Session(id string) (store.Session, bool) {
	k := endedKey{l.user, id}
	if s, ok := l.ended.sessions.get(k); ok {
		return s, true
	}
	s, ok := l.Lookup.Session(id)
	if ok && !s.EndedAt.IsZero() {
		l.ended.sessions.put(k, s)
	}
	return s, ok
}

// Prefetch reads at once, through the next lookup, the sessions of ids
// not remembered here.
func (l *endedLookup) Prefetch(ids []string) {
	p, ok := l.Lookup.(activity.Prefetcher)
	if !ok {
		return
	}
	want := make([]string, 0, len(ids))
	for _, id := range ids {
		if !l.ended.sessions.has(endedKey{l.user, id}) {
			want = append(want, id)
		}
	}
	p.Prefetch(want)
}
