package activity

import (
	"strconv"
	"strings"
	"time"

	"portal/geo"
	"portal/store"
)

// SessionText names a session as a sentence does: its device and, in
// brackets, where it was last seen: "Firefox 133 on Windows (Berlin,
// Germany)", "Chrome 131 on macOS (203.0.113.x)", or the device alone.
func SessionText(s store.Session) string {
	where := s.LastPlace.Label()
	if where == "" {
		where = s.LastPlace.Masked
	}
	if where == "" {
		return s.Device.Label()
	}
	return s.Device.Label() + " (" + where + ")"
}

// placeText is a place with its masked network: "Berlin, Germany
// (203.0.113.x)", "a private network (10.1.2.x)", "203.0.113.x", or "".
func placeText(p geo.Place) string {
	where := p.Label()
	if p.Private {
		where = "a private network"
	}
	switch {
	case where == "":
		return p.Masked
	case p.Masked == "":
		return where
	}
	return where + " (" + p.Masked + ")"
}

// networkText is where failed attempts came from, never "".
func networkText(e store.Event) string {
	if e.Networks > 0 { // a flood's attempts past the first networks, folded
		return plural(e.Networks, "network")
	}
	if t := placeText(e.Place); t != "" {
		return t
	}
	return "an unknown network"
}

// authText is how a sign-in signed in, as a sentence ends with it;
// passkey is the passkey's name, if one was used.
func authText(m store.AuthMethod, passkey string) string {
	switch m {
	case store.AuthPasswordApp:
		return "the password and an authenticator app"
	case store.AuthPasswordRecovery:
		return "the password and a recovery code"
	case store.AuthPasskey:
		return "the passkey " + quoted(passkey)
	case store.AuthPasswordPasskey:
		return "the password and the passkey " + quoted(passkey)
	}
	return "the password"
}

// quoted is a name the user gave, in quotation marks.
func quoted(name string) string {
	if name == "" {
		return "(removed)"
	}
	return "“" + name + "”"
}

// Duration writes d the way a person would: "12 hours", "14 days",
// "2 minutes".
func Duration(d time.Duration) string {
	switch {
	case d >= 48*time.Hour && d%(24*time.Hour) == 0:
		return plural(int(d/(24*time.Hour)), "day")
	case d >= time.Hour && d%time.Hour == 0:
		return plural(int(d/time.Hour), "hour")
	case d >= time.Minute:
		return plural(int((d+time.Minute-1)/time.Minute), "minute")
	}
	return plural(int((d+time.Second-1)/time.Second), "second")
}

// adjective is Duration before a noun: "14-day", "12-hour".
func adjective(d time.Duration) string {
	n, unit, _ := strings.Cut(Duration(d), " ")
	return n + "-" + strings.TrimSuffix(unit, "s")
}

// plural is n and unit, with an s on the unit unless n is 1.
func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return thousands(n) + " " + unit + "s"
}

// thousands writes n with a comma between each group of three digits:
// "1,040".
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
