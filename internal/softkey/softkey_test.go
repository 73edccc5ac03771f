package softkey

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

const origin = "http://localhost:8080"

type user struct {
	id    []byte
	creds []webauthn.Credential
}

func (u *user) WebAuthnID() []byte                         { return u.id }
func (u *user) WebAuthnName() string                       { return "ada" }
func (u *user) WebAuthnDisplayName() string                { return "Ada" }
func (u *user) WebAuthnCredentials() []webauthn.Credential { return u.creds }

func newRP(t *testing.T) *webauthn.WebAuthn {
	t.Helper()
	rp, err := webauthn.New(&webauthn.Config{
		RPID:          "localhost",
		RPDisplayName: "Portal",
		RPOrigins:     []string{origin},
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey:      protocol.ResidentKeyRequirementRequired,
			UserVerification: protocol.VerificationRequired,
		},
		AttestationPreference: protocol.PreferNoAttestation,
	})
	if err != nil {
		t.Fatal(err)
	}
	return rp
}

// register runs a whole registration ceremony, answering from origin, and
// keeps the credential on the user when it succeeds.
func register(t *testing.T, rp *webauthn.WebAuthn, a *Authenticator, u *user, from string) (*webauthn.Credential, error) {
	t.Helper()
	creation, session, err := rp.BeginRegistration(u)
	if err != nil {
		t.Fatal(err)
	}
	options, err := json.Marshal(creation)
	if err != nil {
		t.Fatal(err)
	}
	body, err := a.Create(options, from)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	parsed, err := protocol.ParseCredentialCreationResponseBody(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parse %s: %v", body, err)
	}
	cred, err := rp.CreateCredential(u, *session, parsed)
	if err != nil {
		return nil, err
	}
	u.creds = append(u.creds, *cred)
	return cred, nil
}

// loginVariant is one way an assertion can go wrong; the zero value is a
// correct login.
type loginVariant struct {
	origin         string                   // "" means the RP's origin
	otherChallenge bool                     // answer a different ceremony's options
	innerOnly      bool                     // send Get the inner options object alone
	tamper         func(resp []byte) []byte // change the response before the RP sees it
}

// login runs a discoverable login and, when it succeeds, stores the updated
// credential on the user as a server would.
func login(t *testing.T, rp *webauthn.WebAuthn, a *Authenticator, u *user, v loginVariant) (*webauthn.Credential, error) {
	t.Helper()
	assertion, session, err := rp.BeginDiscoverableLogin()
	if err != nil {
		t.Fatal(err)
	}
	if v.otherChallenge {
		if assertion, _, err = rp.BeginDiscoverableLogin(); err != nil {
			t.Fatal(err)
		}
	}
	var options []byte
	if v.innerOnly {
		options, err = json.Marshal(assertion.Response)
	} else {
		options, err = json.Marshal(assertion)
	}
	if err != nil {
		t.Fatal(err)
	}
	from := origin
	if v.origin != "" {
		from = v.origin
	}
	body, err := a.Get(options, from)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if v.tamper != nil {
		body = v.tamper(body)
	}
	parsed, err := protocol.ParseCredentialRequestResponseBody(bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	byHandle := func(rawID, userHandle []byte) (webauthn.User, error) {
		if !bytes.Equal(userHandle, u.id) {
			return nil, errors.New("unknown user handle")
		}
		return u, nil
	}
	_, cred, err := rp.ValidatePasskeyLogin(byHandle, *session, parsed)
	if err != nil {
		return nil, err
	}
	for i := range u.creds {
		if bytes.Equal(u.creds[i].ID, cred.ID) {
			u.creds[i] = *cred
		}
	}
	return cred, nil
}

// describe adds the library's developer detail, which says which check failed.
func describe(err error) string {
	var e *protocol.Error
	if errors.As(err, &e) {
		return err.Error() + ": " + e.DevInfo
	}
	return err.Error()
}

func TestRegisterThenLogin(t *testing.T) {
	rp, a, u := newRP(t), New(), &user{id: []byte("user-1")}
	cred, err := register(t, rp, a, u, origin)
	if err != nil {
		t.Fatalf("registration: %v", err)
	}
	if ids := a.Credentials(); len(ids) != 1 || !bytes.Equal(ids[0], cred.ID) {
		t.Fatalf("authenticator holds %x, the RP registered %x", ids, cred.ID)
	}
	if !cred.Flags.UserVerified || cred.Flags.BackupEligible || cred.Authenticator.SignCount != 0 {
		t.Fatalf("registered flags %+v, counter %d", cred.Flags, cred.Authenticator.SignCount)
	}
	for want := uint32(1); want <= 2; want++ {
		got, err := login(t, rp, a, u, loginVariant{innerOnly: want == 2})
		if err != nil {
			t.Fatalf("login %d: %v", want, err)
		}
		if got.Authenticator.SignCount != want || got.Authenticator.CloneWarning {
			t.Fatalf("login %d: counter %d, clone warning %v", want, got.Authenticator.SignCount, got.Authenticator.CloneWarning)
		}
	}
}

func TestResponseShape(t *testing.T) {
	rp, a, u := newRP(t), New(), &user{id: []byte("user-1")}
	creation, _, err := rp.BeginRegistration(u)
	if err != nil {
		t.Fatal(err)
	}
	options, _ := json.Marshal(creation)
	body, err := a.Create(options, origin)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		ID, RawID, Type, AuthenticatorAttachment string
		ClientExtensionResults                   map[string]any
		Response                                 struct{ ClientDataJSON, AttestationObject string }
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if got.ID == "" || got.ID != got.RawID || strings.ContainsAny(got.ID+got.Response.AttestationObject, "+/=") ||
		got.Type != "public-key" || got.AuthenticatorAttachment != "platform" || got.ClientExtensionResults == nil {
		t.Fatalf("not a toJSON() shape in base64url: %s", body)
	}
}

func TestRejected(t *testing.T) {
	flipSignature := func(body []byte) []byte {
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			panic(err)
		}
		resp := m["response"].(map[string]any)
		var sig protocol.URLEncodedBase64
		if err := sig.UnmarshalJSON([]byte(`"` + resp["signature"].(string) + `"`)); err != nil {
			panic(err)
		}
		sig[len(sig)-1] ^= 0x01
		resp["signature"] = sig.String()
		out, _ := json.Marshal(m)
		return out
	}
	for _, c := range []struct {
		name           string
		registerOrigin string
		registerOpts   Options
		loginOpts      Options
		login          loginVariant
		want           string // in the library's error, naming the check that failed
	}{
		{name: "registration from another origin", registerOrigin: "http://evil.example:8080", want: "origin"},
		{name: "registration without user verification", registerOpts: Options{NoUserVerification: true}, want: "User verification required"},
		{name: "registration backed up but not eligible", registerOpts: Options{BackupState: true}, want: "Backup State"},
		{name: "login from another origin", login: loginVariant{origin: "http://localhost:8081"}, want: "origin"},
		{name: "login answering another challenge", login: loginVariant{otherChallenge: true}, want: "challenge"},
		{name: "login without user verification", loginOpts: Options{NoUserVerification: true}, want: "User verification required"},
		{name: "login with a changed backup eligibility", loginOpts: Options{BackupEligible: true}, want: "Backup Eligible"},
		{name: "login with a tampered signature", login: loginVariant{tamper: flipSignature}, want: "signature"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rp, a, u := newRP(t), New(), &user{id: []byte("user-1")}
			a.SetOptions(c.registerOpts)
			from := origin
			if c.registerOrigin != "" {
				from = c.registerOrigin
			}
			_, err := register(t, rp, a, u, from)
			registrationShouldFail := c.registerOrigin != "" || c.registerOpts != Options{}
			if registrationShouldFail {
				if err == nil {
					t.Fatal("registration succeeded")
				}
				if !strings.Contains(describe(err), c.want) {
					t.Fatalf("registration failed for another reason: %s", describe(err))
				}
				return
			}
			if err != nil {
				t.Fatalf("registration: %v", err)
			}
			a.SetOptions(c.loginOpts)
			_, err = login(t, rp, a, u, c.login)
			if err == nil {
				t.Fatal("login succeeded")
			}
			if !strings.Contains(describe(err), c.want) {
				t.Fatalf("login failed for another reason: %s", describe(err))
			}
		})
	}
}

func TestSyncedPasskey(t *testing.T) {
	rp, a, u := newRP(t), New(), &user{id: []byte("user-1")}
	a.SetOptions(Options{BackupEligible: true, BackupState: true, ZeroCounter: true})
	cred, err := register(t, rp, a, u, origin)
	if err != nil {
		t.Fatalf("registration: %v", err)
	}
	if !cred.Flags.BackupEligible || !cred.Flags.BackupState {
		t.Fatalf("flags %+v", cred.Flags)
	}
	for range 2 {
		got, err := login(t, rp, a, u, loginVariant{})
		if err != nil {
			t.Fatalf("login: %v", err)
		}
		if got.Authenticator.SignCount != 0 || got.Authenticator.CloneWarning {
			t.Fatalf("counter %d, clone warning %v", got.Authenticator.SignCount, got.Authenticator.CloneWarning)
		}
	}
}

func TestCloneWithRolledBackCounterIsFlagged(t *testing.T) {
	rp, a, u := newRP(t), New(), &user{id: []byte("user-1")}
	cred, err := register(t, rp, a, u, origin)
	if err != nil {
		t.Fatalf("registration: %v", err)
	}
	for range 2 {
		if _, err := login(t, rp, a, u, loginVariant{}); err != nil {
			t.Fatalf("login: %v", err)
		}
	}
	clone := New()
	if err := a.CopyTo(clone, cred.ID); err != nil {
		t.Fatal(err)
	}
	// An untouched copy continues the count, so nothing looks cloned yet.
	got, err := login(t, rp, clone, u, loginVariant{})
	if err != nil || got.Authenticator.CloneWarning {
		t.Fatalf("copy: err %v, clone warning %v", err, got != nil && got.Authenticator.CloneWarning)
	}
	if err := clone.SetCounter(cred.ID, 0); err != nil {
		t.Fatal(err)
	}
	got, err = login(t, rp, clone, u, loginVariant{})
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	if !got.Authenticator.CloneWarning {
		t.Fatalf("counter went from 3 to %d without a clone warning", got.Authenticator.SignCount)
	}
}

func TestGetWithoutMatchingCredential(t *testing.T) {
	rp, a, u := newRP(t), New(), &user{id: []byte("user-1")}
	if _, err := register(t, rp, a, u, origin); err != nil {
		t.Fatalf("registration: %v", err)
	}
	discoverable, _, err := rp.BeginDiscoverableLogin()
	if err != nil {
		t.Fatal(err)
	}
	other := u.creds[0]
	other.ID = []byte("some other credential")
	allowList, _, err := rp.BeginLogin(&user{id: u.id, creds: []webauthn.Credential{other}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		a         *Authenticator
		assertion *protocol.CredentialAssertion
	}{
		{"an authenticator without the credential", New(), discoverable},
		{"an allow list naming only another credential", a, allowList},
	} {
		t.Run(c.name, func(t *testing.T) {
			options, _ := json.Marshal(c.assertion)
			if body, err := c.a.Get(options, origin); err == nil {
				t.Fatalf("Get answered %s", body)
			}
		})
	}
	// The same calls with what it holds succeed, so the errors above are about the credential.
	options, _ := json.Marshal(discoverable)
	if _, err := a.Get(options, origin); err != nil {
		t.Fatal(err)
	}
}

func TestExcludedCredentialIsNotCreatedAgain(t *testing.T) {
	rp, a, u := newRP(t), New(), &user{id: []byte("user-1")}
	if _, err := register(t, rp, a, u, origin); err != nil {
		t.Fatalf("registration: %v", err)
	}
	creation, _, err := rp.BeginRegistration(u, webauthn.WithExclusions(webauthn.Credentials(u.creds).CredentialDescriptors()))
	if err != nil {
		t.Fatal(err)
	}
	options, _ := json.Marshal(creation)
	if _, err := a.Create(options, origin); err == nil {
		t.Fatal("Create made a second credential despite excludeCredentials")
	}
	if _, err := New().Create(options, origin); err != nil {
		t.Fatalf("another authenticator: %v", err)
	}
}

func TestConcurrentLogins(t *testing.T) {
	rp, a, u := newRP(t), New(), &user{id: []byte("user-1")}
	if _, err := register(t, rp, a, u, origin); err != nil {
		t.Fatalf("registration: %v", err)
	}
	const n = 16
	counters := make(chan uint32, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			assertion, _, err := rp.BeginDiscoverableLogin()
			if err != nil {
				t.Error(err)
				return
			}
			options, _ := json.Marshal(assertion)
			body, err := a.Get(options, origin)
			if err != nil {
				t.Error(err)
				return
			}
			parsed, err := protocol.ParseCredentialRequestResponseBody(bytes.NewReader(body))
			if err != nil {
				t.Error(err)
				return
			}
			counters <- parsed.Response.AuthenticatorData.Counter
		})
	}
	wg.Wait()
	close(counters)
	seen := map[uint32]bool{}
	for c := range counters {
		if seen[c] {
			t.Fatalf("counter %d signed twice", c)
		}
		seen[c] = true
	}
	if len(seen) != n {
		t.Fatalf("%d distinct counters from %d logins", len(seen), n)
	}
}
