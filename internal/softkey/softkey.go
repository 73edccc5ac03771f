// Package softkey is a software passkey authenticator for Go tests and the
// benchmark: it takes the JSON options a server sends to
// navigator.credentials.create and .get and returns the JSON a browser would
// POST back (PublicKeyCredential.toJSON), so handlers can be driven through
// real HTTP requests without a browser. Browser tests use Chromium's virtual
// authenticator instead.
//
// It makes ES256 (P-256) keys, every credential is resident (discoverable),
// user verification is always performed and attestation is always "none".
package softkey

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sync"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"
)

// Authenticator data flags (WebAuthn §6.1).
const (
	flagUP = 0x01
	flagUV = 0x04
	flagBE = 0x08
	flagBS = 0x10
	flagAT = 0x40
)

// Options change how the authenticator behaves, mostly for negative tests.
// The zero value is a well-behaved device-bound passkey.
type Options struct {
	// Origin is written into clientDataJSON when Create or Get is given "".
	Origin string
	// BackupEligible and BackupState set the BE and BS flags, as a synced
	// passkey does.
	BackupEligible, BackupState bool
	// NoUserVerification clears the UV flag, as if the user only touched the key.
	NoUserVerification bool
	// ZeroCounter keeps the signature counter at 0, as synced passkeys do;
	// otherwise each assertion adds 1.
	ZeroCounter bool
}

// Authenticator is a software passkey authenticator. It is safe for
// concurrent use.
type Authenticator struct {
	mu    sync.Mutex
	opts  Options
	creds []*credential // oldest first, so the last match is the most recent
}

type credential struct {
	id         []byte
	rpID       string
	userHandle []byte
	key        *ecdsa.PrivateKey
	counter    uint32
}

// New returns an authenticator holding no credentials, with zero Options.
func New() *Authenticator { return &Authenticator{} }

// SetOptions replaces all the options, Origin included, for later calls.
func (a *Authenticator) SetOptions(o Options) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.opts = o
}

func (a *Authenticator) options() Options {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.opts
}

// Credentials returns the ids of the credentials held, oldest first.
func (a *Authenticator) Credentials() [][]byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	ids := make([][]byte, len(a.creds))
	for i, c := range a.creds {
		ids[i] = slices.Clone(c.id)
	}
	return ids
}

// SetCounter sets a credential's signature counter; the next assertion signs
// n+1 (or 0 with ZeroCounter). Rolling it back imitates a cloned key.
func (a *Authenticator) SetCounter(id []byte, n uint32) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.find(id)
	if c == nil {
		return fmt.Errorf("softkey: set counter: no credential %s", protocol.URLEncodedBase64(id))
	}
	c.counter = n
	return nil
}

// CopyTo copies a credential, key and counter included, into dst, which then
// holds a clone of the same passkey.
func (a *Authenticator) CopyTo(dst *Authenticator, id []byte) error {
	a.mu.Lock()
	c := a.find(id)
	var cp credential
	if c != nil {
		cp = *c
	}
	a.mu.Unlock()
	if c == nil {
		return fmt.Errorf("softkey: copy: no credential %s", protocol.URLEncodedBase64(id))
	}
	dst.mu.Lock()
	defer dst.mu.Unlock()
	dst.creds = append(dst.creds, &cp)
	return nil
}

// find needs a.mu held.
func (a *Authenticator) find(id []byte) *credential {
	for _, c := range a.creds {
		if bytes.Equal(c.id, id) {
			return c
		}
	}
	return nil
}

// creationOptions is the part of PublicKeyCredentialCreationOptions used
// here. The library's own type holds user.id as `any`, so it is not reused.
type creationOptions struct {
	Challenge protocol.URLEncodedBase64 `json:"challenge"`
	RP        struct {
		ID string `json:"id"`
	} `json:"rp"`
	User struct {
		ID protocol.URLEncodedBase64 `json:"id"`
	} `json:"user"`
	PubKeyCredParams   []protocol.CredentialParameter  `json:"pubKeyCredParams"`
	ExcludeCredentials []protocol.CredentialDescriptor `json:"excludeCredentials"`
}

type requestOptions struct {
	Challenge        protocol.URLEncodedBase64       `json:"challenge"`
	RPID             string                          `json:"rpId"`
	AllowCredentials []protocol.CredentialDescriptor `json:"allowCredentials"`
}

// The response shapes follow PublicKeyCredential.toJSON() rather than the
// library's types, which drop an empty clientExtensionResults.
type attestationResponse struct {
	ClientDataJSON     protocol.URLEncodedBase64 `json:"clientDataJSON"`
	AuthenticatorData  protocol.URLEncodedBase64 `json:"authenticatorData"`
	Transports         []string                  `json:"transports"`
	PublicKey          protocol.URLEncodedBase64 `json:"publicKey"`
	PublicKeyAlgorithm int64                     `json:"publicKeyAlgorithm"`
	AttestationObject  protocol.URLEncodedBase64 `json:"attestationObject"`
}

type assertionResponse struct {
	ClientDataJSON    protocol.URLEncodedBase64 `json:"clientDataJSON"`
	AuthenticatorData protocol.URLEncodedBase64 `json:"authenticatorData"`
	Signature         protocol.URLEncodedBase64 `json:"signature"`
	UserHandle        protocol.URLEncodedBase64 `json:"userHandle"`
}

type publicKeyCredential struct {
	ID                      string         `json:"id"`
	RawID                   string         `json:"rawId"`
	Type                    string         `json:"type"`
	Response                any            `json:"response"`
	ClientExtensionResults  map[string]any `json:"clientExtensionResults"`
	AuthenticatorAttachment string         `json:"authenticatorAttachment"`
}

// Create answers navigator.credentials.create. optionsJSON is what the server
// sends, {"publicKey": {...}} or the inner object alone; origin goes into
// clientDataJSON ("" means Options.Origin). It returns the registration
// response body.
func (a *Authenticator) Create(optionsJSON []byte, origin string) ([]byte, error) {
	var in creationOptions
	if err := unwrap(optionsJSON, &in); err != nil {
		return nil, fmt.Errorf("softkey: create: %w", err)
	}
	opts := a.options()
	if origin == "" {
		origin = opts.Origin
	}
	rpID, err := rpIDFor(in.RP.ID, origin)
	if err != nil {
		return nil, fmt.Errorf("softkey: create: %w", err)
	}
	if len(in.User.ID) == 0 {
		return nil, errors.New("softkey: create: options have no user.id")
	}
	if len(in.PubKeyCredParams) > 0 && !slices.ContainsFunc(in.PubKeyCredParams, func(p protocol.CredentialParameter) bool {
		return p.Algorithm == webauthncose.AlgES256
	}) {
		return nil, errors.New("softkey: create: the server does not accept ES256")
	}
	cdj, err := clientData(protocol.CreateCeremony, in.Challenge, origin)
	if err != nil {
		return nil, fmt.Errorf("softkey: create: %w", err)
	}

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("softkey: create: key: %w", err)
	}
	c := &credential{id: make([]byte, 32), rpID: rpID, userHandle: in.User.ID, key: key}
	if _, err := rand.Read(c.id); err != nil {
		return nil, fmt.Errorf("softkey: create: credential id: %w", err)
	}
	point, err := key.PublicKey.Bytes() // 0x04 || x || y, each 32 bytes
	if err != nil {
		return nil, fmt.Errorf("softkey: create: public key: %w", err)
	}
	cose, err := webauthncbor.Marshal(webauthncose.EC2PublicKeyData{
		PublicKeyData: webauthncose.PublicKeyData{
			KeyType:   int64(webauthncose.EllipticKey),
			Algorithm: int64(webauthncose.AlgES256),
		},
		Curve:  int64(webauthncose.P256),
		XCoord: point[1:33],
		YCoord: point[33:],
	})
	if err != nil {
		return nil, fmt.Errorf("softkey: create: COSE key: %w", err)
	}
	spki, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("softkey: create: SPKI: %w", err)
	}

	authData := authenticatorData(rpID, opts, flagAT, 0)
	authData = append(authData, make([]byte, 16)...) // AAGUID: none, as attestation is none
	authData = binary.BigEndian.AppendUint16(authData, uint16(len(c.id)))
	authData = append(authData, c.id...)
	authData = append(authData, cose...)
	attObj, err := webauthncbor.Marshal(struct {
		Fmt      string         `cbor:"fmt"`
		AttStmt  map[string]any `cbor:"attStmt"`
		AuthData []byte         `cbor:"authData"`
	}{"none", map[string]any{}, authData})
	if err != nil {
		return nil, fmt.Errorf("softkey: create: attestation object: %w", err)
	}

	// Checked under the lock that adds the credential, so two concurrent
	// registrations against one exclude list cannot both succeed.
	a.mu.Lock()
	for _, d := range in.ExcludeCredentials {
		if x := a.find(d.CredentialID); x != nil && x.rpID == rpID {
			a.mu.Unlock()
			return nil, errors.New("softkey: create: a credential in excludeCredentials is already held")
		}
	}
	a.creds = append(a.creds, c)
	a.mu.Unlock()

	return marshalCredential(c.id, attestationResponse{
		ClientDataJSON:     cdj,
		AuthenticatorData:  authData,
		Transports:         []string{"internal"},
		PublicKey:          spki,
		PublicKeyAlgorithm: int64(webauthncose.AlgES256),
		AttestationObject:  attObj,
	})
}

// Get answers navigator.credentials.get. optionsJSON is what the server
// sends, {"publicKey": {...}} or the inner object alone; origin as for
// Create. It signs with the most recent credential for the rpId that is in
// allowCredentials, or with the most recent one for the rpId when that list is
// empty, and errors when none matches.
func (a *Authenticator) Get(optionsJSON []byte, origin string) ([]byte, error) {
	var in requestOptions
	if err := unwrap(optionsJSON, &in); err != nil {
		return nil, fmt.Errorf("softkey: get: %w", err)
	}

	opts := a.options()
	if origin == "" {
		origin = opts.Origin
	}
	rpID, err := rpIDFor(in.RPID, origin)
	if err != nil {
		return nil, fmt.Errorf("softkey: get: %w", err)
	}
	c, counter, err := a.next(rpID, in.AllowCredentials, opts.ZeroCounter)
	if err != nil {
		return nil, fmt.Errorf("softkey: get: %w", err)
	}

	authData := authenticatorData(rpID, opts, 0, counter)
	cdj, err := clientData(protocol.AssertCeremony, in.Challenge, origin)
	if err != nil {
		return nil, fmt.Errorf("softkey: get: %w", err)
	}
	cdHash := sha256.Sum256(cdj)
	digest := sha256.Sum256(append(slices.Clone(authData), cdHash[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, c.key, digest[:])
	if err != nil {
		return nil, fmt.Errorf("softkey: get: sign: %w", err)
	}
	return marshalCredential(c.id, assertionResponse{
		ClientDataJSON:    cdj,
		AuthenticatorData: authData,
		Signature:         sig,
		UserHandle:        c.userHandle,
	})
}

// next picks the credential Get signs with and advances its counter, under
// the lock; the signing itself is left outside it so concurrent logins (the
// benchmark) do not queue behind one another. A credential's id, user handle
// and key never change, so c can be read after the lock is released.
func (a *Authenticator) next(rpID string, allow []protocol.CredentialDescriptor, zeroCounter bool) (c *credential, counter uint32, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, x := range slices.Backward(a.creds) {
		if x.rpID == rpID && (len(allow) == 0 || slices.ContainsFunc(allow, func(d protocol.CredentialDescriptor) bool {
			return bytes.Equal(d.CredentialID, x.id)
		})) {
			c = x
			break
		}
	}
	if c == nil {
		return nil, 0, fmt.Errorf("no credential for %q", rpID)
	}
	if zeroCounter {
		c.counter = 0
	} else {
		c.counter++
	}
	return c, c.counter, nil
}

// unwrap decodes options sent either as CredentialCreation/CredentialAssertion
// ({"publicKey": {...}}) or as the inner object alone.
func unwrap(optionsJSON []byte, v any) error {
	var outer struct {
		PublicKey json.RawMessage `json:"publicKey"`
	}
	if err := json.Unmarshal(optionsJSON, &outer); err != nil {
		return fmt.Errorf("options: %w", err)
	}
	inner := optionsJSON
	if len(outer.PublicKey) > 0 {
		inner = outer.PublicKey
	}
	if err := json.Unmarshal(inner, v); err != nil {
		return fmt.Errorf("options: %w", err)
	}
	return nil
}

// rpIDFor falls back, as a browser does, to the origin's host when the server
// names no RP ID.
func rpIDFor(rpID, origin string) (string, error) {
	if origin == "" {
		return "", errors.New("no origin given")
	}
	if rpID != "" {
		return rpID, nil
	}
	u, err := url.Parse(origin)
	if err != nil || u.Hostname() == "" {
		return "", fmt.Errorf("origin %q has no host for the RP ID", origin)
	}
	return u.Hostname(), nil
}

// authenticatorData returns rpIdHash || flags || counter, without attested
// credential data.
func authenticatorData(rpID string, opts Options, extra byte, counter uint32) []byte {
	flags := byte(flagUP) | extra
	if !opts.NoUserVerification {
		flags |= flagUV
	}
	if opts.BackupEligible {
		flags |= flagBE
	}
	if opts.BackupState {
		flags |= flagBS
	}
	h := sha256.Sum256([]byte(rpID))
	return binary.BigEndian.AppendUint32(append(h[:], flags), counter)
}

func clientData(typ protocol.CeremonyType, challenge protocol.URLEncodedBase64, origin string) ([]byte, error) {
	if len(challenge) == 0 {
		return nil, errors.New("options have no challenge")
	}
	// Field order as browsers write it; the challenge is re-encoded from the
	// decoded bytes, as a browser does, so padding in the options is dropped.
	b, err := json.Marshal(struct {
		Type        protocol.CeremonyType `json:"type"`
		Challenge   string                `json:"challenge"`
		Origin      string                `json:"origin"`
		CrossOrigin bool                  `json:"crossOrigin"`
	}{typ, challenge.String(), origin, false})
	if err != nil {
		return nil, fmt.Errorf("client data: %w", err)
	}
	return b, nil
}

func marshalCredential(id []byte, response any) ([]byte, error) {
	enc := protocol.URLEncodedBase64(id).String()
	b, err := json.Marshal(publicKeyCredential{
		ID:                      enc,
		RawID:                   enc,
		Type:                    string(protocol.PublicKeyCredentialType),
		Response:                response,
		ClientExtensionResults:  map[string]any{},
		AuthenticatorAttachment: string(protocol.Platform),
	})
	if err != nil {
		return nil, fmt.Errorf("softkey: response: %w", err)
	}
	return b, nil
}
