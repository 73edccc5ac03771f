package store

// ClientSummary is a client account a partner manages, with how many users
// it has and how many of their sessions are live.
type ClientSummary struct {
	Account      Account
	Users        int
	LiveSessions int
}

// UserSummary is a user as a partner's lists show them.
type UserSummary struct {
	ID, Email, Name        string
	Role                   Role
	Disabled               bool
	AccountID, AccountName string
	LiveSessions           int
}

// UserQuery asks for a page of a partner's users.
type UserQuery struct {
	AccountID string // only this client account's users; "" for every client's
	Search    string // a part of the email or name, any case; "" for all
	Page      int    // from 1; out-of-range pages are empty
}

// UserPage is one page of users, sorted by email, so the same query always
// gives the same page.
type UserPage struct {
	Users       []UserSummary
	Total       int // users matching the query
	Page, Pages int
}
