package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"portal/store"
)

// A partner account manages client accounts (accounts.partner_id). Its
// users may see the users of those clients and sign their sessions out,
// and nothing else. Every call here takes the caller's partner account id
// and checks the target against it inside the same transaction as the
// read or the change: anything outside the partner's reach is
// store.ErrNotFound, exactly like an id that does not exist. A change
// locks the client account's row (FOR SHARE) while it checks, so a move
// of the client to another partner waits for it, or it for the move.

// CreateClientAccount adds a client account managed by partnerID ("" for
// none), in one transaction.
func (s *Store) CreateClientAccount(name, partnerID string) (store.Account, error) {
	a := store.Account{ID: store.NewID(), Name: name, Kind: store.AccountClient, CreatedAt: s.nowUTC()}
	err := s.write(func(ctx context.Context, tx pgx.Tx, _ *effects) error {
		if err := insertAccount(ctx, tx, a); err != nil {
			return err
		}
		return setPartnerTx(ctx, tx, &a, partnerID)
	})
	if err != nil {
		return store.Account{}, fmt.Errorf("store: create account %q: %w", name, err)
	}
	return a, nil
}

// SetAccountPartner makes partnerID the manager of the client account
// accountID, or leaves it unmanaged when partnerID is "". The move takes
// effect on the next call of both partners' users, on every instance:
// nothing of it is cached.
func (s *Store) SetAccountPartner(accountID, partnerID string) (store.Account, error) {
	var a store.Account
	err := s.write(func(ctx context.Context, tx pgx.Tx, fx *effects) error {
		var err error
		if a, err = scanAccount(tx.QueryRow(ctx, "SELECT "+accountCols+" FROM accounts a WHERE a.id = $1 FOR UPDATE", accountID)); err != nil {
			return err
		}
		if err := setPartnerTx(ctx, tx, &a, partnerID); err != nil {
			return err
		}
		// Every instance drops the account its users' pages keep.
		rows, err := tx.Query(ctx, "SELECT id FROM users WHERE account_id = $1", accountID)
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		fx.users, fx.confirm = append(fx.users, ids...), true
		return err
	})
	if err != nil {
		return store.Account{}, fmt.Errorf("store: set the partner of account %s: %w", accountID, err)
	}
	return a, nil
}

// setPartnerTx records partnerID as a's manager, in the caller's
// transaction, refusing a manager that is not a partner account and a
// managed account that is not a client.
func setPartnerTx(ctx context.Context, tx pgx.Tx, a *store.Account, partnerID string) error {
	if partnerID != "" {
		if a.Kind != store.AccountClient {
			return store.ErrNotClient
		}
		p, err := scanAccount(tx.QueryRow(ctx, "SELECT "+accountCols+" FROM accounts a WHERE a.id = $1", partnerID))
		if err != nil {
			return fmt.Errorf("partner %s: %w", partnerID, err)
		}
		if p.Kind != store.AccountPartner {
			return store.ErrNotPartner
		}
	}
	if _, err := tx.Exec(ctx, "UPDATE accounts SET partner_id = NULLIF($2, '') WHERE id = $1", a.ID, partnerID); err != nil {
		return err
	}
	a.Partner = partnerID
	return nil
}

// managedUser loads userID if partnerID manages the user's account, and
// store.ErrNotFound otherwise: a partner's own colleagues, other
// partners' users and users of unmanaged accounts are all out of reach.
// lock takes the account's row FOR SHARE, for a change that depends on
// the answer.
func managedUser(ctx context.Context, q querier, partnerID, userID string, lock bool) (store.User, store.Account, error) {
	if partnerID == "" || !store.ValidID(userID) {
		return store.User{}, store.Account{}, store.ErrNotFound
	}
	sql := "SELECT " + userCols + ", " + accountCols + ` FROM users u JOIN accounts a ON a.id = u.account_id
		WHERE u.id = $1 AND a.kind = 'client' AND a.partner_id = $2`
	if lock {
		sql += " FOR SHARE OF a"
	}
	var x userScan
	var a store.Account
	err := q.QueryRow(ctx, sql, userID, partnerID).Scan(append(x.dests(), accountDests(&a)...)...)
	if err != nil {
		return store.User{}, store.Account{}, notFound(err)
	}
	a.CreatedAt = a.CreatedAt.UTC()
	return x.user(), a, nil
}

// inScope is the check a partner's change makes in its transaction.
func inScope(partnerID, userID string) scopeCheck {
	return func(ctx context.Context, tx pgx.Tx) error {
		_, _, err := managedUser(ctx, tx, partnerID, userID, true)
		return err
	}
}

// PartnerUser returns a user of one of partnerID's clients, with the
// client account, or store.ErrNotFound.
func (s *Store) PartnerUser(partnerID, userID string) (store.User, store.Account, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	return managedUser(ctx, s.pool, partnerID, userID, false)
}

// PartnerRevokeSession revokes one session of a user of one of
// partnerID's clients, recording actorID as who did it
// (store.ReasonPartner). Anything out of the partner's reach is
// store.ErrNotFound and changes nothing.
func (s *Store) PartnerRevokeSession(partnerID, actorID, userID, sessionID string) (store.Session, error) {
	sess, err := s.revokeOne(userID, sessionID, store.ReasonPartner, store.Actor{User: actorID}, inScope(partnerID, userID))
	if err != nil {
		return store.Session{}, fmt.Errorf("store: partner revoke session %s: %w", sessionID, err)
	}
	return sess, nil
}

// PartnerRevokeAll revokes every live session of a user of one of
// partnerID's clients in one transaction (store.ReasonPartnerAll, by
// actorID), and reports how many.
func (s *Store) PartnerRevokeAll(partnerID, actorID, userID string) (int, error) {
	n, err := s.revokeMany(userID, "", store.ReasonPartnerAll, store.Actor{User: actorID}, inScope(partnerID, userID))
	if err != nil {
		return 0, fmt.Errorf("store: partner revoke all sessions of user %s: %w", userID, err)
	}
	return n, nil
}
