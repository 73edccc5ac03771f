package store

import (
	"strings"
)

// NewUser is what CreateUser needs.
type NewUser struct {
	AccountID    string
	Email        string
	Name         string
	Role         Role
	PasswordHash string
}

// NormalizeEmail is the form emails are indexed under.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }
