package postgres

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"portal/store"
)

// TestCheck: a consistent database passes; each rule the schema does not
// state, broken by hand, is found and matches store.ErrDamaged.
func TestCheck(t *testing.T) {
	t.Parallel()
	w, s := newPartnerWorld(t)
	mustCheck(t, s)
	tests := []struct {
		name, breakIt, undo, want string
	}{
		{"a client managed by a client",
			"UPDATE accounts SET partner_id = '" + w.C3.ID + "' WHERE id = '" + w.C1.ID + "'",
			"UPDATE accounts SET partner_id = '" + w.P1.ID + "' WHERE id = '" + w.C1.ID + "'",
			"not a partner"},
		{"a partner role in a client account",
			"UPDATE users SET role = '" + string(store.RolePartnerAdmin) + "' WHERE id = '" + w.Mine.ID + "'",
			"UPDATE users SET role = '" + string(w.Mine.Role) + "' WHERE id = '" + w.Mine.ID + "'",
			"role"},
		{"a sign-in in another user's log",
			"UPDATE events SET user_id = '" + w.Mine2.ID + "' WHERE user_id = '" + w.Mine.ID + "'",
			"UPDATE events SET user_id = '" + w.Mine.ID + "' WHERE user_id = '" + w.Mine2.ID + "' AND body->>'session' IN (SELECT id FROM sessions WHERE user_id = '" + w.Mine.ID + "')",
			"log"},
		{"an older schema",
			"DELETE FROM schema_version WHERE version = (SELECT max(version) FROM schema_version)",
			"",
			"schema"},
	}
	for _, tt := range tests {
		exec := func(sql string) {
			t.Helper()
			if _, err := s.pool.Exec(context.Background(), sql); err != nil {
				t.Fatalf("%s: %v", sql, err)
			}
		}
		exec(tt.breakIt)
		err := s.Check()
		if !errors.Is(err, store.ErrDamaged) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: Check = %v; want ErrDamaged saying %q", tt.name, err, tt.want)
		}
		if tt.undo != "" {
			exec(tt.undo)
			mustCheck(t, s)
		}
	}
}

func TestBackupSaysPgDump(t *testing.T) {
	t.Parallel()
	s := mustOpen(t, Options{})
	var buf bytes.Buffer
	n, err := s.Backup(&buf)
	if !errors.Is(err, ErrUsePgDump) || !strings.Contains(err.Error(), "pg_dump") || n != 0 || buf.Len() != 0 {
		t.Fatalf("Backup = %d, %v, %d bytes written; want ErrUsePgDump and nothing written", n, err, buf.Len())
	}
}
