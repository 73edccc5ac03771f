package handlers

import (
	"bytes"
	"html/template"
	"time"

	"github.com/gofiber/fiber/v2"

	"portal/activity"
	"portal/device"
	"portal/geo"
	"portal/store"
)

// Recently signed out and a page of Security activity are kept as
// rendered, because building one reads the user's log and the sessions
// it names and writes 50 sentences (2 to 3 ms for a log of 1,000), and
// they are looked at far more often than they change. A kept view is
// served only while everything it shows still holds:
//
//   - the user's log is as it was: store.UserEventsVersion moves on with
//     every event written, merged or swept, in the same commit;
//   - each session it names that was live shows the same device and
//     places (the last-active flush changes those without an event); ended
//     sessions never change;
//   - no relative time ("2 hours ago"), link (a live session's, until it
//     can expire; an ended one's, for 30 days) or 30-day window would read
//     differently now: the view remembers the first moment one would.
//
// The key holds everything else the HTML depends on: the user, which list
// and page, the filter, the viewer's zone, how the partner is named and
// which partner's people are, and where entries link. Callers check the viewer's right to see the user
// (their own log, or a partner's scope) before asking, as before.

// Which list a view is.
const (
	viewRecent   = "recent"
	viewActivity = "activity"
)

type viewKey struct {
	user, list string
	zone       string // the viewer's zone
	partner    string // how the user's partner is named
	partnerID  string // the partner whose people are named: a move changes no event, so no version
	links      string // the addresses the view links to
	kinds      string // the filter, as asked
	page       int
}

// activityView is one rendered view and what it depends on.
type activityView struct {
	version uint64
	until   time.Time
	live    []shownSession
	body    template.HTML
}

// shownSession is a live session as a view shows it.
type shownSession struct {
	id          string
	device      device.Info
	first, last geo.Place
}

func shown(s store.Session) shownSession {
	return shownSession{id: s.ID, device: s.Device, first: s.FirstPlace, last: s.LastPlace}
}

// maxActivityViews is the size of a generation of kept views (see
// generations): at most 2×maxActivityViews views (each at most a page of
// 50 entries, about 30 KB) whatever the number of users; a generation is
// the views of a few hundred users reading their activity at the same
// time.
const maxActivityViews = 256

// keptView is the view under k if it still holds at now, or nil, with
// the user's log version to build a new one against.
func (h *handler) keptView(k viewKey, now time.Time) (*activityView, error) {
	version, err := h.events.UserEventsVersion(k.user)
	if err != nil {
		return nil, err
	}
	v, _ := h.ended.views.get(k)
	if v == nil || v.version != version || !now.Before(v.until) {
		return nil, nil
	}
	if len(v.live) == 0 {
		return v, nil
	}
	ids := make([]string, len(v.live))
	for i, s := range v.live {
		ids[i] = s.id
	}
	current, err := h.sessions.UserSessionsByID(k.user, ids)
	if err != nil {
		return nil, err
	}
	for _, want := range v.live {
		if s, ok := current[want.id]; !ok || shown(s) != want {
			return nil, nil
		}
	}
	return v, nil
}

// viewBuild collects what a view being built depends on.
type viewBuild struct {
	now, until time.Time
	policy     store.Policy
	live       map[string]shownSession
}

func newViewBuild(now time.Time, p store.Policy) *viewBuild {
	return &viewBuild{now: now, until: now.Add(24 * time.Hour), policy: p, live: map[string]shownSession{}}
}

// before notes that the view changes by itself at t.
func (b *viewBuild) before(t time.Time) {
	if t.Before(b.until) {
		b.until = t
	}
}

// shows notes a time shown relative to now.
func (b *viewBuild) shows(t time.Time) { b.before(relativeChanges(t, b.now)) }

// links notes a link to s, which sessionLinks.href chose at now.
func (b *viewBuild) links(s store.Session) {
	if !s.EndedAt.IsZero() {
		b.before(s.EndedAt.Add(recentWindow))
		return
	}
	if b.policy.IdleTimeout > 0 {
		b.before(s.LastActive.Add(b.policy.IdleTimeout))
	}
	if b.policy.MaxLifetime > 0 {
		b.before(s.CreatedAt.Add(b.policy.MaxLifetime))
	}
}

// lookup is d's Lookup, noting every live session it answers with.
func (b *viewBuild) lookup(d activity.Describer) activity.Describer {
	d.Lookup = &notingLookup{Lookup: d.Lookup, build: b}
	return d
}

// view is the finished view of body, built against version.
func (b *viewBuild) view(version uint64, body template.HTML) *activityView {
	v := &activityView{version: version, until: b.until, body: body}
	for _, s := range b.live {
		v.live = append(v.live, s)
	}
	return v
}

type notingLookup struct {
	activity.Lookup
	build *viewBuild
}

func (l *notingLookup) Session(id string) (store.Session, bool) {
	s, ok := l.Lookup.Session(id)
	if ok && s.EndedAt.IsZero() {
		l.build.live[id] = shown(s)
	}
	return s, ok
}

func (l *notingLookup) Prefetch(ids []string) {
	if p, ok := l.Lookup.(activity.Prefetcher); ok {
		p.Prefetch(ids)
	}
}

// relativeChanges is the first moment after now at which relative(t, ·)
// reads differently from relative(t, now); far in the future if never.
func relativeChanges(t, now time.Time) time.Time {
	d := now.Sub(t)
	next := func(unit time.Duration) time.Time { return t.Add((d/unit + 1) * unit) }
	switch {
	case d < time.Minute:
		return t.Add(time.Minute)
	case d < time.Hour:
		return next(time.Minute)
	case d < 24*time.Hour:
		return next(time.Hour)
	case d < 48*time.Hour:
		return t.Add(48 * time.Hour)
	case d < 30*24*time.Hour:
		return next(24 * time.Hour)
	}
	return now.Add(365 * 24 * time.Hour) // a date, which stays
}

// renderBody renders the partial name with data, alone, to keep.
func renderBody(c *fiber.Ctx, name string, data any) (template.HTML, error) {
	var buf bytes.Buffer
	if err := c.App().Config().Views.Render(&buf, name, data, ""); err != nil {
		return "", err
	}
	// The output of an html/template, shown where the partial is used.
	return template.HTML(buf.String()), nil
}
