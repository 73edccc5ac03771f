package main

import (
	"bytes"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"portal/internal/softkey"
)

// TestPasskeysScenario runs -passkeys briefly: users add passkeys through
// Settings, then sign in with them (and with passwords, and under a small
// flood), every sign-in succeeding, and the report says so. It checks no
// speed: that is measured, not asserted.
func TestPasskeysScenario(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a portal and hashes passwords")
	}
	cfg := config{Dir: t.TempDir(), Log: "discard", Flush: 30 * time.Second, Hub: true,
		Passkeys: passkeysConfig{Users: 3, Workers: 2, Duration: 300 * time.Millisecond,
			Flooders: 2, FloodUsers: 4, FloodKind: "known"}}
	var out bytes.Buffer
	res, err := runPasskeys(cfg, &out)
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	if res.Registered != 3 {
		t.Errorf("%d passkeys added, want 3", res.Registered)
	}
	for _, m := range []struct {
		name string
		s    signInStats
	}{{"password", res.Password}, {"passkey", res.Passkey}, {"passkey under the flood", res.Flooded}} {
		if m.s.OK == 0 || m.s.failures() != 0 {
			t.Errorf("%s sign-ins: %d ok, %d failed %v (first: %s); want some, none failed", m.name, m.s.OK, m.s.failures(), m.s.Failed, m.s.FirstErr)
		}
		if len(m.s.Latency) != m.s.OK || m.s.rate() <= 0 || m.s.p(0.5) <= 0 || m.s.p(0.99) < m.s.p(0.5) {
			t.Errorf("%s sign-ins: %d latencies for %d, %.1f/s, p50 %v, p99 %v", m.name, len(m.s.Latency), m.s.OK, m.s.rate(), m.s.p(0.5), m.s.p(0.99))
		}
		// A password sign-in writes its session; a passkey one its
		// session and the passkey's counter.
		if m.s.WriteTxs < int64(m.s.OK) {
			t.Errorf("%s sign-ins: %d write transactions for %d sign-ins", m.name, m.s.WriteTxs, m.s.OK)
		}
	}
	if res.FloodSent == 0 || res.Flood["ok"] != 0 {
		t.Errorf("the flood: %d sign-ins, answers %v; want some, none signed in", res.FloodSent, res.Flood)
	}
	if res.Ratio() <= 0 || res.FloodSlowdown() <= 0 {
		t.Errorf("ratios %.2f and %.2f, want positive", res.Ratio(), res.FloodSlowdown())
	}
	for _, want := range []string{"3 passkeys added through Settings", "password sign-ins ", "passkey sign-ins ", "passkey sign-ins, flood",
		"the flood: 2 clients", "passkey / password sign-ins per second:", "process CPU per sign-in, password / passkey:",
		"alone / under the flood:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the report has no %q", want)
		}
	}
	if strings.Contains(out.String(), "FAILED") {
		t.Errorf("the report says sign-ins failed")
	}
}

// A passkey sign-in fails, and is tallied by its request and status, when
// the authenticator's passkey is not one the portal knows.
func TestPasskeySignInUnknownKey(t *testing.T) {
	p := testPasskeyPortal(t)
	cl := newPasskeyClient(p.base)
	defer cl.close()
	err := cl.passkeySignIn(newTestKey(t, cl), workerAddr(3, 0))
	if got := failureKind(err); got != "POST /login/passkey: 401" {
		t.Fatalf("a passkey the portal does not know: %v (%s); want a 401 for POST /login/passkey", err, got)
	}
}

// testPasskeyPortal is a portal with passkeys on, over an empty store,
// until t ends.
func testPasskeyPortal(t *testing.T) *portal {
	t.Helper()
	log, err := newLogger("discard")
	if err != nil {
		t.Fatal(err)
	}
	p, err := startPortal(filepath.Join(t.TempDir(), "portal.db"), testGeoDB(t), log,
		portalOptions{Flush: time.Hour, Passkeys: true, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.close(); err != nil {
			t.Errorf("shut the portal down: %v", err)
		}
	})
	return p
}

// newTestKey is an authenticator holding a passkey for cl's origin that
// no portal has seen.
func newTestKey(t *testing.T, cl *passkeyClient) *softkey.Authenticator {
	t.Helper()
	k := softkey.New()
	if _, err := k.Create([]byte(`{"publicKey":{"challenge":"AAAAAAAAAAAAAAAAAAAAAA","rp":{"id":"localhost"},"user":{"id":"c29tZW9uZQ"}}}`), cl.origin); err != nil {
		t.Fatal(err)
	}
	return k
}
