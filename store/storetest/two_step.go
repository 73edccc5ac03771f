package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"portal/store"
)

var twoStepTests = []test{
	{"TwoStepOnAndOff", testTwoStepOnAndOff},
	{"CodeAcceptedOnce", testCodeAcceptedOnce},
	{"CodeAcceptedOnceInParallel", testCodeAcceptedOnceInParallel},
	{"RecoveryCodeUsedOnceInParallel", testRecoveryCodeUsedOnceInParallel},
	{"NewRecoveryCodesVoidTheOld", testNewRecoveryCodesVoidTheOld},
	{"PartnerResetsTwoStep", testPartnerResetsTwoStep},
	{"RequireTwoStep", testRequireTwoStep},
	{"SessionAuthAndConfirmation", testSessionAuthAndConfirmation},
}

var (
	testSecret = []byte("12345678901234567890") // RFC 6238's own test key
	testCodes  = func() []string {
		out := make([]string, store.RecoveryCodes)
		for i := range out {
			out[i] = fmt.Sprintf("ABCD-EFGH-%02d", i)
		}
		return out
	}()
)

// The secret comes back as it went in, but is never kept so; turning it
// off forgets it; each change is one event.
func testTwoStepOnAndOff(t *testing.T, open Opener) {
	s, clk := openAt(t, open, Options{})
	u := mustUser(t, s, store.RoleClientStaff)
	// When it was turned on or off is noted on the user: device cookies
	// from before either change are void.
	stamped := func(want time.Time) {
		t.Helper()
		if got, err := s.UserByID(u.ID); err != nil || !got.TwoStepChangedAt.Equal(want) {
			t.Errorf("the user's TwoStepChangedAt = %v, %v; want %v", got.TwoStepChangedAt, err, want)
		}
	}
	stamped(time.Time{})
	if _, err := s.TwoStep(u.ID); !errors.Is(err, store.ErrTwoStepOff) {
		t.Fatalf("TwoStep of a new user: %v, want ErrTwoStepOff", err)
	}
	sess, _ := mustSession(t, s, u.ID, store.NewSession{})
	on := clk.Advance(time.Minute)
	if err := s.EnableTwoStep(u.ID, store.Actor{Session: sess.ID}, testSecret, testCodes); err != nil {
		t.Fatal(err)
	}
	stamped(on)
	ts, err := s.TwoStep(u.ID)
	if err != nil || !bytes.Equal(ts.Secret, testSecret) || ts.CodesLeft != store.RecoveryCodes || ts.LastStep != 0 {
		t.Fatalf("TwoStep = %+v, %v; want the secret back and %d codes", ts, err, store.RecoveryCodes)
	}
	rec, err := s.(interface {
		TwoStepRecord(string) (store.TwoStepRecord, error)
	}).TwoStepRecord(u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(rec.Sealed, testSecret) {
		t.Error("the database holds the secret in clear")
	}
	for _, h := range rec.Codes {
		for _, c := range testCodes {
			if h == c || h == store.NormalizeRecoveryCode(c) {
				t.Error("the database holds a recovery code in clear")
			}
		}
	}
	if err := s.EnableTwoStep(noSuchID, store.Actor{}, testSecret, testCodes); err == nil {
		t.Error("EnableTwoStep of no user succeeded")
	}
	off := clk.Advance(time.Minute)
	if err := s.DisableTwoStep(u.ID, store.Actor{Session: sess.ID}); err != nil {
		t.Fatal(err)
	}
	stamped(off)
	if _, err := s.TwoStep(u.ID); !errors.Is(err, store.ErrTwoStepOff) {
		t.Errorf("TwoStep after turning it off: %v, want ErrTwoStepOff", err)
	}
	if err := s.DisableTwoStep(u.ID, store.Actor{}); !errors.Is(err, store.ErrTwoStepOff) {
		t.Errorf("turning it off twice: %v, want ErrTwoStepOff", err)
	}
	if _, err := s.UserSession(u.ID, sess.ID); err != nil {
		t.Errorf("the user's own turning off signed the session out: %v", err)
	}
	got := userEvents(t, s, u.ID)
	want := []string{"signed_in ", "two_step_on ", "two_step_off "}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("events %v, want %v", got, want)
	}
}

// A code of a time step is accepted once; one of that step or an earlier
// one never again.
func testCodeAcceptedOnce(t *testing.T, open Opener) {
	s, _ := openAt(t, open, Options{})
	u := mustUser(t, s, store.RoleClientStaff)
	if err := s.AcceptCode(u.ID, 100); !errors.Is(err, store.ErrTwoStepOff) {
		t.Errorf("AcceptCode without two-step sign-in: %v, want ErrTwoStepOff", err)
	}
	if err := s.EnableTwoStep(u.ID, store.Actor{}, testSecret, testCodes); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		step int64
		want error
	}{{100, nil}, {100, store.ErrCodeUsed}, {99, store.ErrCodeUsed}, {101, nil}, {101, store.ErrCodeUsed}} {
		if err := s.AcceptCode(u.ID, tc.step); !errors.Is(err, tc.want) {
			t.Errorf("AcceptCode(%d) = %v, want %v", tc.step, err, tc.want)
		}
	}
	if ts, _ := s.TwoStep(u.ID); ts.LastStep != 101 {
		t.Errorf("last step %d, want 101", ts.LastStep)
	}
}

// The same code brought by requests released together is accepted once.
func testCodeAcceptedOnceInParallel(t *testing.T, open Opener) {
	s, _ := openAt(t, open, Options{})
	u := mustUser(t, s, store.RoleClientStaff)
	if err := s.EnableTwoStep(u.ID, store.Actor{}, testSecret, testCodes); err != nil {
		t.Fatal(err)
	}
	if n := race(t, 16, func() error { return s.AcceptCode(u.ID, 500) }, store.ErrCodeUsed); n != 1 {
		t.Errorf("%d of 16 parallel uses of one code accepted, want 1", n)
	}
}

// One recovery code brought by requests released together works once,
// typed any way; the event says how many are left.
func testRecoveryCodeUsedOnceInParallel(t *testing.T, open Opener) {
	s, _ := openAt(t, open, Options{})
	u := mustUser(t, s, store.RoleClientStaff)
	if _, err := s.UseRecoveryCode(u.ID, testCodes[0]); !errors.Is(err, store.ErrCodeUsed) && !errors.Is(err, store.ErrTwoStepOff) {
		t.Errorf("a recovery code without two-step sign-in: %v", err)
	}
	if err := s.EnableTwoStep(u.ID, store.Actor{}, testSecret, testCodes); err != nil {
		t.Fatal(err)
	}
	var left atomic.Int64
	n := race(t, 16, func() error {
		l, err := s.UseRecoveryCode(u.ID, " abcd efgh 03 ") // as a person might type testCodes[3]
		if err == nil {
			left.Store(int64(l))
		}
		return err
	}, store.ErrCodeUsed)
	if n != 1 || left.Load() != store.RecoveryCodes-1 {
		t.Errorf("%d of 16 parallel uses of one recovery code accepted, %d left; want 1 and %d", n, left.Load(), store.RecoveryCodes-1)
	}
	if _, err := s.UseRecoveryCode(u.ID, "ABCD-EFGH-99"); !errors.Is(err, store.ErrCodeUsed) {
		t.Errorf("a code never issued: %v, want ErrCodeUsed", err)
	}
	p, err := s.UserEvents(u.ID, store.EventQuery{Kinds: []store.EventKind{store.EventRecoveryCodeUsed}})
	if err != nil || p.Total != 1 || p.Events[0].Count != store.RecoveryCodes-1 {
		t.Errorf("recovery-code events %+v, %v; want one saying %d left", p.Events, err, store.RecoveryCodes-1)
	}
}

// race runs fn in n goroutines released together and counts successes;
// any error but refused fails the test.
func race(t *testing.T, n int, fn func() error, refused error) int {
	t.Helper()
	start := make(chan struct{})
	var ok atomic.Int64
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			<-start
			switch err := fn(); {
			case err == nil:
				ok.Add(1)
			case !errors.Is(err, refused):
				t.Errorf("unexpected error: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	return int(ok.Load())
}

func testNewRecoveryCodesVoidTheOld(t *testing.T, open Opener) {
	s, _ := openAt(t, open, Options{})
	u := mustUser(t, s, store.RoleClientStaff)
	if err := s.EnableTwoStep(u.ID, store.Actor{}, testSecret, testCodes); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UseRecoveryCode(u.ID, testCodes[0]); err != nil {
		t.Fatal(err)
	}
	fresh := []string{"NEW1-CODE", "NEW2-CODE"}
	if err := s.NewRecoveryCodes(u.ID, store.Actor{}, fresh); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UseRecoveryCode(u.ID, testCodes[1]); !errors.Is(err, store.ErrCodeUsed) {
		t.Errorf("an old code after a new set: %v, want ErrCodeUsed", err)
	}
	if left, err := s.UseRecoveryCode(u.ID, "new1code"); err != nil || left != 1 {
		t.Errorf("a new code: %d left, %v; want 1", left, err)
	}
	if ts, err := s.TwoStep(u.ID); err != nil || !bytes.Equal(ts.Secret, testSecret) {
		t.Errorf("new codes changed the secret: %+v, %v", ts, err)
	}
}

// A partner turns off a client user's two-step sign-in: only for a user it
// manages (anything else is ErrNotFound and changes nothing), and it signs
// the user out everywhere, naming the partner user.
func testPartnerResetsTwoStep(t *testing.T, open Opener) {
	w := newPartnerWorld(t, open)
	s := w.Store
	for _, u := range []store.User{w.Mine, w.Theirs, w.Unmanaged, w.Colleague} {
		if err := s.EnableTwoStep(u.ID, store.Actor{}, testSecret, testCodes); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []store.User{w.Theirs, w.Unmanaged, w.Colleague} {
		if _, err := s.ResetTwoStep(w.P1.ID, u.ID, store.Actor{User: w.Colleague.ID}); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("partner reset of %s: %v, want ErrNotFound", u.Email, err)
		}
		if _, err := s.TwoStep(u.ID); err != nil {
			t.Errorf("%s's two-step sign-in after a refused reset: %v", u.Email, err)
		}
	}
	n, err := s.ResetTwoStep(w.P1.ID, w.Mine.ID, store.Actor{User: w.Colleague.ID})
	if err != nil || n != 1 {
		t.Fatalf("ResetTwoStep = %d, %v; want the user's 1 session signed out", n, err)
	}
	if _, err := s.TwoStep(w.Mine.ID); !errors.Is(err, store.ErrTwoStepOff) {
		t.Errorf("after the reset: %v, want off", err)
	}
	wantEnded(t, s, w.Tokens[w.Mine.ID], store.ReasonTwoStepReset)
	p, err := s.UserEvents(w.Mine.ID, store.EventQuery{Kinds: []store.EventKind{store.EventTwoStepOff}})
	if err != nil || p.Total != 1 || p.Events[0].By.User != w.Colleague.ID {
		t.Errorf("two-step-off events %+v, %v; want one by the partner user", p.Events, err)
	}
	// An operator: no partner, nobody named.
	if _, err := s.ResetTwoStep("", w.Theirs.ID, store.Actor{}); err != nil {
		t.Errorf("an operator's reset: %v", err)
	}
	mustCheck(t, s)
}

// A partner requires two-step sign-in of a client it manages, and only
// of one; each of the client's users is told.
func testRequireTwoStep(t *testing.T, open Opener) {
	w := newPartnerWorld(t, open)
	s := w.Store
	for _, a := range []store.Account{w.C3, w.Free, w.P1} {
		if err := s.SetRequireTwoStep(w.P1.ID, a.ID, store.Actor{User: w.Colleague.ID}, true); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("partner requires it of %s: %v, want ErrNotFound", a.Name, err)
		}
		if got, _ := s.AccountByID(a.ID); got.RequireTwoStep {
			t.Errorf("%s requires it after a refused change", a.Name)
		}
	}
	if err := s.SetRequireTwoStep(w.P1.ID, w.C1.ID, store.Actor{User: w.Colleague.ID}, true); err != nil {
		t.Fatal(err)
	}
	if a, err := s.AccountByID(w.C1.ID); err != nil || !a.RequireTwoStep {
		t.Errorf("the client after the switch: %+v, %v", a, err)
	}
	if u, a, err := s.PartnerUser(w.P1.ID, w.Mine.ID); err != nil || !a.RequireTwoStep || u.ID != w.Mine.ID {
		t.Errorf("the partner's view of the user's account: %+v, %v", a, err)
	}
	p, err := s.UserEvents(w.Mine.ID, store.EventQuery{Kinds: []store.EventKind{store.EventTwoStepRequired}})
	if err != nil || p.Total != 1 || p.Events[0].By.User != w.Colleague.ID {
		t.Errorf("the user's log: %+v, %v; want one event by the partner user", p.Events, err)
	}
	if err := s.SetRequireTwoStep("", w.C1.ID, store.Actor{}, false); err != nil {
		t.Fatal(err)
	}
	if a, _ := s.AccountByID(w.C1.ID); a.RequireTwoStep {
		t.Error("an operator's switch back did not take")
	}
}

// A session keeps how it signed in (the password alone unless told), and
// when its user last confirmed it was them.
func testSessionAuthAndConfirmation(t *testing.T, open Opener) {
	s, clk := openAt(t, open, Options{})
	u := mustUser(t, s, store.RoleClientStaff)
	plain, plainTok := mustSession(t, s, u.ID, store.NewSession{})
	app, appTok := mustSession(t, s, u.ID, store.NewSession{Auth: store.AuthPasswordApp})
	for tok, want := range map[string]store.AuthMethod{plainTok: store.AuthPassword, appTok: store.AuthPasswordApp} {
		if x, _, err := s.Authenticate(tok); err != nil || x.Auth != want {
			t.Errorf("Authenticate: auth %q, %v; want %q", x.Auth, err, want)
		}
	}
	list, err := s.ListUserSessions(u.ID)
	if err != nil || len(list) != 2 {
		t.Fatal(len(list), err)
	}
	for _, x := range list {
		if want := map[string]store.AuthMethod{plain.ID: store.AuthPassword, app.ID: store.AuthPasswordApp}[x.ID]; x.Auth != want {
			t.Errorf("listed session %s signed in with %q, want %q", x.ID, x.Auth, want)
		}
	}
	at := clk.Advance(time.Minute)
	if err := s.ConfirmSession(u.ID, app.ID); err != nil {
		t.Fatal(err)
	}
	if x, _, err := s.Authenticate(appTok); err != nil || !x.ConfirmedAt.Equal(at) {
		t.Errorf("after confirming: confirmed at %v, %v; want %v", x.ConfirmedAt, err, at)
	}
	other := mustUser(t, s, store.RoleClientStaff)
	if err := s.ConfirmSession(other.ID, app.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("confirming another user's session: %v, want ErrNotFound", err)
	}
}
