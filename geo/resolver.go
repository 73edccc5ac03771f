package geo

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oschwald/geoip2-golang/v2"
)

// fixHint ends every open error so the operator reads one sentence that says
// what is wrong and what to do about it.
const fixHint = "download GeoLite2-City.mmdb with geoipupdate and pass its path with -geoip-db, " +
	"or leave -geoip-db empty to show masked addresses only"

// errClosed is returned by Reload after Close.
var errClosed = errors.New("geo: resolver is closed")

// Resolver answers Lookup from a City database that can be replaced while in
// use (Reload, Watch). It is safe for concurrent use. A nil *Resolver, or one
// whose database could not be opened, answers Location{} for public
// addresses, so callers never need a second code path.
type Resolver struct {
	path string
	log  *slog.Logger

	// cur is the database lookups use. Lookups take a reference on it, so a
	// reload only swaps the pointer and never waits for or blocks lookups;
	// the old reader is closed by whoever drops the last reference.
	cur atomic.Pointer[handle]

	// reloadMu serialises Reload and Close. It is held across the file open,
	// which is fine because lookups never take it.
	reloadMu sync.Mutex

	stateMu sync.Mutex // guards the fields below; Status reads them
	closed  bool
	lastErr error // why the last open failed; nil after a successful one
}

// handle is one opened database plus the reference count that decides when
// it may be closed.
type handle struct {
	rd     *geoip2.Reader
	dbType string
	built  time.Time
	stat   os.FileInfo // taken just before opening, for Watch
	log    *slog.Logger

	// refs is 1 for the Resolver's own reference while the handle is
	// current, plus 1 per in-flight lookup. At 0 the reader is closed and
	// the handle can never be acquired again.
	refs     atomic.Int64
	done     chan struct{} // closed once the reader is closed
	closeErr error         // valid after done
	warned   atomic.Bool   // log lookup errors once per database, not per request
}

// acquire takes a reference unless the handle has already been retired.
func (h *handle) acquire() bool {
	for {
		n := h.refs.Load()
		if n == 0 {
			return false
		}
		if h.refs.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// release drops a reference and closes the reader when it was the last one.
func (h *handle) release() {
	if h.refs.Add(-1) != 0 {
		return
	}
	h.closeErr = h.rd.Close()
	if h.closeErr != nil {
		h.log.Warn("geo: closing old GeoIP database failed", "err", h.closeErr)
	}
	close(h.done)
}

// Open prepares a Resolver for the City database at path.
//
// An empty path gives a resolver without a database and a nil error: every
// public address resolves to Location{}. If the file is missing, unreadable,
// not a MaxMind DB or not a City database, Open still returns a usable
// Resolver (answering Location{} until a Reload succeeds) together with an
// error, written as one sentence for the operator, that the caller should log
// once. log may be nil.
func Open(path string, log *slog.Logger) (*Resolver, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Resolver{path: path, log: log}
	if path == "" {
		return r, nil
	}
	return r, r.Reload()
}

// Lookup returns what is known about addr. Private addresses give
// Location{Private: true} without touching the database; unknown, invalid or
// unresolvable addresses, and any lookup without a database, give Location{}.
func (r *Resolver) Lookup(addr netip.Addr) Location {
	addr = normalize(addr)
	if !addr.IsValid() {
		return Location{}
	}
	if IsPrivate(addr) {
		return Location{Private: true}
	}
	if r == nil {
		return Location{}
	}
	for {
		h := r.cur.Load()
		if h == nil {
			return Location{}
		}
		if h.acquire() {
			defer h.release()
			return h.lookup(addr)
		}
		// h was retired between Load and acquire, which only happens after
		// cur has been swapped, so the next Load sees the replacement.
	}
}

func (h *handle) lookup(addr netip.Addr) Location {
	rec, err := h.rd.City(addr)
	if err != nil {
		// A decode error means a damaged file. Say so once rather than on
		// every request, and show the row without a location.
		if h.warned.CompareAndSwap(false, true) {
			h.log.Warn("geo: GeoIP lookup failed; the database may be damaged", "addr", addr, "err", err)
		}
		return Location{}
	}
	if !rec.HasData() {
		return Location{}
	}
	loc := Location{
		City:        rec.City.Names.English,
		Country:     rec.Country.Names.English,
		CountryCode: rec.Country.ISOCode,
	}
	if len(rec.Subdivisions) > 0 {
		loc.Region = rec.Subdivisions[0].Names.English
	}
	return loc
}

// Reload reopens the database at the Resolver's path and makes new lookups
// use it. Lookups already running finish on the old reader, which is closed
// when the last of them returns. If the new file cannot be used, the old
// reader stays in service and the error says why. With no path configured
// Reload does nothing.
func (r *Resolver) Reload() error {
	r.reloadMu.Lock()
	defer r.reloadMu.Unlock()
	if r.isClosed() {
		return errClosed
	}
	if r.path == "" {
		return nil
	}
	h, err := openHandle(r.path, r.log)
	r.stateMu.Lock()
	r.lastErr = err
	r.stateMu.Unlock()
	if err != nil {
		return err
	}
	if old := r.cur.Swap(h); old != nil {
		old.release()
	}
	return nil
}

// openHandle opens and checks the database at path. Errors name the path,
// the problem and the fix in one sentence, and unwrap to the cause.
func openHandle(path string, log *slog.Logger) (*handle, error) {
	// Stat before opening: if the file is replaced in between, Watch sees a
	// newer file than the one loaded and reloads again, rather than missing
	// the update.
	st, err := os.Stat(path)
	if err != nil {
		return nil, openErr(path, err)
	}
	rd, err := geoip2.Open(path)
	if err != nil {
		if rd != nil { // geoip2 returns an open reader with an unknown type
			_ = rd.Close()
		}
		return nil, openErr(path, err)
	}
	md := rd.Metadata()
	// geoip2 lets City() read Country databases, which would silently give
	// no cities; insist on a City schema (GeoIP2/GeoLite2 City, DBIP-City-Lite).
	if !strings.Contains(md.DatabaseType, "City") {
		_ = rd.Close()
		return nil, &openError{
			msg: fmt.Sprintf("geo: GeoIP database %s is a %q database, not a City database; %s",
				path, md.DatabaseType, fixHint),
		}
	}
	h := &handle{
		rd:     rd,
		dbType: md.DatabaseType,
		built:  md.BuildTime(),
		stat:   st,
		log:    log,
		done:   make(chan struct{}),
	}
	h.refs.Store(1)
	return h, nil
}

// openError reads as one operator-facing sentence but still unwraps to the
// cause, so callers can test errors.Is(err, fs.ErrNotExist).
type openError struct {
	msg string
	err error
}

func (e *openError) Error() string { return e.msg }
func (e *openError) Unwrap() error { return e.err }

func openErr(path string, err error) error {
	var reason string
	var pe *fs.PathError
	var ute geoip2.UnknownDatabaseTypeError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		reason = "cannot open GeoIP database " + path + ": no such file"
	case errors.As(err, &ute):
		reason = fmt.Sprintf("GeoIP database %s has unsupported type %q", path, ute.DatabaseType)
	case errors.As(err, &pe):
		// The path is already in our sentence; keep only the cause.
		reason = "cannot open GeoIP database " + path + ": " + pe.Err.Error()
	default:
		reason = "GeoIP database " + path + " is not a valid MaxMind DB file (" + err.Error() + ")"
	}
	return &openError{msg: "geo: " + reason + "; " + fixHint, err: err}
}

func (r *Resolver) isClosed() bool {
	r.stateMu.Lock()
	defer r.stateMu.Unlock()
	return r.closed
}

// Status describes the database for a readiness endpoint:
// "ok: <path> (<type>, built <date>)", "disabled: no -geoip-db" or
// "unavailable: <reason>". When a reload failed but the previous database is
// still serving, the ok line ends with "; last reload failed: <reason>".
func (r *Resolver) Status() string {
	if r == nil || r.path == "" {
		return "disabled: no -geoip-db"
	}
	r.stateMu.Lock()
	closed, lastErr := r.closed, r.lastErr
	r.stateMu.Unlock()
	if closed {
		return "unavailable: " + errClosed.Error()
	}
	h := r.cur.Load()
	if h == nil {
		if lastErr == nil { // cannot happen after Open; be explicit anyway
			return "unavailable: no database loaded"
		}
		return "unavailable: " + lastErr.Error()
	}
	s := fmt.Sprintf("ok: %s (%s, built %s)", r.path, h.dbType, h.built.UTC().Format(time.DateOnly))
	if lastErr != nil {
		s += "; last reload failed: " + lastErr.Error()
	}
	return s
}

// State is what /readyz, which anyone who reaches the portal may read,
// says of the database: "ok (GeoLite2-City, built 2026-11-20)",
// "unavailable" or "disabled". Unlike Status it names no file path and no
// error text; the log has those.
func (r *Resolver) State() string {
	if r == nil || r.path == "" {
		return "disabled"
	}
	r.stateMu.Lock()
	closed, lastErr := r.closed, r.lastErr
	r.stateMu.Unlock()
	h := r.cur.Load()
	if closed || h == nil {
		return "unavailable"
	}
	s := fmt.Sprintf("ok (%s, built %s)", h.dbType, h.built.UTC().Format(time.DateOnly))
	if lastErr != nil {
		s += "; last reload failed"
	}
	return s
}

// Close closes the current database after in-flight lookups on it finish.
// Afterwards Lookup answers Location{} for public addresses and Reload fails.
// Closing twice is harmless.
func (r *Resolver) Close() error {
	if r == nil {
		return nil
	}
	r.reloadMu.Lock()
	defer r.reloadMu.Unlock()
	r.stateMu.Lock()
	r.closed = true
	r.stateMu.Unlock()
	h := r.cur.Swap(nil)
	if h == nil {
		return nil
	}
	h.release()
	<-h.done
	if h.closeErr != nil {
		return fmt.Errorf("geo: closing GeoIP database %s: %w", r.path, h.closeErr)
	}
	return nil
}
