package handlers

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestZoneNames: a zone name is accepted only if it is in the binary's
// own list, whatever the host's zoneinfo holds. The host's directory
// answers for paths the list never names (posix/, right/, repeated
// slashes), each distinct one of which used to be cached for ever.
func TestZoneNames(t *testing.T) {
	tests := []struct {
		name, want string
	}{
		{"Europe/Berlin", "Europe/Berlin"},
		{"America/Argentina/ComodRivadavia", "America/Argentina/ComodRivadavia"},
		// Chrome reports ICU's names, some of them IANA's older links.
		{"Asia/Calcutta", "Asia/Calcutta"},
		{"UTC", "UTC"},
		{"Europe//Berlin", ""},
		{"Europe/Berlin/", ""},
		{"/Europe/Berlin", ""},
		{"./Europe/Berlin", ""},
		{"Europe/../Europe/Berlin", ""},
		{"posix/Europe/Berlin", ""},
		{"right/UTC", ""},
		{"Factory", ""},
		{"posixrules", ""},
		{"localtime", ""},
		{"Local", ""},
		{"europe/berlin", ""},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := browserZone(tt.name); got != tt.want {
				t.Errorf("browserZone(%q) = %q, want %q", tt.name, got, tt.want)
			}
			// An unlisted name is UTC; a listed one is itself (time.UTC for "UTC").
			want := tt.want
			if want == "" {
				want = "UTC"
			}
			if loc := zoneNamed(tt.name); loc.String() != want {
				t.Errorf("zoneNamed(%q) is %q, want %q", tt.name, loc, want)
			}
		})
	}
}

// TestZoneCacheBounded: however many spellings of a zone are asked for,
// only the listed names are kept.
func TestZoneCacheBounded(t *testing.T) {
	for i := 1; i < 200; i++ {
		for _, z := range []string{"Europe/Berlin", "America/New_York", "Asia/Tokyo"} {
			zoneNamed(strings.Replace(z, "/", strings.Repeat("/", i), 1))
			zoneNamed("posix/" + z)
			zoneNamed("right/" + z)
		}
	}
	n := 0
	zones.Range(func(k, _ any) bool {
		if !isZoneName(k.(string)) {
			t.Errorf("cached %q, which is not a listed zone", k)
		}
		n++
		return true
	})
	if n > len(zoneNames) {
		t.Errorf("%d zones cached, more than the %d listed", n, len(zoneNames))
	}
}

// TestZoneNamesGenerated: the committed list is what zone_names_gen.go
// writes from the Go running the test, the Go whose time/tzdata the
// binary embeds; a Go upgrade that adds or drops a zone fails here until
// go generate is run.
func TestZoneNamesGenerated(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the generator")
	}
	out := filepath.Join(t.TempDir(), "zone_names.go")
	if b, err := exec.Command("go", "run", "zone_names_gen.go", "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("go run zone_names_gen.go: %v\n%s", err, b)
	}
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("zone_names.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("zone_names.go differs from the zones of this Go: run go generate ./handlers/")
	}
	if len(zoneNames) < 400 || !isZoneName("Europe/Berlin") || isZoneName("Factory") {
		t.Errorf("the list of %d zones is not the IANA zones less Factory", len(zoneNames))
	}
}
