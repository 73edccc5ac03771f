package store

import (
	"errors"
)

// ErrDamaged is matched (errors.Is) by the errors of Open, Check and
// CheckFile about a file that is not a portal database or is damaged: one
// bbolt cannot read or that makes it panic, one cut short, one that fails
// bbolt's consistency check or the store's index check, and a bbolt file
// of another program. Restoring a backup is the fix; trying again is not.
// Callers that recover a panic of the store at run time may wrap it too.
var ErrDamaged = errors.New("store: database is damaged")
