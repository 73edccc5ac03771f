// Package activity turns the security activity log's events into the
// sentences people read: on Active Sessions (Recently signed out), in the
// Security activity settings section, on the partner console and from the
// operator CLI. Events hold ids and codes; the words are chosen here, when
// shown, so a change of wording applies to old events too. It knows
// nothing of HTTP or templates.
package activity

import (
	"slices"
	"time"

	"portal/store"
)

// Lookup answers what an event names only by id: the viewed user's
// sessions (live or ended) and partner users.
type Lookup interface {
	// Session is one of the user's sessions, ok false if it is not (or no
	// longer) in the store.
	Session(id string) (s store.Session, ok bool)
	// User is the name of the user id and the account they belong to, ok
	// false if there is none.
	User(id string) (name, accountID string, ok bool)
}

// Prefetcher is a Lookup that can read many sessions at once, cheaper
// than one by one.
type Prefetcher interface {
	Prefetch(sessionIDs []string)
}

// Prefetch has the Lookup read, at once if it can, every session that
// events name: the ones they concern and the ones that acted.
func (d Describer) Prefetch(events []store.Event) {
	p, ok := d.Lookup.(Prefetcher)
	if !ok || len(events) == 0 {
		return
	}
	ids := make([]string, 0, len(events))
	for _, e := range events {
		for _, id := range []string{e.SessionID, e.By.Session} {
			if id != "" && !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	p.Prefetch(ids)
}

// Entry is one event as a person reads it.
type Entry struct {
	At       time.Time
	Kind     store.EventKind
	Sentence string // what happened, and from where or by whom
	// SessionID is the session the event concerns, "" for none (password
	// changes, failed sign-ins). Session is that session as the store has
	// it now, when HasSession.
	SessionID  string
	Session    store.Session
	HasSession bool
}

// Describer writes entries for one viewer.
type Describer struct {
	Lookup Lookup
	// Policy and SessionLimit are the rules that ended sessions, for the
	// sentences of expiries and of the session cap.
	Policy       store.Policy
	SessionLimit int
	// Zone is where times inside a sentence (a group of failed sign-ins'
	// first and last) are given; UTC when nil.
	Zone *time.Location
	// Partner names the user's AiDial partner the way the viewer would
	// say it: "your AiDial partner" (the default) to the user themselves.
	Partner string
	// PartnerID is the partner account that manages the user now: the
	// viewer's own, whether the viewer is that partner or the user. Only
	// its people are named; a partner user of any other account acted
	// before the client moved, and is "a previous partner": the new
	// partner, or the user, is not told who works for the old one. ""
	// (no partner now) names no partner user.
	PartnerID string
}

// Describe writes e as an entry.
func (d Describer) Describe(e store.Event) Entry {
	out := Entry{At: e.At, Kind: e.Kind, SessionID: e.SessionID}
	if e.SessionID != "" && d.Lookup != nil {
		out.Session, out.HasSession = d.Lookup.Session(e.SessionID)
	}
	switch e.Kind {
	case store.EventSignedIn:
		out.Sentence = "Signed in with " + e.Device.Label()
		if where := placeText(e.Place); where != "" {
			out.Sentence += " from " + where
		}
		out.Sentence += " using " + authText(e.Auth, e.Passkey)
	case store.EventEnded:
		out.Sentence = d.ended(e)
	case store.EventPasswordChanged:
		out.Sentence = d.withFrom("Password changed", e.By)
	case store.EventSignInFailed:
		out.Sentence = plural(e.Count, "failed sign-in attempt") + " from " + networkText(e) + d.span(e)
	case store.EventCodeFailed:
		out.Sentence = plural(e.Count, "wrong two-step code") + " from " + networkText(e) + d.span(e)
	case store.EventTwoStepOn:
		out.Sentence = d.withFrom("Two-step sign-in turned on", e.By)
	case store.EventTwoStepOff:
		out.Sentence = d.twoStepChange(e.By, "turned off two-step sign-in", "Two-step sign-in turned off")
		if e.Count > 0 {
			out.Sentence += " and removed " + plural(e.Count, "passkey")
		}
	case store.EventPasskeyAdded:
		out.Sentence = d.withFrom("Passkey "+quoted(e.Passkey)+" added", e.By)
	case store.EventPasskeyRemoved:
		out.Sentence = d.withFrom("Passkey "+quoted(e.Passkey)+" removed", e.By)
	case store.EventPasskeyRefused:
		out.Sentence = "A sign-in with the passkey " + quoted(e.Passkey) + " was refused: its signature counter went backwards, which happens when a passkey has been copied. Remove it if you did not expect this."
	case store.EventRecoveryCodeUsed:
		out.Sentence = "Signed in with a recovery code (" + plural(e.Count, "code") + " left)"
	case store.EventRecoveryCodesNew:
		out.Sentence = d.withFrom("New recovery codes made", e.By) + "; the old ones no longer work"
	case store.EventTwoStepRequired:
		out.Sentence = d.twoStepChange(e.By, "made two-step sign-in required for this account", "")
	case store.EventTwoStepNotRequired:
		out.Sentence = d.twoStepChange(e.By, "made two-step sign-in optional for this account", "")
	case store.EventSignInThrottled:
		out.Sentence = plural(e.Count, "sign-in attempt") + " from " + networkText(e) + " refused after too many failures" + d.span(e)
	default:
		out.Sentence = "Security event (" + string(e.Kind) + ")"
	}
	return out
}

// from is the session that acted, as "Firefox 133 on Windows (Berlin,
// Germany)"; "" when none was recorded or it is gone.
func (d Describer) from(by store.Actor) string {
	if by.Session == "" || d.Lookup == nil {
		return ""
	}
	s, ok := d.Lookup.Session(by.Session)
	if !ok {
		return ""
	}
	return SessionText(s)
}

// withFrom is s, then " from " and the session that acted, if known.
func (d Describer) withFrom(s string, by store.Actor) string {
	if from := d.from(by); from != "" {
		return s + " from " + from
	}
	return s
}

func (d Describer) fromOrAnother(by store.Actor) string {
	if from := d.from(by); from != "" {
		return from
	}
	return "another session"
}

func (d Describer) partner() string {
	if d.Partner == "" {
		return "your AiDial partner"
	}
	return d.Partner
}

// partnerUser is the partner, and the partner user by name when known
// and of the partner that manages the user now; "a previous partner" when
// the user acting belongs to another.
func (d Describer) partnerUser(by store.Actor) string {
	if by.User == "" || d.Lookup == nil {
		return d.partner()
	}
	name, account, ok := d.Lookup.User(by.User)
	switch {
	case !ok:
		return d.partner()
	case account != d.PartnerID || account == "":
		return "a previous partner"
	case name == "":
		return d.partner()
	}
	return d.partner() + " (" + name + ")"
}

// twoStepChange says who made a change to two-step sign-in: the partner
// ("Your AiDial partner (Pat Partner) did"), an administrator (no one
// recorded), or the user in one of their sessions (own, then " from "
// that session).
func (d Describer) twoStepChange(by store.Actor, did, own string) string {
	switch {
	case by.User != "":
		return capitalize(d.partnerUser(by)) + " " + did
	case by.Session != "" && own != "":
		return d.withFrom(own, by)
	}
	return "An administrator " + did
}

// capitalize starts s with a capital letter (ASCII: the words are ours).
func capitalize(s string) string {
	if s != "" && s[0] >= 'a' && s[0] <= 'z' {
		return string(s[0]-'a'+'A') + s[1:]
	}
	return s
}

// span is when a group of attempts happened, in the viewer's zone:
// ", 10:02–10:05", or " at 10:02" within one minute; "" for one attempt.
func (d Describer) span(e store.Event) string {
	if e.Count <= 1 || e.Until.IsZero() {
		return ""
	}
	loc := d.Zone
	if loc == nil {
		loc = time.UTC
	}
	first, last := e.At.In(loc).Format("15:04"), e.Until.In(loc).Format("15:04")
	if first == last {
		return " at " + first
	}
	return ", " + first + "–" + last
}
