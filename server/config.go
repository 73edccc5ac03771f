package server

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"portal/handlers"
	"portal/password"
	"portal/store"
)

// Config is everything the server can be told at start. Each flag has a
// PORTAL_* environment variable; a flag given on the command line wins.
type Config struct {
	Addr          string
	DB            string
	GeoIPDB       string
	IdleTimeout   time.Duration
	MaxLifetime   time.Duration
	FlushInterval time.Duration
	Retention     time.Duration
	// ActivityRetention is how long security activity events are kept.
	ActivityRetention time.Duration
	MaxSessions       int
	// Live updates: streams per user and in all, and the heartbeat.
	LiveStreamsPerUser int
	LiveStreams        int
	LiveHeartbeat      time.Duration
	ReauthWindow       time.Duration
	// PostgreSQL: the pool's size and the wait for the database at start.
	DBPool           int
	DBConnectTimeout time.Duration
	TrustedProxies   []netip.Prefix
	ProxyHeader      string
	SecureCookies    bool
	// PublicURL is where users open the portal; its origin is the only one
	// passkeys work at. "" turns them off (the demo picks localhost).
	PublicURL string
	LogFormat string
	Demo      bool
	DemoReset bool
	Version   bool

	// The operator commands live in package cli, which starts the server;
	// the admin socket runs them for a CLI that found the database locked.
	// OnlineCommand names the command args start with and says whether the
	// server may run it; RunCommand runs it on the server's store, with
	// stdin as its standard input and the server's password-hashing gate
	// for any password it hashes, and returns what it printed and its exit
	// code. ParseConfig leaves them nil, and the socket then runs nothing.
	OnlineCommand func(args []string) (name string, ok bool)
	RunCommand    func(st store.Backend, gate *password.Gate, args []string, stdin []byte) (code int, stdout, stderr string)

	// For a program that runs portals in its own process (the benchmark);
	// ParseConfig leaves them zero. Listener, if set, is served instead
	// of listening on Addr, so the caller knows the address before Run.
	// NoLive leaves out live updates (no hub, nothing published, no
	// /events), to measure the portal as it was without them.
	Listener net.Listener
	NoLive   bool
}

// option is one flag: name, environment variable, default and help.
type option struct {
	name, env, def, help string
}

var options = []option{
	{"addr", "PORTAL_ADDR", "127.0.0.1:8080", "address to listen on (host:port)"},
	{"db", "PORTAL_DB", "portal.db", "path of the bbolt database file (created if missing), or a postgres:// URL for PostgreSQL 13 or newer"},
	{"db-pool", "PORTAL_DB_POOL", "10", "PostgreSQL: connections in each instance's pool"},
	{"db-connect-timeout", "PORTAL_DB_CONNECT_TIMEOUT", "10s", "PostgreSQL: how long to wait at start for the database to answer before giving up"},
	{"geoip-db", "PORTAL_GEOIP_DB", "", "path of a GeoLite2-City .mmdb file; empty shows masked addresses only"},
	{"idle-timeout", "PORTAL_IDLE_TIMEOUT", "12h", "end sessions after this long without activity (e.g. 30m, 12h, 2d)"},
	{"max-lifetime", "PORTAL_MAX_LIFETIME", "14d", "end sessions this long after sign-in, however active"},
	{"flush-interval", "PORTAL_FLUSH_INTERVAL", "30s", "how often last-active times are written to disk"},
	{"retention", "PORTAL_RETENTION", "30d", "keep ended sessions this long before deleting them"},
	{"activity-retention", "PORTAL_ACTIVITY_RETENTION", "90d", "keep security activity (sign-ins, sign-outs, failed attempts) this long"},
	{"max-sessions", "PORTAL_MAX_SESSIONS", "100", "live sessions per user; a new sign-in ends the least recently active (0 = no cap)"},
	{"live-streams-per-user", "PORTAL_LIVE_STREAMS_PER_USER", "10", "live-update streams one user may hold open (tabs of a browser share one); a new one closes that user's oldest"},
	{"live-streams", "PORTAL_LIVE_STREAMS", "20000", "live-update streams in all; beyond it browsers are asked to come back later (pages still work)"},
	{"live-heartbeat", "PORTAL_LIVE_HEARTBEAT", "25s", "how often an idle live-update stream sends a heartbeat; keep it under your proxy's read timeout"},
	{"reauth-window", "PORTAL_REAUTH_WINDOW", "15m", "how long a sign-in or a confirmation lets a user change two-step sign-in without confirming it is them again"},
	{"trusted-proxies", "PORTAL_TRUSTED_PROXIES", "", "comma-separated IPs/CIDRs of reverse proxies whose forwarding header is believed"},
	{"proxy-header", "PORTAL_PROXY_HEADER", "X-Forwarded-For", "header carrying the client address from a trusted proxy"},
	{"public-url", "PORTAL_PUBLIC_URL", "", "the address users open the portal at, like https://portal.example.com: turns passkeys on for that origin (with -demo, http://localhost:PORT if empty)"},
	{"secure-cookies", "PORTAL_SECURE_COOKIES", "false", "mark cookies Secure and use the __Host- prefix (set when served over HTTPS)"},
	{"log-format", "PORTAL_LOG_FORMAT", "text", "log format: text or json"},
	{"demo", "PORTAL_DEMO", "false", "seed demo users and sessions into an empty database and show the demo sign-ins"},
	{"demo-reset", "PORTAL_DEMO_RESET", "false", "with -demo: wipe the database and seed it again"},
	{"version", "", "false", "print the version and exit"},
}

// ParseConfig reads flags, then fills what they did not set from getenv,
// and validates every value with a sentence saying what is wrong.
func ParseConfig(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	fs := flag.NewFlagSet("portal", flag.ContinueOnError)
	fs.SetOutput(stderr)
	raw := map[string]*string{}
	for _, o := range options {
		v := o.def
		raw[o.name] = &v
		if o.def == "true" || o.def == "false" {
			fs.Var(boolFlag{&v}, o.name, o.help)
		} else {
			fs.StringVar(&v, o.name, o.def, o.help)
		}
	}
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: portal [flags]\n       portal COMMAND [args] (run 'portal help' for commands)\n\nFlags (each also read from its environment variable):\n")
		for _, o := range options {
			env := ""
			if o.env != "" {
				env = " [$" + o.env + "]"
			}
			fmt.Fprintf(stderr, "  -%s%s\n    \t%s (default %q)\n", o.name, env, o.help, o.def)
		}
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected argument %q; commands come first and take their own flags, e.g. portal user list -db PATH (see 'portal help')", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, o := range options {
		if !set[o.name] && o.env != "" {
			if v, ok := lookup(getenv, o.env); ok {
				*raw[o.name] = v
			}
		}
	}
	var c Config
	var errs []error
	str := func(name string) string { return strings.TrimSpace(*raw[name]) }
	dur := func(name string, min time.Duration) time.Duration {
		d, err := parseDuration(str(name))
		if err != nil || d < min {
			errs = append(errs, fmt.Errorf("-%s must be a duration like 30m, 12h or 14d, at least %s, got %q", name, min, *raw[name]))
		}
		return d
	}
	boolean := func(name string) bool {
		b, err := strconv.ParseBool(str(name))
		if err != nil {
			errs = append(errs, fmt.Errorf("-%s must be true or false, got %q", name, *raw[name]))
		}
		return b
	}
	c.Addr = str("addr")
	if _, port, err := net.SplitHostPort(c.Addr); err != nil || port == "" {
		errs = append(errs, fmt.Errorf("-addr must be host:port like 127.0.0.1:8080, got %q", c.Addr))
	}
	c.DB = str("db")
	if c.DB == "" {
		errs = append(errs, errors.New("-db must name a database file, got an empty value"))
	}
	c.GeoIPDB = str("geoip-db")
	policy, err := sessionPolicy(*raw["idle-timeout"], *raw["max-lifetime"], func(name string) string { return "-" + name })
	if err != nil {
		errs = append(errs, err)
	}
	c.IdleTimeout, c.MaxLifetime = policy.IdleTimeout, policy.MaxLifetime
	c.FlushInterval = dur("flush-interval", time.Second)
	c.Retention = dur("retention", 0)
	c.ActivityRetention = dur("activity-retention", time.Hour)
	if c.FlushInterval > time.Minute && len(errs) == 0 {
		errs = append(errs, fmt.Errorf("-flush-interval must be at most 1m so last-active stays accurate to a minute, got %q", *raw["flush-interval"]))
	}
	n, err := strconv.Atoi(str("max-sessions"))
	if err != nil || n < 0 || n > 100000 {
		errs = append(errs, fmt.Errorf("-max-sessions must be a whole number from 0 to 100000, got %q", *raw["max-sessions"]))
	}
	c.MaxSessions = n
	count := func(name string, min, max int) int {
		n, err := strconv.Atoi(str(name))
		if err != nil || n < min || n > max {
			errs = append(errs, fmt.Errorf("-%s must be a whole number from %d to %d, got %q", name, min, max, *raw[name]))
		}
		return n
	}
	c.DBPool = count("db-pool", 1, 1000)
	c.DBConnectTimeout = dur("db-connect-timeout", time.Second)
	c.LiveStreamsPerUser = count("live-streams-per-user", 1, 1000)
	c.LiveStreams = count("live-streams", 1, 1000000)
	c.ReauthWindow = dur("reauth-window", time.Minute)
	c.LiveHeartbeat = dur("live-heartbeat", time.Second)
	if c.LiveHeartbeat > 10*time.Minute {
		errs = append(errs, fmt.Errorf("-live-heartbeat must be at most 10m, got %q", *raw["live-heartbeat"]))
	}
	if c.TrustedProxies, err = handlers.ParseTrustedProxies(str("trusted-proxies")); err != nil {
		errs = append(errs, fmt.Errorf("-trusted-proxies must be comma-separated IPs or CIDRs: %v", err))
	}
	c.ProxyHeader = str("proxy-header")
	if c.ProxyHeader == "" || strings.ContainsAny(c.ProxyHeader, " :\r\n") {
		errs = append(errs, fmt.Errorf("-proxy-header must be a header name like X-Forwarded-For, got %q", *raw["proxy-header"]))
	}
	c.SecureCookies = boolean("secure-cookies")
	c.PublicURL = str("public-url")
	if _, err := handlers.ParsePublicURL(c.PublicURL); err != nil {
		errs = append(errs, fmt.Errorf("-public-url %w", err))
	}
	c.LogFormat = str("log-format")
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("-log-format must be text or json, got %q", *raw["log-format"]))
	}
	c.Demo = boolean("demo")
	c.DemoReset = boolean("demo-reset")
	if c.DemoReset && !c.Demo {
		errs = append(errs, errors.New("-demo-reset only makes sense with -demo"))
	}
	if c.DemoReset && IsPostgres(c.DB) {
		errs = append(errs, errors.New("-demo-reset wipes a bbolt file; for PostgreSQL, drop and create the database instead"))
	}
	c.Version = boolean("version")
	return c, errors.Join(errs...)
}

// sessionPolicy checks the idle timeout and the lifetime the way both the
// server and the operator commands need them, so "live" means the same to
// both; name says how an error refers to each ("-idle-timeout" or
// "$PORTAL_IDLE_TIMEOUT").
func sessionPolicy(idle, life string, name func(option string) string) (store.Policy, error) {
	var errs []error
	dur := func(option, v string) time.Duration {
		d, err := parseDuration(strings.TrimSpace(v))
		if err != nil || d < time.Minute {
			errs = append(errs, fmt.Errorf("%s must be a duration like 30m, 12h or 14d, at least %s, got %q", name(option), time.Minute, v))
		}
		return d
	}
	p := store.Policy{IdleTimeout: dur("idle-timeout", idle), MaxLifetime: dur("max-lifetime", life)}
	if len(errs) == 0 && p.IdleTimeout > p.MaxLifetime {
		errs = append(errs, fmt.Errorf("%s (%s) must not be longer than %s (%s)", name("idle-timeout"), idle, name("max-lifetime"), life))
	}
	return p, errors.Join(errs...)
}

// optionNamed is the server option called name.
func optionNamed(name string) option {
	for _, o := range options {
		if o.name == name {
			return o
		}
	}
	panic("server: no option " + name)
}

// fromEnv is an option's value from its environment variable, or its
// default: what a server started with the same environment would use.
func fromEnv(getenv func(string) string, name string) string {
	o := optionNamed(name)
	if v := strings.TrimSpace(getenv(o.env)); v != "" {
		return v
	}
	return o.def
}

// DBFromEnv is the database file a server started with this environment
// would use: $PORTAL_DB, else the default.
func DBFromEnv(getenv func(string) string) string { return fromEnv(getenv, "db") }

// PolicyFromEnv is the session policy a server started with this
// environment would use, from the same variables, defaults and checks, so
// that "live" means to the operator commands what it means to the server.
// Errors name the variables ("$PORTAL_IDLE_TIMEOUT").
func PolicyFromEnv(getenv func(string) string) (store.Policy, error) {
	return sessionPolicy(fromEnv(getenv, "idle-timeout"), fromEnv(getenv, "max-lifetime"),
		func(name string) string { return "$" + optionNamed(name).env })
}

func lookup(getenv func(string) string, key string) (string, bool) {
	v := getenv(key)
	return v, v != ""
}

// parseDuration accepts Go durations plus a "d" suffix for days, since
// session lifetimes are naturally said in days.
func parseDuration(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 || n > 3650 {
			return 0, fmt.Errorf("bad number of days %q", days)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

// boolFlag lets a switch be given as plain -demo while keeping its raw text
// for validation like every other option.
type boolFlag struct{ v *string }

func (b boolFlag) String() string {
	if b.v == nil {
		return ""
	}
	return *b.v
}
func (b boolFlag) Set(s string) error { *b.v = s; return nil }
func (b boolFlag) IsBoolFlag() bool   { return true }
