package postgres

import (
	"fmt"

	"portal/store"
)

// SessionByHash reads the session under h with its user in one query
// (store.Storage).
func (s *Store) SessionByHash(h store.TokenHash) (store.Session, store.User, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	var x sessionScan
	var u userScan
	err := s.pool.QueryRow(ctx, "SELECT "+sessionCols+", "+userCols+" FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1",
		h[:]).Scan(append(x.dests(), u.dests()...)...)
	if err != nil {
		if err = notFound(err); err != store.ErrNotFound {
			err = fmt.Errorf("store: read a session: %w", err)
		}
		return store.Session{}, store.User{}, err
	}
	return x.row().Session, u.user(), nil
}
