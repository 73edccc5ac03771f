package handlers

import (
	"testing"

	"portal/store"
)

func TestSignInURL(t *testing.T) {
	tests := []struct {
		name   string
		reason store.Reason
		want   string
	}{
		{"no reason", "", "/login"},
		{"signed out", store.ReasonSignedOut, "/login?reason=signed_out"},
		{"partner", store.ReasonPartnerAll, "/login?reason=partner_revoked_all"},
		{"query characters escaped", "a&next=//evil.example/#x", "/login?reason=a%26next%3D%2F%2Fevil.example%2F%23x"},
		{"space and non-ASCII escaped", "é x", "/login?reason=%C3%A9+x"},
		{"line break escaped", "a\r\nLocation: /x", "/login?reason=a%0D%0ALocation%3A+%2Fx"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := signInURL(tt.reason); got != tt.want {
				t.Fatalf("signInURL(%q) = %q; want %q", tt.reason, got, tt.want)
			}
		})
	}
}
