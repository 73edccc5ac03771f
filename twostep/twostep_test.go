package twostep

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
)

// RFC 6238's test vectors for SHA-1 (8 digits there; the last six here).
func TestCodeRFC6238(t *testing.T) {
	secret := []byte("12345678901234567890")
	for _, tc := range []struct {
		unix int64
		want string
	}{{59, "287082"}, {1111111109, "081804"}, {1111111111, "050471"}, {1234567890, "005924"}, {2000000000, "279037"}} {
		if got := Code(secret, time.Unix(tc.unix, 0)); got != tc.want {
			t.Errorf("Code at %d = %s, want %s", tc.unix, got, tc.want)
		}
	}
}

func TestSteps(t *testing.T) {
	secret := []byte("12345678901234567890")
	now := time.Unix(1111111111, 0)
	for _, tc := range []struct {
		name string
		at   time.Time
		code string
		want int
	}{
		{"now", now, Code(secret, now), 1},
		{"one step ago", now, Code(secret, now.Add(-30*time.Second)), 1},
		{"one step ahead", now, Code(secret, now.Add(30*time.Second)), 1},
		{"three steps ago", now, Code(secret, now.Add(-90*time.Second)), 0},
		{"five digits", now, Code(secret, now)[:5], 0},
		{"seven digits", now, Code(secret, now) + "1", 0},
		{"letters", now, "12a456", 0},
		{"empty", now, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Steps(secret, tc.code, tc.at); len(got) != tc.want {
				t.Errorf("Steps = %v, want %d of them", got, tc.want)
			}
		})
	}
	if got := Steps(secret, Code(secret, now), now); len(got) != 1 || got[0] != Step(now) {
		t.Errorf("Steps of now's code = %v, want [%d]", got, Step(now))
	}
}

func TestNewKeyRoundTrip(t *testing.T) {
	k, err := NewKey("ann@client.example")
	if err != nil {
		t.Fatal(err)
	}
	if len(k.Secret) != 20 {
		t.Errorf("secret of %d bytes, want 20", len(k.Secret))
	}
	parsed, err := otp.NewKeyFromURL(k.URL)
	if err != nil || parsed.Issuer() != Issuer || parsed.AccountName() != "ann@client.example" {
		t.Fatalf("URL %q: %v", k.URL, err)
	}
	if got := strings.ReplaceAll(Text(k.Secret), " ", ""); got != parsed.Secret() {
		t.Errorf("Text = %q, want the URL's secret %q in groups", Text(k.Secret), parsed.Secret())
	}
	again, err := KeyFor("ann@client.example", k.Secret)
	if err != nil || again.URL != k.URL {
		t.Errorf("KeyFor = %q, %v; want %q", again.URL, err, k.URL)
	}
	qr, err := k.QR(200)
	if err != nil || !strings.HasPrefix(qr, "data:image/png;base64,") {
		t.Errorf("QR = %.40q…, %v", qr, err)
	}
}

func TestRecoveryCodes(t *testing.T) {
	codes := RecoveryCodes(10)
	seen := map[string]bool{}
	shape := regexp.MustCompile(`^[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}$`)
	for _, c := range codes {
		if !shape.MatchString(c) || seen[c] {
			t.Errorf("code %q: malformed or repeated", c)
		}
		seen[c] = true
	}
	if len(codes) != 10 {
		t.Errorf("%d codes, want 10", len(codes))
	}
}
