package bolt

import (
	"errors"
	"testing"

	"portal/store"
)

// The scope checks' cache never answers from before a write: a client
// moved to another partner, a user disabled or renamed, is seen by the
// very next read, however many reads came before.
func TestPartnerUserSeesEveryWrite(t *testing.T) {
	s := MustOpen(t, Options{})
	p1, err := s.CreateAccount("Partner One", store.AccountPartner)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := s.CreateAccount("Partner Two", store.AccountPartner)
	if err != nil {
		t.Fatal(err)
	}
	client, err := s.CreateClientAccount("Client", p1.ID)
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.CreateUser(store.NewUser{AccountID: client.ID, Email: "c@client.example", Name: "C", Role: store.RoleClientStaff, PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	read := func(partner string) error {
		for range 3 { // cached after the first
			if _, _, err := s.PartnerUser(partner, u.ID); err != nil {
				return err
			}
		}
		return nil
	}
	if err := read(p1.ID); err != nil {
		t.Fatalf("partner one reads its client's user: %v", err)
	}
	if _, _, err := s.PartnerUser(p2.ID, u.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("partner two reads partner one's user: %v", err)
	}
	if _, err := s.SetAccountPartner(client.ID, p2.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.PartnerUser(p1.ID, u.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after the move, partner one still reads the user: %v", err)
	}
	if err := read(p2.ID); err != nil {
		t.Fatalf("after the move, partner two: %v", err)
	}
	if _, err := s.SetUserDisabled(u.ID, true); err != nil {
		t.Fatal(err)
	}
	if got, _, err := s.PartnerUser(p2.ID, u.ID); err != nil || !got.Disabled {
		t.Fatalf("after disabling, the user reads disabled=%v (%v)", got.Disabled, err)
	}
	for _, id := range []string{"", "not-an-id", store.NewID()} {
		if _, _, err := s.PartnerUser(p2.ID, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("PartnerUser(%q) = %v, want ErrNotFound", id, err)
		}
	}
}
