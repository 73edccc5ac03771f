package activity

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"portal/store"
)

// declaredReasons is every store.Reason constant declared in
// store/model.go, read from the source so that a reason added there
// without words here fails the test below.
func declaredReasons(t *testing.T) map[string]store.Reason {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "../store/model.go", nil, 0)
	if err != nil {
		t.Fatalf("parse store/model.go: %v", err)
	}
	out := map[string]store.Reason{}
	for _, decl := range f.Decls {
		gen, ok := decl.(*ast.GenDecl)
		if !ok || gen.Tok != token.CONST {
			continue
		}
		for _, spec := range gen.Specs {
			vs := spec.(*ast.ValueSpec)
			if typ, ok := vs.Type.(*ast.Ident); !ok || typ.Name != "Reason" {
				continue
			}
			for i, name := range vs.Names {
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					t.Fatalf("store.%s: want a string literal, the way the test reads reasons", name.Name)
				}
				v, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatalf("store.%s: %v", name.Name, err)
				}
				out[name.Name] = store.Reason(v)
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("found no Reason constants in store/model.go; has the declaration moved?")
	}
	return out
}

// TestEveryReasonHasItsWords: every reason a session can end for has a
// sign-in sentence and an activity log sentence, whatever the rules, and
// the table names no reason the store does not declare.
func TestEveryReasonHasItsWords(t *testing.T) {
	declared := declaredReasons(t)
	rules := []struct {
		name string
		d    Describer
	}{
		{"no rules", Describer{}},
		{"rules set", Describer{Policy: store.Policy{IdleTimeout: 12 * time.Hour, MaxLifetime: 14 * 24 * time.Hour}, SessionLimit: 5}},
	}
	for name, r := range declared {
		for _, rule := range rules {
			t.Run(name+"/"+rule.name, func(t *testing.T) {
				if s := SignInText(r, rule.d.Policy); s == "" {
					t.Errorf("store.%s (%q) has no sign-in sentence", name, r)
				}
				s := rule.d.Describe(store.Event{Kind: store.EventEnded, Reason: r}).Sentence
				if s == "" || s == "Ended" {
					t.Errorf("store.%s (%q) has no activity sentence: %q", name, r, s)
				}
			})
		}
	}
	known := map[store.Reason]bool{}
	for _, r := range declared {
		known[r] = true
	}
	for r := range reasons {
		if !known[r] {
			t.Errorf("the words name %q, which store/model.go does not declare", r)
		}
	}
}

func TestSignInText(t *testing.T) {
	p := store.Policy{IdleTimeout: 12 * time.Hour, MaxLifetime: 14 * 24 * time.Hour}
	tests := []struct {
		reason store.Reason
		want   string
	}{
		{"", ""},
		{"no_such_reason", ""},
		{store.ReasonSignedOut, "You have signed out."},
		{store.ReasonIdle, "Your session expired after 12 hours of inactivity. Sign in again to continue."},
		{store.ReasonLifetime, "Your session reached its maximum lifetime of 14 days. Sign in again to continue."},
		{store.ReasonPartner, "Your AiDial partner signed this session out."},
		{store.ReasonPartnerAll, "Your AiDial partner signed you out of every device."},
		// portal sessions revoke-all: an operator, not the partner.
		{store.ReasonEverywhere, "You were signed out of every device by an administrator."},
	}
	for _, tt := range tests {
		t.Run(string(tt.reason), func(t *testing.T) {
			if got := SignInText(tt.reason, p); got != tt.want {
				t.Fatalf("SignInText(%q) = %q; want %q", tt.reason, got, tt.want)
			}
		})
	}
}

// TestDocsQuoteSignInText: docs/behaviour.md quotes what a browser signed
// out by its partner, or by an operator, reads; a change of wording here
// must change the docs too, so the two say one thing.
func TestDocsQuoteSignInText(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "docs", "behaviour.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(strings.Fields(string(doc)), " ") // sentences wrap across lines
	for _, r := range []store.Reason{store.ReasonPartner, store.ReasonPartnerAll, store.ReasonEverywhere} {
		if want := SignInText(r, store.Policy{}); !strings.Contains(text, `"`+want+`"`) {
			t.Errorf("docs/behaviour.md does not quote %s's sign-in sentence %q", r, want)
		}
	}
}
