package activity

import (
	"strconv"

	"portal/store"
)

// reasonWords is how one reason a session ended reads: to the browser it
// ended for, on the sign-in page, and in the security activity log. Both
// sentences live in one row so that a new reason cannot get one without
// the other (reasons_test.go checks every store.Reason has a row).
type reasonWords struct {
	// signIn is told to the browser whose session ended, given the rules
	// that ended it.
	signIn func(p store.Policy) string
	// logged is the activity log's sentence for an ended event, by whom or
	// from where it ended.
	logged func(d Describer, by store.Actor) string
}

// reasons is every way a session ends, and its words.
var reasons = map[store.Reason]reasonWords{
	store.ReasonSignedOut: {
		signIn: says("You have signed out."),
		logged: func(Describer, store.Actor) string { return "Signed out in that browser" },
	},
	store.ReasonRevoked: {
		signIn: says("You were signed out from another session."),
		logged: func(d Describer, by store.Actor) string { return "Signed out from " + d.fromOrAnother(by) },
	},
	store.ReasonRevokedAll: {
		signIn: says("You were signed out because all other devices were signed out from another session."),
		logged: func(d Describer, by store.Actor) string {
			return "Signed out with “Sign out all other devices” from " + d.fromOrAnother(by)
		},
	},
	store.ReasonIdle: {
		signIn: func(p store.Policy) string {
			return "Your session expired after " + Duration(p.IdleTimeout) + " of inactivity. Sign in again to continue."
		},
		logged: func(d Describer, _ store.Actor) string {
			if d.Policy.IdleTimeout <= 0 {
				return "Expired after a time without activity"
			}
			return "Expired after " + Duration(d.Policy.IdleTimeout) + " without activity"
		},
	},
	store.ReasonLifetime: {
		signIn: func(p store.Policy) string {
			return "Your session reached its maximum lifetime of " + Duration(p.MaxLifetime) + ". Sign in again to continue."
		},
		logged: func(d Describer, _ store.Actor) string {
			if d.Policy.MaxLifetime <= 0 {
				return "Reached its time limit"
			}
			return "Reached the " + adjective(d.Policy.MaxLifetime) + " limit"
		},
	},
	store.ReasonPasswordChanged: {
		signIn: says("You were signed out because your password was changed."),
		logged: func(d Describer, by store.Actor) string {
			return d.withFrom("Signed out when the password was changed", by)
		},
	},
	store.ReasonUserDisabled: {
		signIn: says("You were signed out because your account was disabled. Contact your AiDial partner."),
		logged: func(Describer, store.Actor) string { return "Signed out when the account was disabled" },
	},
	// An operator's portal sessions revoke-all: whoever ran it, it was
	// not the partner, so it is said the way the spec says it.
	store.ReasonEverywhere: {
		signIn: says("You were signed out of every device by an administrator."),
		logged: func(Describer, store.Actor) string { return "Signed out of every device by an administrator" },
	},
	store.ReasonSessionLimit: {
		signIn: says("You were signed out because your account has too many signed-in sessions; the least recently used one was ended."),
		logged: func(d Describer, _ store.Actor) string {
			if d.SessionLimit <= 0 {
				return "Ended because too many sessions were signed in"
			}
			return "Ended because more than " + strconv.Itoa(d.SessionLimit) + " sessions were signed in"
		},
	},
	store.ReasonPasswordGuesses: {
		signIn: says("You were signed out because the current password was entered wrongly too many times. Sign in again to continue."),
		logged: func(Describer, store.Actor) string {
			return "Signed out after the current password was entered wrongly too many times"
		},
	},
	store.ReasonPartner: {
		signIn: says("Your AiDial partner signed this session out."),
		logged: func(d Describer, by store.Actor) string { return "Signed out by " + d.partnerUser(by) },
	},
	store.ReasonPartnerAll: {
		signIn: says("Your AiDial partner signed you out of every device."),
		logged: func(d Describer, by store.Actor) string { return "Signed out of every device by " + d.partnerUser(by) },
	},
	// Turned off for a user who lost their phone: by the partner, or an
	// operator (no one recorded).
	store.ReasonTwoStepReset: {
		signIn: says("You were signed out because two-step sign-in was turned off for your account. Sign in, then set it up again."),
		logged: func(d Describer, by store.Actor) string {
			who := "an administrator"
			if by.User != "" {
				who = d.partnerUser(by)
			}
			return "Signed out when " + who + " turned off two-step sign-in"
		},
	},
}

// says is a sign-in sentence that does not depend on the rules.
func says(s string) func(store.Policy) string {
	return func(store.Policy) string { return s }
}

// SignInText tells a browser why it is back at sign-in after its session
// ended for r under the rules p; "" for a reason it does not know (an
// address typed by hand), so the page then says nothing.
func SignInText(r store.Reason, p store.Policy) string {
	w, ok := reasons[r]
	if !ok {
		return ""
	}
	return w.signIn(p)
}

// ended says why a session ended, and who or what ended it.
func (d Describer) ended(e store.Event) string {
	w, ok := reasons[e.Reason]
	if !ok {
		return "Ended"
	}
	return w.logged(d, e.By)
}
