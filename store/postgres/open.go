package postgres

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"portal/store"
)

// Options configure Open. The session fields mean what they mean in
// bolt.Options.
type Options struct {
	// Policy is the idle timeout and maximum lifetime of sessions.
	Policy store.Policy
	// MaxSessionsPerUser caps live sessions per user; 0 means no cap.
	MaxSessionsPerUser int
	// CacheSize bounds the in-memory cache of validated sessions.
	CacheSize int
	// PoolSize is the most connections the pool opens (default 10); the
	// listener for revocations uses one more of its own.
	PoolSize int
	// ConnectTimeout bounds how long Open waits for PostgreSQL to answer
	// (default 10s); ctx may end the wait sooner.
	ConnectTimeout time.Duration
	// QueryTimeout bounds each call's work on the database (default 10s),
	// so a database that stops answering fails calls instead of hanging.
	QueryTimeout time.Duration
	// Notifier hears of every committed change to sessions, as in
	// bolt.Options: those made through this Store once they commit, and
	// those other instances on the same database commit once this one's
	// listener hears of them, in both cases after this Store's cache has
	// forgotten what they made stale. nil: nobody hears.
	Notifier store.Notifier
	// Now replaces time.Now in tests.
	Now func() time.Time
	// listenerDial replaces the listener's dialer in tests, which hold
	// its reconnection back to order an outage's events.
	listenerDial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Store is the PostgreSQL-backed store: the same methods, with the same
// meaning, as *bolt.Store. It is safe for concurrent use, and several
// processes may share one database.
type Store struct {
	*store.Core
	pool    *pgxpool.Pool
	url     string // masked: for messages
	opts    Options
	now     func() time.Time
	csrfKey atomic.Pointer[[]byte] // replaced by an import (portal copy -force)
	writes  atomic.Int64
	// instance tags the changes this Store sends to the others, so its
	// listener can skip them: it has published them already.
	instance string

	listener  *listener
	acks      *acks
	stopAcks  context.CancelFunc
	acksDone  chan struct{}
	closeOnce sync.Once
}

// Open connects to the database at url (postgres:// or postgresql://),
// waiting a bounded time for it to answer, and brings its schema up to
// date. It refuses, each with a sentence, a URL it cannot parse, a
// database that does not answer in time or refuses the login, and a
// database whose schema is newer than this binary.
func Open(ctx context.Context, dbURL string, opts Options) (*Store, error) {
	masked := MaskURL(dbURL)
	if opts.PoolSize <= 0 {
		opts.PoolSize = 10
	}
	if opts.ConnectTimeout <= 0 {
		opts.ConnectTimeout = 10 * time.Second
	}
	if opts.QueryTimeout <= 0 {
		opts.QueryTimeout = 10 * time.Second
	}
	if opts.CacheSize <= 0 {
		opts.CacheSize = 65536
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		return nil, fmt.Errorf("store: %s is not a PostgreSQL URL this binary understands (%v)", masked, err)
	}
	cfg.MaxConns = int32(opts.PoolSize)
	pool, err := pgxpool.NewWithConfig(ctx, cfg) // connects lazily
	if err != nil {
		return nil, fmt.Errorf("store: connect to %s: %w", masked, err)
	}
	s := &Store{pool: pool, url: masked, opts: opts, now: opts.Now, instance: store.NewID()}
	// Untrusted until the listener hears other instances' revocations.
	s.Core = store.NewCore(s, store.CoreOptions{Policy: opts.Policy, MaxSessionsPerUser: opts.MaxSessionsPerUser,
		CacheSize: opts.CacheSize, Now: opts.Now, Untrusted: true})
	s.acks = newAcks(s.instance)
	if err := s.init(ctx, cfg.ConnConfig.Config); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// init waits for the database, migrates it, loads the CSRF key and starts
// listening for other instances' revocations.
func (s *Store) init(ctx context.Context, connCfg pgconn.Config) error {
	ctx, cancel := context.WithTimeout(ctx, s.opts.ConnectTimeout)
	defer cancel()
	if err := waitReachable(ctx, s.pool); err != nil {
		return fmt.Errorf("store: PostgreSQL at %s %s", s.url, err)
	}
	migs, err := loadMigrations(migrationFiles)
	if err != nil {
		return fmt.Errorf("store: the embedded migrations: %w", err)
	}
	if _, err := migrate(ctx, s.pool, migs); err != nil {
		if n, ok := isNewer(err); ok {
			return fmt.Errorf("store: the database at %s was written by a newer portal (schema %d, this binary knows %d); upgrade portal or restore an older backup", s.url, n.have, n.know)
		}
		return fmt.Errorf("store: migrate the database at %s: %w", s.url, err)
	}
	key, err := loadCSRFKey(ctx, s.pool)
	if err != nil {
		return fmt.Errorf("store: %s: %w", s.url, err)
	}
	s.csrfKey.Store(&key)
	s.listener = startListener(s, connCfg)
	if err := s.listener.waitUp(ctx); err != nil {
		s.listener.stop()
		return fmt.Errorf("store: listen for revocations on %s: %w", s.url, err)
	}
	actx, stop := context.WithCancel(context.Background())
	s.stopAcks, s.acksDone = stop, make(chan struct{})
	go s.acks.sender(actx, s, s.acksDone)
	return nil
}

// waitReachable pings until the database answers or ctx ends, and says
// why in the words that finish "PostgreSQL at URL ...". Refusals that
// waiting cannot cure (a wrong password, a missing database) end the wait
// at once.
func waitReachable(ctx context.Context, pool *pgxpool.Pool) error {
	for {
		err := pool.Ping(ctx)
		if err == nil {
			return nil
		}
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) {
			switch pgErr.Code[:2] {
			case "28": // invalid authorization
				return fmt.Errorf("refused the login (%s); check the user and password in the URL", pgErr.Message)
			case "3D": // invalid catalog name
				return fmt.Errorf("has no such database (%s); create it first", pgErr.Message)
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("did not answer in time (%v); check that it is running and that the URL is right", err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

var (
	dsnPassword = regexp.MustCompile(`(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)
	urlPassword = regexp.MustCompile(`(://[^:/@]*:)[^@]*@`)
)

// MaskURL is url with its password hidden, for logs and messages. It
// handles URLs (postgres://user:pw@host/db, ?password=...) and key=value
// connection strings.
func MaskURL(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil || u.Scheme == "" {
		// Not a URL Go can parse: hide anything shaped like a password.
		masked := urlPassword.ReplaceAllString(dbURL, "${1}xxxxx@")
		return dsnPassword.ReplaceAllString(masked, "${1}xxxxx")
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	q := u.Query()
	for k := range q {
		if strings.EqualFold(k, "password") {
			q.Set(k, "xxxxx")
			u.RawQuery = q.Encode()
		}
	}
	return u.String()
}

// Path is the database's URL with its password hidden: what the bbolt
// store's Path is to a file, for messages.
func (s *Store) Path() string { return s.url }

// CSRFKey is a random key kept in the database, so CSRF tokens derived
// from it survive restarts and are the same on every instance.
func (s *Store) CSRFKey() []byte { return *s.csrfKey.Load() }

// reloadCSRFKey reads the CSRF key again after an import replaced it
// (here, or on another instance: the listener hears of it), so pages
// opened after the move are accepted without a restart.
func (s *Store) reloadCSRFKey() {
	ctx, cancel := s.ctx()
	defer cancel()
	var key []byte
	err := s.pool.QueryRow(ctx, "SELECT value FROM keys WHERE name = 'csrf_key'").Scan(&key)
	if err != nil || len(key) != 32 {
		slog.Error("store: read the CSRF key after an import; restart to load it", "err", err, "len", len(key))
		return
	}
	s.csrfKey.Store(&key)
}

// WriteTxCount is how many write transactions this store has begun.
func (s *Store) WriteTxCount() int64 { return s.writes.Load() }

// Ping checks that the database answers.
func (s *Store) Ping() error {
	ctx, cancel := s.ctx()
	defer cancel()
	if err := s.pool.Ping(ctx); err != nil {
		return unavailable(fmt.Errorf("store: PostgreSQL at %s does not answer: %w", s.url, err))
	}
	return nil
}

// Close flushes pending last-active times, stops listening and closes
// the pool. Closing twice is harmless.
func (s *Store) Close() error {
	var err error
	s.closeOnce.Do(func() {
		_, err = s.FlushLastActive()
		s.listener.stop()
		s.stopAcks()
		<-s.acksDone
		s.pool.Close()
	})
	return err
}

// ctx bounds one call's work on the database.
func (s *Store) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), s.opts.QueryTimeout)
}

// nowUTC is the store's clock in UTC, to the microsecond PostgreSQL
// keeps, so a time returned by a call equals the one read back later.
func (s *Store) nowUTC() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}
