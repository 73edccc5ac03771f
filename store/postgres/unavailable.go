package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"portal/store"
)

// unavailableError is an error that also matches store.ErrUnavailable (or
// store.ErrOutcomeUnknown), keeping its own message for the log.
type unavailableError struct {
	err  error
	kind error // store.ErrUnavailable or store.ErrOutcomeUnknown
}

func (e *unavailableError) Error() string   { return e.err.Error() }
func (e *unavailableError) Unwrap() []error { return []error{e.kind, e.err} }

// unavailable marks err so that it matches store.ErrUnavailable when it
// says PostgreSQL could not be reached or did not answer in time, so the
// handlers can tell "try again in a moment" apart from a fault. Other
// errors, and nil, are returned as they are.
func unavailable(err error) error {
	if err == nil || errors.Is(err, store.ErrUnavailable) || !lostDatabase(err) {
		return err
	}
	return &unavailableError{err: err, kind: store.ErrUnavailable}
}

// commitFailed classifies the error of a COMMIT. One the server answered
// (a serialization failure, say) or one raised before anything was sent
// means nothing was committed; any other, a connection lost while the
// commit was on its way, leaves the outcome unknown, and says so.
func commitFailed(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) || pgconn.SafeToRetry(err) {
		return unavailable(err)
	}
	return &unavailableError{err: err, kind: store.ErrOutcomeUnknown}
}

// lostDatabase reports whether err means the database could not be
// reached or stopped answering, rather than refusing what was asked.
func lostDatabase(err error) bool {
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) {
		return true // no connection could be made, for whatever reason
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch code := pgErr.Code; {
		case strings.HasPrefix(code, "08"): // connection exception
			return true
		case code == "57P01", code == "57P02", code == "57P03": // shutting down, crashed, starting up
			return true
		case code == "57014": // query cancelled: it did not answer in time
			return true
		case code == "53300": // too many connections
			return true
		}
		return false // the server answered: the request itself failed
	}
	var netErr net.Error
	return pgconn.Timeout(err) || pgconn.SafeToRetry(err) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, pgconn.ErrConnClosed) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &netErr)
}
