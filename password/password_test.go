package password

import (
	"strings"
	"testing"
	"time"
)

func TestHashVerify(t *testing.T) {
	h, err := Hash("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q does not use argon2id with OWASP parameters", h)
	}
	h2, _ := Hash("correct horse battery staple")
	if h == h2 {
		t.Fatal("two hashes of one password are equal: salt is not random")
	}
	tests := []struct {
		name    string
		encoded string
		pw      string
		want    bool
	}{
		{"right password", h, "correct horse battery staple", true},
		{"wrong password", h, "correct horse battery stapler", false},
		{"empty password", h, "", false},
		{"too long", h, strings.Repeat("a", MaxLen+1), false},
		{"empty hash", "", "x", false},
		{"not argon2id", "$argon2i$v=19$m=19456,t=2,p=1$c2FsdA$a2V5", "x", false},
		{"bad params", "$argon2id$v=19$m=x,t=2,p=1$c2FsdA$a2V5", "x", false},
		{"huge memory", "$argon2id$v=19$m=99999999,t=2,p=1$c2FsdA$a2V5", "x", false},
		{"bad base64", "$argon2id$v=19$m=19456,t=2,p=1$!!$!!", "x", false},
		{"truncated", h[:len(h)-10], "correct horse battery staple", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Verify(tt.encoded, tt.pw); got != tt.want {
				t.Fatalf("Verify = %v, want %v", got, tt.want)
			}
		})
	}
	if VerifyNoUser("correct horse battery staple") {
		t.Fatal("VerifyNoUser returned true")
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		pw string
		ok bool
	}{
		{"short", false},
		{"elevenchars", false},
		{"twelve chars", true},
		{"ääääääääääää", true}, // 12 runes, 24 bytes
		{strings.Repeat("a", MaxLen), true},
		{strings.Repeat("a", MaxLen+1), false},
	}
	for _, tt := range tests {
		if got := Check(tt.pw) == ""; got != tt.ok {
			t.Errorf("Check(%.20q) ok = %v, want %v (%s)", tt.pw, got, tt.ok, Check(tt.pw))
		}
	}
}

func BenchmarkHash(b *testing.B) {
	for b.Loop() {
		Hash("correct horse battery staple")
	}
}

// TestNoUserDelay: the delay for an unknown account is one of the latest
// measured checks.
func TestNoUserDelay(t *testing.T) {
	d := &durations{}
	if d.sample() != 0 {
		t.Fatal("no measure yet, and a delay")
	}
	for i := range 40 {
		d.record(time.Duration(i) * time.Millisecond)
	}
	for range 200 {
		// Only the latest len(ring) measures: 24 ms to 39 ms.
		if s := d.sample(); s < 24*time.Millisecond || s > 39*time.Millisecond {
			t.Fatalf("sample %s is not one of the latest measures", s)
		}
	}
	if NoUserDelay() <= 0 {
		t.Fatal("NoUserDelay is zero after the dummy hash was checked at start")
	}
}
