package handlers

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/gofiber/fiber/v2"

	"portal/store"
)

// Passkeys are bound to one web origin: the portal's public address
// (Config.PublicURL), whose host is the WebAuthn relying party id. A
// browser signs only for the origin it is on, so a portal reached at
// any other address (an IP, another name) cannot use them and says so
// rather than failing in the browser without a word.

// relyingParty is the portal as a WebAuthn relying party.
type relyingParty struct {
	wa     *webauthn.WebAuthn
	origin string // "https://portal.example.com"
}

// ParsePublicURL checks a public address for passkeys: http or https, a
// host name (a relying party id cannot be an IP address), no path, query,
// user or fragment; plain http only for localhost, where browsers allow
// WebAuthn without TLS. It returns the origin ("" for "").
func ParsePublicURL(raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return "", fmt.Errorf("must be an address like https://portal.example.com, got %q", raw)
	}
	host := u.Hostname()
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return "", fmt.Errorf("must start with https:// (or http:// for localhost), got %q", raw)
	case u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return "", fmt.Errorf("must be the portal's address alone, without a path, query or user, got %q", raw)
	case isIP(host):
		return "", fmt.Errorf("must name the host, not an IP address (a passkey is bound to a name), got %q", raw)
	case u.Scheme == "http" && host != "localhost":
		return "", fmt.Errorf("must use https:// (browsers allow passkeys over plain http only on localhost), got %q", raw)
	}
	return u.Scheme + "://" + originHost(u.Scheme, u.Host), nil
}

// originHost is host as an origin writes it: lower case, without the
// scheme's default port.
func originHost(scheme, host string) string {
	host = strings.ToLower(host)
	if scheme == "https" {
		return strings.TrimSuffix(host, ":443")
	}
	return strings.TrimSuffix(host, ":80")
}

func isIP(host string) bool {
	_, err := netip.ParseAddr(strings.Trim(host, "[]"))
	return err == nil
}

// newRelyingParty is the relying party for origin; nil for "" (passkeys
// off).
func newRelyingParty(origin string) (*relyingParty, error) {
	if origin == "" {
		return nil, nil
	}
	u, err := url.Parse(origin)
	if err != nil {
		return nil, err
	}
	wa, err := webauthn.New(&webauthn.Config{
		RPID:          u.Hostname(),
		RPDisplayName: "AiDial Portal",
		RPOrigins:     []string{origin},
		// Who made the authenticator is not asked: any passkey the user's
		// device makes will do, and "none" asks nothing to be kept about it.
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey:        protocol.ResidentKeyRequirementRequired,
			RequireResidentKey: protocol.ResidentKeyRequired(),
			UserVerification:   protocol.VerificationRequired,
		},
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Enforce: true, Timeout: ceremonyLifetime, TimeoutUVD: ceremonyLifetime},
			Registration: webauthn.TimeoutConfig{Enforce: true, Timeout: ceremonyLifetime, TimeoutUVD: ceremonyLifetime},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("handlers: passkeys for %s: %w", origin, err)
	}
	return &relyingParty{wa: wa, origin: origin}, nil
}

// ceremonyLifetime is how long the store keeps a ceremony, and so how
// long the browser is given.
const ceremonyLifetime = store.CeremonyLifetime

// passkeyState is whether passkeys can be used on this request's page,
// and if not, the sentence that says why ("" when they simply are off).
type passkeyState struct {
	On     bool
	Notice string
}

// passkeysHere says whether this page, at the address it was opened at,
// can use passkeys.
func (h *handler) passkeysHere(c *fiber.Ctx) passkeyState {
	if h.rp == nil {
		return passkeyState{}
	}
	// Over HTTPS as the portal knows it (-secure-cookies, or a trusted
	// proxy's X-Forwarded-Proto), as the browser sees it.
	scheme := "http"
	if h.secure(c) || c.Protocol() == "https" {
		scheme = "https"
	}
	here := scheme + "://" + originHost(scheme, c.Hostname())
	if here != h.rp.origin {
		if len(here) > 100 {
			here = here[:100] + "…"
		}
		return passkeyState{Notice: "Passkeys work only at " + h.rp.origin + ", the portal's public address; this page was opened at " + here + ". Open the portal at " + h.rp.origin + " to use them."}
	}
	return passkeyState{On: true}
}

// errPasskeysOff answers a passkey request where they cannot work.
var errPasskeysOff = &userError{status: fiber.StatusNotFound, message: "Passkeys are not available at this address."}

// requirePasskeys refuses passkey routes where passkeys cannot work.
func (h *handler) requirePasskeys(c *fiber.Ctx) error {
	if !h.passkeysHere(c).On {
		return errPasskeysOff
	}
	return c.Next()
}

// errNoCeremony is for a finish without its begin: expired, used, or
// begun in another browser.
var errNoCeremony = errors.New("no passkey ceremony for this browser")
