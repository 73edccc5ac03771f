package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"portal/store"
)

// The checks of a passkey's answer are the library's (origin, relying
// party, challenge, user verification, signature, flags); what is the
// portal's own is finding the user, and the signature counter, whose
// check and update are one step in the store.

// passkeyUser is a portal user as the library sees one.
type passkeyUser struct {
	handle []byte
	user   store.User
	creds  []webauthn.Credential
}

func (u *passkeyUser) WebAuthnID() []byte                         { return u.handle }
func (u *passkeyUser) WebAuthnName() string                       { return u.user.Email }
func (u *passkeyUser) WebAuthnDisplayName() string                { return displayName(u.user) }
func (u *passkeyUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

func displayName(u store.User) string {
	if u.Name != "" {
		return u.Name
	}
	return u.Email
}

// credentialOf is the library's record of pk.
func credentialOf(pk store.Passkey) (webauthn.Credential, error) {
	var cred webauthn.Credential
	if err := json.Unmarshal(pk.Credential, &cred); err != nil {
		return cred, fmt.Errorf("handlers: read passkey record: %w", err)
	}
	return cred, nil
}

// passkeyUserOf is u with all of their passkeys (to add one, to ask for
// one of them).
func (h *handler) passkeyUserOf(u store.User) (*passkeyUser, []store.Passkey, error) {
	handle, err := h.passkeys.PasskeyHandle(u.ID)
	if err != nil {
		return nil, nil, err
	}
	pks, err := h.passkeys.Passkeys(u.ID)
	if err != nil {
		return nil, nil, err
	}
	pu := &passkeyUser{handle: handle, user: u}
	for _, pk := range pks {
		cred, err := credentialOf(pk)
		if err != nil {
			return nil, nil, err
		}
		pu.creds = append(pu.creds, cred)
	}
	return pu, pks, nil
}

// errPasskeyRefused is every way a passkey's answer can fail that is the
// browser's doing (unknown credential, wrong origin, replayed or expired
// challenge, bad signature, no user verification, a copied key): one
// sentence for all, so nothing says whether an account exists.
var errPasskeyRefused = errors.New("passkey refused")

// assertion is a passkey's answer that the library accepted, and the use
// it makes of the passkey, still to be written (with the session it signs
// in, or alone): the store refuses a counter that did not move forward.
type assertion struct {
	User    store.User
	Passkey store.Passkey
	Use     store.PasskeyUse
}

// refusedUse is err, a store's answer to writing a passkey's use, as the
// handlers treat it: a copied key, or a passkey removed meanwhile, is
// refused like any wrong answer.
func refusedUse(err error) error {
	if errors.Is(err, store.ErrSignCountBack) || errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: %v", errPasskeyRefused, err)
	}
	return err
}

// verifyAssertion checks body, the browser's answer to cer. With for nil the ceremony was discoverable and the answer
// names its user; else it must be one of for's passkeys. known is set
// when the answer named a real user (whose failure can be recorded).
func (h *handler) verifyAssertion(cer ceremony, body []byte, forUser *passkeyUser) (a assertion, known bool, err error) {
	parsed, err := protocol.ParseCredentialRequestResponseBytes(body)
	if err != nil {
		return a, false, fmt.Errorf("%w: %v", errPasskeyRefused, err)
	}
	var cred *webauthn.Credential
	var storeErr error // the database failing, rather than the answer
	if forUser == nil {
		lookup := func(rawID, handle []byte) (webauthn.User, error) {
			u, pk, err := h.passkeys.PasskeyOwner(handle, rawID)
			if err != nil {
				if !errors.Is(err, store.ErrNotFound) {
					storeErr = err
				}
				return nil, err
			}
			c, err := credentialOf(pk)
			if err != nil {
				return nil, err
			}
			a.User, a.Passkey, known = u, pk, true
			return &passkeyUser{handle: bytes.Clone(handle), user: u, creds: []webauthn.Credential{c}}, nil
		}
		_, cred, err = h.rp.wa.ValidatePasskeyLogin(lookup, cer.Data, parsed)
	} else {
		a.User, known = forUser.user, true
		cred, err = h.rp.wa.ValidateLogin(forUser, cer.Data, parsed)
		if err == nil {
			a.Passkey, err = h.passkeys.UserPasskey(forUser.user.ID, cred.ID)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				storeErr = err
			}
		}
	}
	switch {
	case storeErr != nil:
		return a, known, storeErr
	case err != nil: // the library's checks, all about the answer
		return a, known, fmt.Errorf("%w: %v", errPasskeyRefused, err)
	}
	if !parsed.Response.AuthenticatorData.Flags.HasUserVerified() {
		return a, known, fmt.Errorf("%w: no user verification", errPasskeyRefused)
	}
	record, err := json.Marshal(cred)
	if err != nil {
		return a, known, err
	}
	a.Use = store.PasskeyUse{
		Credential:  record,
		SignCount:   parsed.Response.AuthenticatorData.Counter,
		BackupState: parsed.Response.AuthenticatorData.Flags.HasBackupState(),
	}
	return a, known, nil
}
