package store

import (
	"errors"
	"fmt"
)

// ErrUnavailable is matched (errors.Is) by the error of any call that
// failed because the database could not be reached or did not answer in
// time: a database server that is down, restarting or cut off. Nothing was
// read, and nothing the call was to change was changed, unless the error
// also matches ErrOutcomeUnknown. It says nothing about the request, so
// the same call may succeed once the database is back; the bbolt store,
// a local file, never returns it.
var ErrUnavailable = errors.New("store: the database is unavailable")

// ErrOutcomeUnknown is matched by the error of a change whose commit was
// sent but whose answer never came: the database may have made the change
// or not, and cannot be asked until it is back. It matches ErrUnavailable
// too, so a caller that only tells "unavailable" apart still refuses to
// report the change as done.
var ErrOutcomeUnknown = fmt.Errorf("%w, and the change may or may not have been saved", ErrUnavailable)
