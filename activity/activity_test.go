package activity

import (
	"testing"
	"time"

	"portal/device"
	"portal/geo"
	"portal/store"
)

// fakeLookup knows two sessions and two partner users: Pat of the
// partner that manages the user now, and Olga of the one before.
type fakeLookup struct{}

const (
	firefoxID = "f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0"
	phoneID   = "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"
	goneID    = "00000000000000000000000000000000"
	patID     = "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2"
	olgaID    = "c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3"
	// partnerNow manages the user; partnerBefore did until the client moved.
	partnerNow    = "d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4"
	partnerBefore = "e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5"
)

var (
	berlin  = geo.Place{Network: "203.0.113.0/24", Masked: "203.0.113.x", Location: geo.Location{City: "Berlin", Country: "Germany", CountryCode: "DE"}}
	firefox = store.Session{ID: firefoxID, Device: device.Info{Browser: "Firefox", BrowserVersion: "133", OS: "Windows", Type: device.Desktop}, FirstPlace: berlin, LastPlace: berlin}
	phone   = store.Session{ID: phoneID, Device: device.Info{Browser: "Safari", OS: "iOS", Device: "iPhone", Type: device.Phone},
		LastPlace: geo.Place{Network: "198.51.100.0/24", Masked: "198.51.100.x"}}
)

func (fakeLookup) Session(id string) (store.Session, bool) {
	switch id {
	case firefoxID:
		return firefox, true
	case phoneID:
		return phone, true
	}
	return store.Session{}, false
}

func (fakeLookup) User(id string) (name, accountID string, ok bool) {
	switch id {
	case patID:
		return "Pat Partner", partnerNow, true
	case olgaID:
		return "Olga Old", partnerBefore, true
	}
	return "", "", false
}

var policy = store.Policy{IdleTimeout: 12 * time.Hour, MaxLifetime: 14 * 24 * time.Hour}

func TestDescribe(t *testing.T) {
	at := time.Date(2026, 11, 27, 9, 2, 0, 0, time.UTC)
	ended := func(r store.Reason, by store.Actor) store.Event {
		return store.Event{At: at, Kind: store.EventEnded, SessionID: phoneID, Reason: r, By: by}
	}
	byFirefox, byGone, byPat, byOlga := store.Actor{Session: firefoxID}, store.Actor{Session: goneID}, store.Actor{User: patID}, store.Actor{User: olgaID}
	tests := []struct {
		name string
		e    store.Event
		want string
	}{
		{"sign-in", store.Event{At: at, Kind: store.EventSignedIn, SessionID: firefoxID, Device: firefox.Device, Place: berlin},
			"Signed in with Firefox 133 on Windows from Berlin, Germany (203.0.113.x) using the password"},
		{"sign-in from a private network", store.Event{At: at, Kind: store.EventSignedIn, Device: firefox.Device,
			Place: geo.Place{Masked: "10.1.2.x", Location: geo.Location{Private: true}}}, "Signed in with Firefox 133 on Windows from a private network (10.1.2.x) using the password"},
		{"sign-in, place unknown", store.Event{At: at, Kind: store.EventSignedIn, Device: phone.Device, Place: geo.Place{Masked: "198.51.100.x"}},
			"Signed in with Safari on iPhone from 198.51.100.x using the password"},
		{"sign-in, nothing known", store.Event{At: at, Kind: store.EventSignedIn}, "Signed in with Unknown browser using the password"},
		{"sign-in with an app code", store.Event{At: at, Kind: store.EventSignedIn, Device: firefox.Device, Auth: store.AuthPasswordApp}, "Signed in with Firefox 133 on Windows using the password and an authenticator app"},
		{"sign-in with a passkey", store.Event{At: at, Kind: store.EventSignedIn, Device: firefox.Device, Auth: store.AuthPasskey, Passkey: "Work laptop"}, "Signed in with Firefox 133 on Windows using the passkey “Work laptop”"},
		{"sign-in with the password and a passkey", store.Event{At: at, Kind: store.EventSignedIn, Device: firefox.Device, Auth: store.AuthPasswordPasskey, Passkey: "Phone"}, "Signed in with Firefox 133 on Windows using the password and the passkey “Phone”"},

		{"own sign-out", ended(store.ReasonSignedOut, store.Actor{}), "Signed out in that browser"},
		{"signed out from another session", ended(store.ReasonRevoked, byFirefox), "Signed out from Firefox 133 on Windows (Berlin, Germany)"},
		{"signed out from a session that is gone", ended(store.ReasonRevoked, byGone), "Signed out from another session"},
		{"signed out from a session with only a network", ended(store.ReasonRevoked, store.Actor{Session: phoneID}), "Signed out from Safari on iPhone (198.51.100.x)"},
		{"sign out all other devices", ended(store.ReasonRevokedAll, byFirefox), "Signed out with “Sign out all other devices” from Firefox 133 on Windows (Berlin, Germany)"},
		{"sign out all other devices, actor gone", ended(store.ReasonRevokedAll, byGone), "Signed out with “Sign out all other devices” from another session"},
		{"idle", ended(store.ReasonIdle, store.Actor{}), "Expired after 12 hours without activity"},
		{"lifetime", ended(store.ReasonLifetime, store.Actor{}), "Reached the 14-day limit"},
		{"password changed from a session", ended(store.ReasonPasswordChanged, byFirefox), "Signed out when the password was changed from Firefox 133 on Windows (Berlin, Germany)"},
		{"password changed by the operator", ended(store.ReasonPasswordChanged, store.Actor{}), "Signed out when the password was changed"},
		{"user disabled", ended(store.ReasonUserDisabled, store.Actor{}), "Signed out when the account was disabled"},
		{"operator: everywhere", ended(store.ReasonEverywhere, store.Actor{}), "Signed out of every device by an administrator"},
		{"session cap", ended(store.ReasonSessionLimit, byFirefox), "Ended because more than 100 sessions were signed in"},
		{"password guesses", ended(store.ReasonPasswordGuesses, store.Actor{}), "Signed out after the current password was entered wrongly too many times"},
		{"partner", ended(store.ReasonPartner, byPat), "Signed out by your AiDial partner (Pat Partner)"},
		{"partner user gone", ended(store.ReasonPartner, store.Actor{User: goneID}), "Signed out by your AiDial partner"},
		{"partner: everywhere", ended(store.ReasonPartnerAll, byPat), "Signed out of every device by your AiDial partner (Pat Partner)"},
		{"previous partner", ended(store.ReasonPartner, byOlga), "Signed out by a previous partner"},
		{"previous partner: everywhere", ended(store.ReasonPartnerAll, byOlga), "Signed out of every device by a previous partner"},
		{"a reason this version does not know", ended("future_reason", store.Actor{}), "Ended"},

		{"password change", store.Event{At: at, Kind: store.EventPasswordChanged, By: byFirefox}, "Password changed from Firefox 133 on Windows (Berlin, Germany)"},
		{"password change by the operator", store.Event{At: at, Kind: store.EventPasswordChanged}, "Password changed"},

		{"failed attempts", store.Event{At: at, Kind: store.EventSignInFailed, Place: berlin, Count: 3, Until: at.Add(3 * time.Minute)},
			"3 failed sign-in attempts from Berlin, Germany (203.0.113.x), 09:02–09:05"},
		{"a flood from many networks", store.Event{At: at, Kind: store.EventSignInFailed, Count: 1040, Networks: 1030, Until: at.Add(3 * time.Minute)},
			"1,040 failed sign-in attempts from 1,030 networks, 09:02–09:05"},
		{"one failed attempt", store.Event{At: at, Kind: store.EventSignInFailed, Place: berlin, Count: 1, Until: at},
			"1 failed sign-in attempt from Berlin, Germany (203.0.113.x)"},
		{"failed attempts in one minute", store.Event{At: at, Kind: store.EventSignInFailed, Count: 2, Until: at.Add(20 * time.Second)},
			"2 failed sign-in attempts from an unknown network at 09:02"},
		{"throttled", store.Event{At: at, Kind: store.EventSignInThrottled, Place: berlin, Count: 4, Until: at.Add(4 * time.Minute)},
			"4 sign-in attempts from Berlin, Germany (203.0.113.x) refused after too many failures, 09:02–09:06"},
		{"wrong codes", store.Event{At: at, Kind: store.EventCodeFailed, Place: berlin, Count: 2, Until: at.Add(time.Minute)},
			"2 wrong two-step codes from Berlin, Germany (203.0.113.x), 09:02–09:03"},
		{"two-step on", store.Event{At: at, Kind: store.EventTwoStepOn, By: store.Actor{Session: firefoxID}},
			"Two-step sign-in turned on from Firefox 133 on Windows (Berlin, Germany)"},
		{"two-step off by the user", store.Event{At: at, Kind: store.EventTwoStepOff, By: store.Actor{Session: firefoxID}},
			"Two-step sign-in turned off from Firefox 133 on Windows (Berlin, Germany)"},
		{"two-step off by the partner", store.Event{At: at, Kind: store.EventTwoStepOff, By: store.Actor{User: patID}},
			"Your AiDial partner (Pat Partner) turned off two-step sign-in"},
		{"two-step off by an operator", store.Event{At: at, Kind: store.EventTwoStepOff},
			"An administrator turned off two-step sign-in"},
		{"two-step off and passkeys removed by the partner", store.Event{At: at, Kind: store.EventTwoStepOff, By: store.Actor{User: patID}, Count: 2},
			"Your AiDial partner (Pat Partner) turned off two-step sign-in and removed 2 passkeys"},
		{"passkey added", store.Event{At: at, Kind: store.EventPasskeyAdded, By: byFirefox, Passkey: "Work laptop"},
			"Passkey “Work laptop” added from Firefox 133 on Windows (Berlin, Germany)"},
		{"passkey removed", store.Event{At: at, Kind: store.EventPasskeyRemoved, By: byFirefox, Passkey: "Phone"},
			"Passkey “Phone” removed from Firefox 133 on Windows (Berlin, Germany)"},
		{"passkey refused", store.Event{At: at, Kind: store.EventPasskeyRefused, Passkey: "YubiKey"},
			"A sign-in with the passkey “YubiKey” was refused: its signature counter went backwards, which happens when a passkey has been copied. Remove it if you did not expect this."},
		{"a recovery code used", store.Event{At: at, Kind: store.EventRecoveryCodeUsed, Count: 3},
			"Signed in with a recovery code (3 codes left)"},
		{"new recovery codes", store.Event{At: at, Kind: store.EventRecoveryCodesNew, By: store.Actor{Session: firefoxID}},
			"New recovery codes made from Firefox 133 on Windows (Berlin, Germany); the old ones no longer work"},
		{"required by the partner", store.Event{At: at, Kind: store.EventTwoStepRequired, By: store.Actor{User: patID}},
			"Your AiDial partner (Pat Partner) made two-step sign-in required for this account"},
		{"made optional by an operator", store.Event{At: at, Kind: store.EventTwoStepNotRequired},
			"An administrator made two-step sign-in optional for this account"},
		{"signed out when the partner turned two-step off", store.Event{At: at, Kind: store.EventEnded, Reason: store.ReasonTwoStepReset, By: store.Actor{User: patID}},
			"Signed out when your AiDial partner (Pat Partner) turned off two-step sign-in"},
		{"a kind this version does not know", store.Event{At: at, Kind: "future_kind"}, "Security event (future_kind)"},
	}
	d := Describer{Lookup: fakeLookup{}, Policy: policy, SessionLimit: 100, PartnerID: partnerNow}
	seenKinds, seenReasons := map[store.EventKind]bool{}, map[store.Reason]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := d.Describe(tt.e)
			if got.Sentence != tt.want {
				t.Errorf("Describe = %q\n           want %q", got.Sentence, tt.want)
			}
			if !got.At.Equal(tt.e.At) || got.Kind != tt.e.Kind || got.SessionID != tt.e.SessionID {
				t.Errorf("entry %+v does not carry the event's time, kind and session", got)
			}
		})
		seenKinds[tt.e.Kind], seenReasons[tt.e.Reason] = true, true
	}
	for _, k := range store.EventKinds {
		if !seenKinds[k] {
			t.Errorf("no test for kind %s", k)
		}
	}
	for _, r := range []store.Reason{store.ReasonSignedOut, store.ReasonRevoked, store.ReasonRevokedAll, store.ReasonIdle, store.ReasonLifetime,
		store.ReasonPasswordChanged, store.ReasonUserDisabled, store.ReasonEverywhere, store.ReasonSessionLimit, store.ReasonPasswordGuesses,
		store.ReasonPartner, store.ReasonPartnerAll, store.ReasonTwoStepReset} {
		if !seenReasons[r] {
			t.Errorf("no test for reason %s", r)
		}
	}
}

// TestDescribeForOthers: the partner is named as the viewer would name
// them, span times are in the viewer's zone, and rules that are off read
// without a number.
func TestDescribeForOthers(t *testing.T) {
	at := time.Date(2026, 7, 1, 9, 2, 0, 0, time.UTC)
	berlinZone, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	d := Describer{Lookup: fakeLookup{}, Zone: berlinZone, Partner: "the AiDial partner", PartnerID: partnerNow}
	tests := []struct {
		e    store.Event
		want string
	}{
		{store.Event{At: at, Kind: store.EventEnded, Reason: store.ReasonPartner, By: store.Actor{User: patID}}, "Signed out by the AiDial partner (Pat Partner)"},
		{store.Event{At: at, Kind: store.EventEnded, Reason: store.ReasonPartnerAll, By: store.Actor{User: olgaID}}, "Signed out of every device by a previous partner"},
		{store.Event{At: at, Kind: store.EventSignInFailed, Place: berlin, Count: 3, Until: at.Add(3 * time.Minute)}, "3 failed sign-in attempts from Berlin, Germany (203.0.113.x), 11:02–11:05"},
		{store.Event{At: at, Kind: store.EventEnded, Reason: store.ReasonIdle}, "Expired after a time without activity"},
		{store.Event{At: at, Kind: store.EventEnded, Reason: store.ReasonLifetime}, "Reached its time limit"},
		{store.Event{At: at, Kind: store.EventEnded, Reason: store.ReasonSessionLimit}, "Ended because too many sessions were signed in"},
	}
	for _, tt := range tests {
		if got := d.Describe(tt.e).Sentence; got != tt.want {
			t.Errorf("Describe(%s %s) = %q, want %q", tt.e.Kind, tt.e.Reason, got, tt.want)
		}
	}
}

// TestEntrySession: an entry carries the session it concerns, as the
// store has it now, when there is one.
func TestEntrySession(t *testing.T) {
	d := Describer{Lookup: fakeLookup{}}
	if e := d.Describe(store.Event{Kind: store.EventEnded, SessionID: firefoxID}); !e.HasSession || e.Session.ID != firefoxID {
		t.Errorf("entry %+v, want the Firefox session", e)
	}
	if e := d.Describe(store.Event{Kind: store.EventEnded, SessionID: goneID}); e.HasSession {
		t.Errorf("entry %+v names a session the store does not have", e)
	}
	if e := d.Describe(store.Event{Kind: store.EventSignInFailed}); e.HasSession || e.SessionID != "" {
		t.Errorf("a failed sign-in concerns no session: %+v", e)
	}
}

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		12 * time.Hour: "12 hours", time.Hour: "1 hour", 14 * 24 * time.Hour: "14 days", 24 * time.Hour: "24 hours",
		90 * time.Second: "2 minutes", 30 * time.Minute: "30 minutes", 5 * time.Second: "5 seconds",
	} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%v) = %q, want %q", d, got, want)
		}
	}
	for d, want := range map[time.Duration]string{14 * 24 * time.Hour: "14-day", 12 * time.Hour: "12-hour", time.Hour: "1-hour"} {
		if got := adjective(d); got != want {
			t.Errorf("adjective(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 1040: "1,040", 999999: "999,999", 1234567: "1,234,567", -1040: "-1,040"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestPartnerNamedOnlyByItsOwn: a partner user is named only when of the
// partner that manages the user now, PartnerID; with none (a client no
// partner manages, or a Describer that was not told) no one is named.
func TestPartnerNamedOnlyByItsOwn(t *testing.T) {
	tests := []struct {
		name, partnerID string
		by              string
		want            string
	}{
		{"the partner now", partnerNow, patID, "Signed out by your AiDial partner (Pat Partner)"},
		{"the partner before", partnerNow, olgaID, "Signed out by a previous partner"},
		{"seen as the partner before", partnerBefore, patID, "Signed out by a previous partner"},
		{"no partner now", "", patID, "Signed out by a previous partner"},
		{"an unknown user", partnerNow, goneID, "Signed out by your AiDial partner"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Describer{Lookup: fakeLookup{}, PartnerID: tt.partnerID}
			e := store.Event{Kind: store.EventEnded, Reason: store.ReasonPartner, By: store.Actor{User: tt.by}}
			if got := d.Describe(e).Sentence; got != tt.want {
				t.Errorf("Describe = %q, want %q", got, tt.want)
			}
		})
	}
}
