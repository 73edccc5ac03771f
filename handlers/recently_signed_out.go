package handlers

import (
	"html/template"
	"net/url"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"portal/activity"
	"portal/store"
)

// recentShown is how many ended sessions Recently signed out lists; the
// rest are a link away, in Security activity. Ten keep a page whose user
// has signed out a hundred sessions about as light as one whose user has
// not.
const recentShown = 10

// recentList is Recently signed out, under the live sessions on Active
// Sessions and on the partner console's user page: the sessions that
// ended in the last 30 days, newest first, each with why and who. It is a
// record; nothing in it can be acted on. Body is the list as rendered
// (views/partials/activity_recent_body), kept between requests (see
// security_activity_cache.go).
type recentList struct {
	Body template.HTML
}

// recentItems is what Recently signed out lists.
type recentItems struct {
	Count    string // how many ended, as a sentence
	Entries  []endedEntry
	More     string // when not all are listed: where the rest are
	MoreHref string
}

// endedEntry is one ended session as Recently signed out shows it: the
// row's device and location text and the sentence of why. A plain value,
// cached like a row.
type endedEntry struct {
	ID                string // the session id, for the #ended-ID anchor
	Device, TypeLabel string
	Icon              template.HTML
	Location          string
	Approx            bool
	MaskedIP          string
	Sentence          string
	When              when
}

// everySignOutURL is the Security activity section showing sign-outs only.
var everySignOutURL = activityURL("/settings", url.Values{"section": {securityActivitySlug}}, []store.EventKind{store.EventEnded}, 1, "")

// ownRecentlyEnded is the caller's own Recently signed out.
func (h *handler) ownRecentlyEnded(c *fiber.Ctx) (*recentList, error) {
	d, err := h.ownDescriber(c)
	if err != nil {
		return nil, err
	}
	return h.recentlyEnded(c, authOf(c).User.ID, d, everySignOutURL)
}

// recentlyEnded is userID's Recently signed out, for the caller. more
// is the address of every sign-out of the user, for when there are more
// than one page.
func (h *handler) recentlyEnded(c *fiber.Ctx, userID string, d activity.Describer, more string) (*recentList, error) {
	now := h.now()
	k := viewKey{user: userID, list: viewRecent, zone: zoneName(d.Zone), partner: d.Partner, partnerID: d.PartnerID, links: more}
	if v, err := h.keptView(k, now); err != nil || v != nil {
		if err != nil {
			return nil, err
		}
		return &recentList{Body: v.body}, nil
	}
	b := newViewBuild(now, h.db.Policy())
	d = b.lookup(d)
	res, err := h.events.UserEvents(userID, store.EventQuery{Kinds: []store.EventKind{store.EventEnded}, Since: now.Add(-recentWindow)})
	if err != nil {
		return nil, err
	}
	d.Prefetch(res.Events)
	l := recentItems{Entries: make([]endedEntry, 0, len(res.Events))}
	switch res.Total {
	case 0:
		l.Count = "No sessions ended in the last 30 days."
	case 1:
		l.Count = "1 session ended in the last 30 days."
	default:
		l.Count = strconv.Itoa(res.Total) + " sessions ended in the last 30 days, newest first."
	}
	if res.Total > 0 {
		b.before(res.Oldest.Add(recentWindow)) // the oldest leaves the window by itself
	}
	if len(res.Events) > recentShown {
		res.Events = res.Events[:recentShown]
	}
	if res.Total > len(res.Events) {
		l.More, l.MoreHref = "The "+strconv.Itoa(len(res.Events))+" most recent are listed. See every sign-out in Security activity.", more
	}
	for _, e := range res.Events {
		en := d.Describe(e)
		item := endedEntry{ID: e.SessionID, Sentence: en.Sentence, When: makeWhen(en.At, now, d.Zone),
			Device: "A session no longer kept", TypeLabel: "Unknown device", Icon: deviceIcon(""), Location: "Unknown location"}
		b.shows(en.At)
		if s := en.Session; en.HasSession {
			item.Device, item.TypeLabel, item.Icon = s.Device.Label(), s.Device.TypeLabel(), deviceIcon(s.Device.Type)
			if where, approx := s.Where(); where != "" {
				item.Location, item.Approx = where, approx
			}
			item.MaskedIP = s.LastPlace.Masked
		}
		l.Entries = append(l.Entries, item)
	}
	body, err := renderBody(c, "partials/activity_recent_body", l)
	if err != nil {
		return nil, err
	}
	h.ended.views.put(k, b.view(res.Version, body))
	return &recentList{Body: body}, nil
}

// zoneName names loc for a key; nil is UTC.
func zoneName(loc *time.Location) string {
	if loc == nil {
		return time.UTC.String()
	}
	return loc.String()
}
