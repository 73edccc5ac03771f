package bolt

import (
	"sync"

	"portal/store"
)

// userAccounts keeps users decoded with their accounts between writes, for
// the partner console's scope checks on reads: every page of a client
// user checks that the caller's partner manages the user's account, and
// decoding both records took a tenth of the page. Like the list cache, an
// entry is good only for the write generation it was read in (taken before
// the read), so no check is answered from before the latest commit; and
// changes still check their scope in their own transaction.
type userAccounts struct {
	mu      sync.Mutex
	entries map[string]userAccount
	limit   int
}

type userAccount struct {
	gen     uint64
	user    store.User
	account store.Account
}

func (c *userAccounts) get(userID string, gen uint64) (store.User, store.Account, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[userID]
	if !ok || e.gen != gen {
		return store.User{}, store.Account{}, false
	}
	return e.user, e.account, true
}

func (c *userAccounts) put(userID string, gen uint64, u store.User, a store.Account) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = make(map[string]userAccount)
	}
	if _, ok := c.entries[userID]; !ok && len(c.entries) >= c.limit {
		clear(c.entries) // rare: a fresh start is cheaper than tracking age
	}
	c.entries[userID] = userAccount{gen: gen, user: u, account: a}
}

// managed reports whether partnerID manages a, the account of a user.
func managed(partnerID string, a store.Account) bool {
	return partnerID != "" && a.Kind == store.AccountClient && a.Partner == partnerID
}
