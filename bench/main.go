// Command bench is the portal's load benchmark. It starts the real portal
// (server.New and Run, as the binary does, over temporary bbolt files) next
// to two baselines in the same process, drives each over loopback HTTP with a
// fixed number of closed-loop workers for a fixed time, alternating the
// order of scenarios between runs, and prints one line per scenario:
//
//	scenario  req/s  p50_ms  p99_ms  ratio_vs_bare  ...
//
// Run it from the module root:
//
//	go run ./bench              # four to six minutes, the live measurement included
//	go run ./bench -big         # adds 1,000,000 other sessions (several more minutes)
//	go run ./bench -pin         # server on CPU 0, load generator on CPU 1 (Linux, taskset)
//	go run ./bench -live        # only the live-updates measurement (about a minute)
//	go run ./bench -flood       # only the sign-in flood (about 25 seconds)
//	go run ./bench -passkeys    # only passkey vs password sign-ins, and passkeys under a flood (about a minute)
//	go run ./bench -db postgres # only bbolt vs PostgreSQL and the cross-instance revoke window
//
// After the scenarios it measures live updates (live.go): 10,000 open
// event streams on one portal, their memory and idle CPU, and the time
// from a revoke's response to the revoked stream's end event, with the
// stream clients in a child process (each stream is a descriptor on both
// sides).
//
// With -db postgres (postgres.go) it runs instead the read and revoke
// scenarios on bbolt and on PostgreSQL side by side, and times how soon a
// revoke through one portal is refused by another on the same database.
//
// Besides the customer's Active Sessions page, it measures the partner
// console's pages (partner.go) for a partner of 10 and one of 1,000
// client accounts holding the same 1,000 users and 10,000 sessions.
//
// docs/benchmarks.md explains the scenarios, the flags and the last results.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"
)

// config is everything the flags decide.
type config struct {
	Workers    int
	Duration   time.Duration
	Warmup     time.Duration
	Runs       int
	Big        bool
	BigUsers   int
	BigPerUser int
	Dir        string
	SeedDir    string
	Log        string
	Flush      time.Duration
	RevokeRate int // expected revokes per second, to size the pools
	RevokeAll  int // revoke-all-99 users per run
	Pin        bool
	ServerCPUs string
	ClientCPUs string
	CPUProfile string
	ProfileOf  string
	MemProfile string
	Keep       bool
	Only       string
	Rate       float64 // open-loop requests per second; 0 is closed loop
	Hub        bool    // portals with the live-updates hub (issue 17)
	Live       liveConfig
	Flood      floodConfig
	Passkeys   passkeysConfig
	PG         pgConfig
}

// portal is how the scenarios' portals run.
func (c config) portal() portalOptions {
	return portalOptions{Flush: c.Flush, NoHub: !c.Hub, Pool: c.PG.Pool}
}

// loop says how the load generator paces requests.
func (c config) loop() string {
	if c.Rate > 0 {
		return fmt.Sprintf("open loop at %.0f req/s offered (latency from when each request was due)", c.Rate)
	}
	return "closed loop"
}

func main() {
	var cfg config
	flag.IntVar(&cfg.Workers, "c", 32, "concurrent closed-loop workers (connections)")
	flag.DurationVar(&cfg.Duration, "d", 3*time.Second, "duration of each timed run")
	flag.DurationVar(&cfg.Warmup, "warmup", time.Second, "untimed load before a read scenario's first run")
	flag.IntVar(&cfg.Runs, "runs", 2, "timed runs per scenario; odd runs go in list order, even runs in reverse")
	flag.BoolVar(&cfg.Big, "big", false, "also run auth-fragment-1M, list-100-1M and the partner-*-1M scenarios against a store with -big-users×-big-per-user other sessions")
	flag.IntVar(&cfg.BigUsers, "big-users", 100_000, "other users seeded for -big")
	flag.IntVar(&cfg.BigPerUser, "big-per-user", 10, "sessions per other user seeded for -big")
	flag.StringVar(&cfg.Dir, "dir", os.TempDir(), "where the databases under test live (their disk is what revokes fsync)")
	flag.StringVar(&cfg.SeedDir, "seed-dir", defaultSeedDir(), "where databases are seeded before being copied to -dir; a tmpfs makes seeding faster")
	flag.StringVar(&cfg.Log, "log", "text", "request log: text (formatted like production, written to io.Discard), discard (slog.DiscardHandler) or stderr")
	flag.DurationVar(&cfg.Flush, "flush-interval", 30*time.Second, "last-active flush interval (portal's -flush-interval)")
	flag.IntVar(&cfg.RevokeRate, "revoke-rate", 4000, "revoke-one requests per second to provision sessions for (the run ends early if they run out)")
	flag.IntVar(&cfg.RevokeAll, "revoke-all-users", 600, "users with 100 sessions provisioned per revoke-all-99 run (the run ends early if they run out)")
	flag.BoolVar(&cfg.Pin, "pin", false, "run the load generator in a child process and pin it and the server to different CPUs with taskset")
	flag.StringVar(&cfg.ServerCPUs, "server-cpus", "0", "with -pin: CPU list for the server process")
	flag.StringVar(&cfg.ClientCPUs, "client-cpus", "1", "with -pin: CPU list for the load generator process")
	flag.StringVar(&cfg.CPUProfile, "cpuprofile", "", "write a CPU profile of this process during one extra run of -profile (with -pin: the servers alone; with -passkeys: during the passkey sign-ins under the flood)")
	flag.StringVar(&cfg.ProfileOf, "profile", "auth-fragment", "scenario profiled by -cpuprofile")
	flag.StringVar(&cfg.MemProfile, "memprofile", "", "write heap profiles FILE.small and FILE.big at the heap measurements")
	flag.BoolVar(&cfg.Keep, "keep", false, "keep the databases (their directory is printed) instead of deleting them")
	flag.Float64Var(&cfg.Rate, "rate", 0, "open loop: offer this many requests per second in every timed run, latency counted from when each was due (0: closed loop)")
	flag.StringVar(&cfg.Only, "only", "", "comma-separated scenarios to run (bare always runs, for the ratio)")
	flag.BoolVar(&cfg.Hub, "hub", true, "serve live updates (/events, the store publishing to the hub) as the portal does; false measures the portals as before issue 17")
	flag.BoolVar(&cfg.Live.Only, "live", false, "run only the live-updates measurement (streams, heartbeats, revoke to end event)")
	flag.IntVar(&cfg.Live.Streams, "live-streams", 10_000, "live-updates streams to open on one portal, 10 per user (0 skips the live measurement)")
	flag.IntVar(&cfg.Live.Revokes, "live-revokes", 1000, "revokes timed in each condition of the live measurement (at most 5 per 10 streams)")
	flag.Float64Var(&cfg.Live.Rate, "live-revoke-rate", 100, "revokes per second offered in the live measurement (open loop; 200 saturates a 2-CPU machine with the streams open)")
	flag.DurationVar(&cfg.Live.Heartbeat, "live-heartbeat", 25*time.Second, "the live portal's heartbeat; the idle CPU is measured over one heartbeat interval")
	flag.StringVar(&cfg.PG.DB, "db", "bbolt", "bbolt: the scenarios above; postgres: only the PostgreSQL comparison (bbolt and PostgreSQL side by side, then the cross-instance revoke window) on a throwaway cluster of Debian's PostgreSQL, or on -pg-url")
	flag.StringVar(&cfg.PG.URL, "pg-url", "", "with -db postgres: a PostgreSQL database URL whose server the benchmark creates its databases on (needs CREATEDB; they are dropped at the end) instead of starting a cluster")
	flag.IntVar(&cfg.PG.Pool, "db-pool", 10, "with -db postgres: connections in each PostgreSQL portal's pool (portal's -db-pool)")
	flag.IntVar(&cfg.PG.Revokes, "window-revokes", 1000, "with -db postgres: revokes timed for the cross-instance window")
	flag.BoolVar(&cfg.Flood.Only, "flood", false, "run only the sign-in flood (issue 23): unknown-email sign-ins from random /24s while a real user signs in")
	flag.IntVar(&cfg.Flood.Flooders, "flood-clients", 40, "with -flood: clients flooding sign-ins in parallel")
	flag.DurationVar(&cfg.Flood.Duration, "flood-d", 10*time.Second, "with -flood: how long the flood (and the baseline before it) lasts")
	flag.DurationVar(&cfg.Flood.Every, "flood-every", 300*time.Millisecond, "with -flood: how often the real user signs in")
	flag.BoolVar(&cfg.Passkeys.Only, "passkeys", false, "run only the passkey benchmark: password vs passkey sign-ins per second, then passkey sign-ins under a password flood (about a minute)")
	flag.IntVar(&cfg.Passkeys.Users, "passkeys-users", 100, "with -passkeys: users who add a passkey in Settings and sign in (at least -passkeys-c)")
	flag.IntVar(&cfg.Passkeys.Workers, "passkeys-c", 8, "with -passkeys: closed-loop workers of each measurement, each from its own /24")
	flag.DurationVar(&cfg.Passkeys.Duration, "passkeys-d", 10*time.Second, "with -passkeys: duration of each measurement")
	flag.DurationVar(&cfg.Passkeys.Warmup, "passkeys-warmup", 2*time.Second, "with -passkeys: untimed sign-ins before each measurement")
	flag.Float64Var(&cfg.Passkeys.FloodRate, "passkeys-flood-rate", 0, "with -passkeys: the flood's password sign-ins a second in all; 0: -passkeys-flood-times the password sign-ins a second just measured; negative: unpaced, each client as fast as answers come")
	flag.Float64Var(&cfg.Passkeys.FloodTimes, "passkeys-flood-times", 10, "with -passkeys and -passkeys-flood-rate 0: the flood's pace as a multiple of the password sign-ins a second measured")
	flag.IntVar(&cfg.Passkeys.Flooders, "passkeys-flood", 40, "with -passkeys: clients flooding password sign-ins (known emails, wrong passwords, random /24s) during the third measurement")
	flag.StringVar(&cfg.Passkeys.FloodKind, "passkeys-flood-emails", "known", "with -passkeys: the flood's emails: known (other users', each guess a full password check) or unknown (no account, as -flood)")
	flag.IntVar(&cfg.Passkeys.FloodUsers, "passkeys-flood-users", 500, "with -passkeys: known users the flood guesses passwords for")
	liveClient := flag.Bool("live-client", false, "internal: act as the live measurement's stream clients, reading commands on stdin")
	loadgen := flag.Bool("loadgen", false, "internal: act as the -pin load generator, reading plans on stdin")
	heapOnly := flag.Bool("heap-child", false, "internal: measure one store's heap use, reading the job on stdin")
	flag.Parse()

	if *heapOnly {
		if err := heapChild(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "bench heap-child:", err)
			os.Exit(1)
		}
		return
	}
	if *liveClient {
		if err := serveLiveClient(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "bench live-client:", err)
			os.Exit(1)
		}
		return
	}
	if *loadgen {
		if err := serveLoadgen(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "bench loadgen:", err)
			os.Exit(1)
		}
		return
	}
	if cfg.Flood.Only {
		if err := runFlood(cfg, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if cfg.Passkeys.Only {
		if _, err := runPasskeys(cfg, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if cfg.Pin && os.Getenv(roleEnv) == "" {
		os.Exit(reexecPinned(cfg))
	}
	if err := run(cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// defaultSeedDir is /dev/shm when it is there (Linux's tmpfs), else the
// temporary directory.
func defaultSeedDir() string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		return "/dev/shm"
	}
	return os.TempDir()
}
