package geo

import "testing"

func TestLabel(t *testing.T) {
	tests := []struct {
		name string
		loc  Location
		want string
	}{
		{"city and country", Location{City: "Berlin", Region: "Berlin", Country: "Germany", CountryCode: "DE"}, "Berlin, Germany"},
		{"region when city missing", Location{Region: "Bavaria", Country: "Germany", CountryCode: "DE"}, "Bavaria, Germany"},
		{"country only", Location{Country: "Germany", CountryCode: "DE"}, "Germany"},
		{"country code stands in for name", Location{City: "Berlin", CountryCode: "DE"}, "Berlin, DE"},
		{"code only", Location{CountryCode: "DE"}, "DE"},
		{"city without country", Location{City: "Berlin"}, "Berlin"},
		{"region without country", Location{Region: "Bavaria"}, "Bavaria"},
		{"private", Location{Private: true}, "Private network"},
		{"private wins over names", Location{Private: true, City: "Berlin"}, "Private network"},
		{"nothing known", Location{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.loc.Label(); got != tt.want {
				t.Errorf("Label() = %q, want %q", got, tt.want)
			}
			if got := tt.loc.Known(); got != (tt.want != "") {
				t.Errorf("Known() = %v, want %v", got, tt.want != "")
			}
		})
	}
}
