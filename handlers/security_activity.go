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

// A user's security activity, in two places: the Security activity
// section of Settings (every role that signs in, for their own account)
// and the partner console's user page (for a client user). Both are one
// list, filtered by kind and paginated, in views/partials/activity_list.

// kindLabels names the kinds in the filter.
var kindLabels = map[store.EventKind]string{
	store.EventSignedIn:        "Sign-ins",
	store.EventEnded:           "Sign-outs and expiries",
	store.EventPasswordChanged: "Password changes",
	store.EventSignInFailed:    "Failed sign-ins",
	store.EventSignInThrottled: "Refused sign-ins",
	store.EventCodeFailed:      "Wrong two-step codes",

	store.EventTwoStepOn:          "Two-step sign-in turned on",
	store.EventTwoStepOff:         "Two-step sign-in turned off",
	store.EventRecoveryCodeUsed:   "Recovery codes used",
	store.EventRecoveryCodesNew:   "New recovery codes",
	store.EventTwoStepRequired:    "Two-step sign-in required",
	store.EventTwoStepNotRequired: "Two-step sign-in made optional",
	store.EventPasskeyAdded:       "Passkeys added",
	store.EventPasskeyRemoved:     "Passkeys removed",
	store.EventPasskeyRefused:     "Passkeys refused",
}

var errBadKind = &userError{status: fiber.StatusBadRequest,
	message: "The activity filter names a kind of activity the portal does not know. Tick the kinds to show and press Filter."}

// activityQuery is the filter and page a list was asked for: ?kind=…&page=N.
type activityQuery struct {
	Kinds []store.EventKind
	Page  int
}

// activityParams reads the list's query, or a 400 with a sentence.
func activityParams(c *fiber.Ctx) (activityQuery, error) {
	var q activityQuery
	raw := c.Context().QueryArgs().PeekMulti("kind")
	if len(raw) > len(store.EventKinds) {
		return q, errBadKind
	}
	for _, k := range raw {
		kind, ok := knownKind(string(k))
		if !ok {
			return q, errBadKind
		}
		q.Kinds = append(q.Kinds, kind)
	}
	var err error
	q.Page, err = pageParam(c)
	return q, err
}

func knownKind(s string) (store.EventKind, bool) {
	for _, k := range store.EventKinds {
		if string(k) == s {
			return k, true
		}
	}
	return "", false
}

// activityList is a page of a user's activity with its filter and pager:
// Body, as rendered from the rest (views/partials/activity_list_body) and
// kept between requests (see security_activity_cache.go), and Zone.
type activityList struct {
	Body    template.HTML
	Zone    string // which zone the times are in
	Action  string // where the filter form goes
	Section string // its hidden section field, "" for none
	Kinds   []kindOption
	Entries []activityEntry
	Summary string
	Empty   string // said instead of the list when the page is empty
	Pager   pager
}

// activityPlace is where a page of activity is shown: its filter form's
// Action and Section, where its entries link (nil for nowhere), and the
// address of another page with the same filter.
type activityPlace struct {
	Action, Section string
	Links           *sessionLinks
	Link            func(kinds []store.EventKind, page int) string
}

// key is what the place contributes to a view's key: everything its
// addresses are made from.
func (p activityPlace) key() string {
	k := p.Action + "\x00" + p.Section
	if p.Links != nil {
		k += "\x00" + p.Links.base
	}
	return k
}

// kindOption is one checkbox of the filter.
type kindOption struct {
	Value, Label string
	Checked      bool
}

// activityEntry is one event as the list shows it. It is a plain value,
// so its HTML is cached by it (see partialCache).
type activityEntry struct {
	Sentence    string
	When        when
	Href        string // the session it concerns, where a page shows it
	SessionText string // that session, as the link reads
}

// sessionLinks says where a page shows a user's sessions: live ones in a
// sessions table (#session-ID), those among the latest ended in Recently
// signed out (#ended-ID). base is that page's address ("" for this page);
// nil sessionLinks means no page shows them. recent holds the ids
// Recently signed out lists, read when first needed, so that no link
// points past its recentShown entries.
type sessionLinks struct {
	base   string
	recent map[string]bool
}

// recentWindow is how far back Recently signed out goes.
const recentWindow = 30 * 24 * time.Hour

// href is where s is shown at now, or "". recent reads the ids Recently
// signed out lists.
func (l *sessionLinks) href(s store.Session, now time.Time, p store.Policy, recent func() (map[string]bool, error)) (string, error) {
	if l == nil {
		return "", nil
	}
	if ended, _ := s.Ended(now, p); !ended {
		return l.base + "#session-" + s.ID, nil
	}
	if s.EndedAt.IsZero() || now.Sub(s.EndedAt) >= recentWindow {
		return "", nil
	}
	if l.recent == nil {
		var err error
		if l.recent, err = recent(); err != nil {
			return "", err
		}
	}
	if !l.recent[s.ID] {
		return "", nil
	}
	return l.base + "#ended-" + s.ID, nil
}

// recentIDs are the sessions userID's Recently signed out lists at now.
func (h *handler) recentIDs(userID string, now time.Time) (map[string]bool, error) {
	res, err := h.events.UserEvents(userID, store.EventQuery{Kinds: []store.EventKind{store.EventEnded}, Since: now.Add(-recentWindow)})
	if err != nil {
		return nil, err
	}
	ids := make(map[string]bool, recentShown)
	for _, e := range res.Events[:min(len(res.Events), recentShown)] {
		ids[e.SessionID] = true
	}
	return ids, nil
}

// describer writes the sentences of userID's events for the caller, who
// names the user's partner as partner ("" for "your AiDial partner").
// partnerID is the partner account that manages the user now, the only
// one whose people the sentences name (see activity.Describer).
func (h *handler) describer(c *fiber.Ctx, userID, partner, partnerID string) activity.Describer {
	return activity.Describer{
		Lookup: h.ended.lookup(userID, activity.StoreLookup(h.lookups, userID)), Policy: h.db.Policy(),
		SessionLimit: h.db.SessionLimit(), Zone: zoneOf(c), Partner: partner, PartnerID: partnerID,
	}
}

// ownDescriber writes the caller's own events for the caller. Their
// partner is read from their account on each view, not from the session:
// a client that moved names its new partner's people from the next page
// on, and the old partner's never.
func (h *handler) ownDescriber(c *fiber.Ctx) (activity.Describer, error) {
	u := authOf(c).User
	acct, err := h.accounts.AccountOf(u)
	if err != nil {
		return activity.Describer{}, err
	}
	return h.describer(c, u.ID, "", acct.Partner), nil
}

// activityPage is a page of userID's activity shown at place.
func (h *handler) activityPage(c *fiber.Ctx, userID string, q activityQuery, d activity.Describer, place activityPlace) (*activityList, error) {
	now, policy := h.now(), h.db.Policy()
	k := viewKey{user: userID, list: viewActivity, zone: zoneName(d.Zone), partner: d.Partner, partnerID: d.PartnerID, links: place.key(), page: q.Page}
	for _, kind := range q.Kinds {
		k.kinds += string(kind) + ","
	}
	if v, err := h.keptView(k, now); err != nil || v != nil {
		if err != nil {
			return nil, err
		}
		return &activityList{Body: v.body, Zone: zoneSentence(c)}, nil
	}
	b := newViewBuild(now, policy)
	d = b.lookup(d)
	res, err := h.events.UserEvents(userID, store.EventQuery{Kinds: q.Kinds, Page: q.Page})
	if err != nil {
		return nil, err
	}
	d.Prefetch(res.Events)
	l := &activityList{Zone: zoneSentence(c), Action: place.Action, Section: place.Section, Entries: make([]activityEntry, 0, len(res.Events))}
	for _, k := range store.EventKinds {
		checked := len(q.Kinds) == 0
		for _, want := range q.Kinds {
			checked = checked || want == k
		}
		l.Kinds = append(l.Kinds, kindOption{Value: string(k), Label: kindLabels[k], Checked: checked})
	}
	for _, e := range res.Events {
		en := d.Describe(e)
		item := activityEntry{Sentence: en.Sentence, When: makeWhen(en.At, now, d.Zone)}
		b.shows(en.At)
		if en.HasSession {
			item.Href, err = place.Links.href(en.Session, now, policy, func() (map[string]bool, error) { return h.recentIDs(userID, now) })
			if err != nil {
				return nil, err
			}
			if item.Href != "" {
				item.SessionText = activity.SessionText(en.Session)
				b.links(en.Session)
			}
		}
		l.Entries = append(l.Entries, item)
	}
	switch {
	case res.Total == 0 && len(q.Kinds) > 0:
		l.Empty = "No activity of the kinds ticked."
	case res.Total == 0:
		l.Empty = "No security activity has been recorded yet."
	case len(l.Entries) == 0:
		l.Empty = "There is no page " + strconv.Itoa(res.Page) + ". The last page is " + strconv.Itoa(res.Pages) + "."
	case len(q.Kinds) > 0:
		l.Summary = entries(res.Total) + " of the kinds ticked, newest first."
	default:
		l.Summary = entries(res.Total) + ", newest first."
	}
	l.Pager = pager{Page: res.Page, Pages: res.Pages}
	if res.Page > 1 {
		l.Pager.Prev = place.Link(q.Kinds, min(res.Page-1, res.Pages))
	}
	if res.Page < res.Pages {
		l.Pager.Next = place.Link(q.Kinds, res.Page+1)
	}
	if l.Body, err = renderBody(c, "partials/activity_list_body", l); err != nil {
		return nil, err
	}
	h.ended.views.put(k, b.view(res.Version, l.Body))
	return l, nil
}

// activityURL is the address of a page of a filtered list: base with
// fixed (such as the section) first, then the kinds and the page, then
// the fragment.
func activityURL(base string, fixed url.Values, kinds []store.EventKind, page int, fragment string) string {
	v := url.Values{}
	for k, vs := range fixed {
		v[k] = vs
	}
	for _, k := range kinds {
		v.Add("kind", string(k))
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	if len(v) > 0 {
		base += "?" + v.Encode()
	}
	return base + fragment
}

// entries is "1 entry", "2 entries".
func entries(n int) string {
	if n == 1 {
		return "1 entry"
	}
	return strconv.Itoa(n) + " entries"
}

const securityActivitySlug = "security-activity"

// securityActivity is the Security activity section: the caller's own
// activity. Customers' entries link to Active Sessions.
func (h *handler) securityActivity(c *fiber.Ctx) (any, error) {
	q, err := activityParams(c)
	if err != nil {
		return nil, err
	}
	a := authOf(c)
	var links *sessionLinks
	if a.User.Role.IsCustomer() {
		links = &sessionLinks{base: activeSessionsURL}
	}
	fixed := url.Values{"section": {securityActivitySlug}}
	d, err := h.ownDescriber(c)
	if err != nil {
		return nil, err
	}
	return h.activityPage(c, a.User.ID, q, d, activityPlace{
		Action: "/settings", Section: securityActivitySlug, Links: links,
		Link: func(kinds []store.EventKind, page int) string {
			return activityURL("/settings", fixed, kinds, page, "")
		},
	})
}
