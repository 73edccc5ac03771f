package store

import (
	"errors"
)

// A partner account manages client accounts (Account.Partner, indexed in
// partner_clients). Its users may see the users of those clients and sign
// their sessions out, and nothing else. Every call here takes the caller's
// partner account id and checks the target against it inside the same
// transaction as the read or the change: anything outside the partner's
// reach is ErrNotFound, exactly like an id that does not exist.

// PageSize is how many users a page of a partner's lists holds.
const PageSize = 50

// ErrNotPartner and ErrNotClient refuse a managing link between the wrong
// kinds of account.
var (
	ErrNotPartner = errors.New("store: the managing account is not a partner account")
	ErrNotClient  = errors.New("store: only client accounts can be managed by a partner")
)
